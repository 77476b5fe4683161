//! Fanzha's ingest: sources → parse → store.
//!
//! Every kind of DATA.md arrives as CSV (UTF-8 or GBK), JSON lines or XLSX; bank
//! statements (调单) arrive as workbooks and are mapped by a [`statement::Profile`].
//! Each record is parsed into its stored layout or rejected with file, line, field and reason;
//! good records and rejections go to the store together in batches, each committed
//! atomically. Re-ingesting a file stores nothing new, and rerunning a killed ingest
//! completes it without duplicates.
//!
//! Parsing runs on its own thread and hands batches to the writer through a small bounded
//! channel, so reading a file and committing the previous batch overlap.

pub mod adapters;
mod error;
pub mod grid;
mod kinds;
mod record;
pub mod source;
pub mod statement;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fanzha_core::schema::Kind;
use fanzha_store::{Batch, BatchOutcome, Item, Origin, Rejection, Store};

pub use error::FileError;
pub use source::Encoding;

use record::{FieldError, Layout, LayoutError, Record};
use source::{CsvSource, JsonlSource};

/// Receives progress as a file is read.
pub trait Progress: Send + Sync {
    /// A file of `total` bytes starts.
    fn start(&self, file: &str, total: u64);
    /// `done` bytes of it are read.
    fn advance(&self, done: u64);
    fn finish(&self);
    /// `batches` batches of the file are committed. A caller may stop the process here to
    /// test that a killed ingest loses nothing committed.
    fn committed(&self, _batches: u64) {}
}

/// A progress sink that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Kind(Kind),
    /// A bank statement (调单), read through a profile.
    Statement,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "statement" || s == "statements" {
            return Ok(Target::Statement);
        }
        s.parse::<Kind>()
            .map(Target::Kind)
            .map_err(|e| format!("{e}, or statement"))
    }
}

pub struct IngestOptions {
    /// What the files hold; by default told from each file's stem.
    pub target: Option<Target>,
    /// The CSV encoding; by default detected.
    pub encoding: Option<Encoding>,
    /// Records per committed batch.
    pub batch_size: usize,
    /// A statement profile: a bundled profile's name or a TOML file's path.
    pub profile: Option<String>,
    pub progress: Arc<dyn Progress>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            target: None,
            encoding: None,
            batch_size: 50_000,
            profile: None,
            progress: Arc::new(NoProgress),
        }
    }
}

/// What ingesting one file did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub file: String,
    /// The kind stored (`statement` files store transactions).
    pub kind: String,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The first rejections, for the summary; all of them are in the quarantine.
    pub first_rejections: Vec<Rejection>,
    /// Seconds spent building the server's read indexes at the end of a first load into an
    /// empty table (part of the file's time; none when the table already had rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_indexes_secs: Option<f64>,
}

/// How many rejections a report carries for display.
const REPORTED_REJECTIONS: usize = 20;

impl FileReport {
    pub(crate) fn new(file: &str, kind: &str) -> Self {
        FileReport {
            file: file.to_owned(),
            kind: kind.to_owned(),
            inserted: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            first_rejections: Vec::new(),
            read_indexes_secs: None,
        }
    }

    pub(crate) fn note_rejections<'a>(&mut self, rs: impl IntoIterator<Item = &'a Rejection>) {
        let room = REPORTED_REJECTIONS.saturating_sub(self.first_rejections.len());
        self.first_rejections
            .extend(rs.into_iter().take(room).cloned());
    }

    pub(crate) fn absorb(&mut self, o: BatchOutcome) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.rejected += o.rejected;
        self.note_rejections(&o.conflicts);
    }
}

/// The name a file goes by in the quarantine: its canonical path, so the same file
/// ingested again from another working directory is recognised.
pub fn file_id(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Tells what a file holds from the options or its name.
pub fn target_of(path: &Path, opts: &IngestOptions) -> Result<Target, FileError> {
    if let Some(t) = opts.target {
        return Ok(t);
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    match stem.parse::<Kind>() {
        Ok(k) => Ok(Target::Kind(k)),
        Err(_) if opts.profile.is_some() || is_workbook(path) => Ok(Target::Statement),
        Err(e) => Err(FileError::UnknownKind {
            path: path.to_owned(),
            stem: stem.to_owned(),
            detail: e.to_string(),
        }),
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_workbook(path: &Path) -> bool {
    matches!(extension(path).as_str(), "xlsx" | "xlsm" | "xls" | "ods")
}

/// Ingests one file into the store.
pub async fn ingest_file(
    store: &Arc<dyn Store>,
    path: &Path,
    opts: &IngestOptions,
) -> Result<FileReport, FileError> {
    let kind = match target_of(path, opts)? {
        Target::Statement => return statement::ingest(store, path, opts).await,
        Target::Kind(k) => k,
    };
    let file = file_id(path);
    let io = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let total = std::fs::metadata(path).map_err(io)?.len();
    opts.progress.start(&file, total);
    let producer: Producer = match extension(path).as_str() {
        "csv" | "txt" | "tsv" => {
            let f = File::open(path).map_err(io)?;
            let mut reader = BufReader::with_capacity(1 << 20, f);
            let encoding = match opts.encoding {
                Some(e) => e,
                None => Encoding::detect(reader.fill_buf().map_err(io)?),
            };
            let src = match CsvSource::new(reader, encoding) {
                Ok(Some(s)) => s,
                Ok(None) => {
                    return Err(FileError::Empty {
                        path: path.to_owned(),
                    })
                }
                Err(reason) => {
                    return Err(FileError::BadHeader {
                        path: path.to_owned(),
                        reason,
                    })
                }
            };
            let layout = layout(kind, &src.header, path)?;
            Box::new(move |emit: &mut Emit<'_>| produce_csv(src, &layout, emit))
        }
        "jsonl" | "ndjson" | "json" => {
            let f = File::open(path).map_err(io)?;
            let src = JsonlSource::new(BufReader::with_capacity(1 << 20, f), kind);
            let path = path.to_path_buf();
            Box::new(move |emit: &mut Emit<'_>| produce_jsonl(src, kind, &path, emit))
        }
        _ if is_workbook(path) => {
            let owned = path.to_path_buf();
            let sheets = tokio::task::spawn_blocking(move || grid::read_workbook(&owned))
                .await
                .map_err(|e| FileError::Internal {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?
                .map_err(|reason| FileError::Statement {
                    path: path.to_owned(),
                    reason,
                })?;
            let tables = sheet_tables(kind, sheets, path)?;
            let file: Arc<str> = file.as_str().into();
            Box::new(move |emit: &mut Emit<'_>| {
                for (sheet, header_at, layout) in &tables {
                    // Rows of every sheet are named `path#sheet`, as statements' are.
                    emit.file = format!("{file}#{}", sheet.name).into();
                    produce_sheet(sheet, *header_at, layout, emit);
                }
            })
        }
        ext => {
            return Err(FileError::UnsupportedFormat {
                path: path.to_owned(),
                ext: ext.to_owned(),
            })
        }
    };
    let report = run(store, kind, path, file, opts, producer).await?;
    opts.progress.finish();
    Ok(report)
}

/// The sheets of a workbook that hold a table of `kind`: each with its header row and layout.
/// A sheet naming none of the kind's fields (a cover or notes sheet) is passed over; one that
/// names some but lacks a required column makes the file unusable, as in CSV.
fn sheet_tables(
    kind: Kind,
    sheets: Vec<grid::Sheet>,
    path: &Path,
) -> Result<Vec<(grid::Sheet, usize, Layout)>, FileError> {
    let schema = kind.schema();
    let mut tables = Vec::new();
    for sheet in sheets {
        let Some(header_at) = sheet
            .rows
            .iter()
            .position(|r| r.iter().any(|c| !c.is_empty()))
        else {
            continue;
        };
        let header: Vec<String> = sheet.rows[header_at].iter().map(grid::Cell::text).collect();
        if !header.iter().any(|h| schema.is_known_field(h)) {
            tracing::warn!(sheet = %fanzha_core::mask::digits_in_text(&sheet.name), kind = %kind, "sheet has no column of this kind; skipped");
            continue;
        }
        let sheet_path = PathBuf::from(format!("{}#{}", path.display(), sheet.name));
        let layout = layout(kind, &header, &sheet_path)?;
        tables.push((sheet, header_at, layout));
    }
    if tables.is_empty() {
        return Err(FileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(tables)
}

fn layout(kind: Kind, header: &[String], path: &Path) -> Result<Layout, FileError> {
    Layout::new(kind, header).map_err(|e| match e {
        LayoutError::Missing(columns) => FileError::MissingColumns {
            path: path.to_owned(),
            columns,
        },
        LayoutError::Repeated(c) => FileError::BadHeader {
            path: path.to_owned(),
            reason: format!("column `{c}` appears twice"),
        },
    })
}

/// Hands parsed records to the writer. `push` returns false once the writer has stopped
/// (a store failure), and the producer then stops reading.
pub(crate) struct Emit<'a> {
    kind: Kind,
    file: Arc<str>,
    batch: Batch,
    batch_size: usize,
    tx: &'a tokio::sync::mpsc::Sender<Batch>,
    progress: &'a dyn Progress,
    open: bool,
}

impl Emit<'_> {
    fn item(
        &mut self,
        line: u64,
        original: Vec<u8>,
        parsed: Result<fanzha_core::schema::Row, FieldError>,
    ) {
        let origin = Origin {
            file: Arc::clone(&self.file),
            line,
            original,
        };
        match parsed {
            Ok(row) => self.batch.items.push(Item { row, origin }),
            Err(e) => self.batch.rejections.push(Rejection {
                origin,
                kind: self.kind.as_str().to_owned(),
                field: e.field,
                reason: e.reason,
            }),
        }
    }

    fn reject(&mut self, r: source::ReadReject) {
        self.item(
            r.line,
            r.original,
            Err(FieldError {
                field: r.field,
                reason: r.reason,
            }),
        );
    }

    fn maybe_flush(&mut self, position: u64) {
        if self.batch.items.len() + self.batch.rejections.len() >= self.batch_size {
            self.flush();
            self.progress.advance(position);
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() || !self.open {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Batch::new(self.kind));
        self.open = self.tx.blocking_send(batch).is_ok();
    }
}

type Producer = Box<dyn FnOnce(&mut Emit<'_>) + Send>;

fn produce_csv<R: std::io::Read>(mut src: CsvSource<R>, layout: &Layout, emit: &mut Emit<'_>) {
    while emit.open {
        let Some(next) = src.next_record() else { break };
        match next {
            Ok(raw) => {
                let parsed = Record::new(layout, raw.fields)
                    .and_then(|mut r| kinds::parse(emit.kind, &mut r));
                emit.item(raw.line, raw.original, parsed);
            }
            Err(r) => emit.reject(r),
        }
        emit.maybe_flush(src.position());
    }
}

fn produce_jsonl<R: BufRead>(
    mut src: JsonlSource<R>,
    kind: Kind,
    path: &Path,
    emit: &mut Emit<'_>,
) {
    while emit.open {
        let Some(next) = src.next_object() else { break };
        match next {
            Err(e) => {
                // An I/O error mid-file: what was read is committed; the rest cannot be.
                tracing::error!(file = %fanzha_core::mask::digits_in_text(&path.display().to_string()), error = %e, "read failed");
                emit.reject(source::ReadReject {
                    line: src.line + 1,
                    original: Vec::new(),
                    field: None,
                    reason: format!("the file could not be read past here: {e}"),
                });
                break;
            }
            Ok(Err(r)) => emit.reject(r),
            Ok(Ok((line, original, pairs))) => {
                let (header, values): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
                let parsed = match Layout::new(kind, &header) {
                    Ok(layout) => {
                        Record::new(&layout, values).and_then(|mut r| kinds::parse(kind, &mut r))
                    }
                    Err(LayoutError::Missing(cols)) => Err(FieldError {
                        field: cols.first().cloned(),
                        reason: format!(
                            "lacks required field{} {}",
                            if cols.len() > 1 { "s" } else { "" },
                            cols.join(", ")
                        ),
                    }),
                    Err(LayoutError::Repeated(c)) => Err(FieldError::new(&c, "appears twice")),
                };
                emit.item(line, original, parsed);
            }
        }
        emit.maybe_flush(src.position);
    }
}

fn produce_sheet(sheet: &grid::Sheet, header_at: usize, layout: &Layout, emit: &mut Emit<'_>) {
    for i in header_at + 1..sheet.rows.len() {
        if !emit.open {
            break;
        }
        let row = &sheet.rows[i];
        if row.iter().all(grid::Cell::is_empty) {
            continue;
        }
        let mut fields: Vec<String> = row.iter().map(grid::Cell::exact_text).collect();
        let original = grid::fields_as_csv(&fields);
        fields.resize(sheet.rows[header_at].len().max(fields.len()), String::new());
        let inexact = row.iter().position(grid::Cell::is_inexact_number);
        let parsed = match inexact {
            // Excel keeps 15 significant digits: a card or id typed as a number has already
            // lost its last digits, and storing what is left would name the wrong account.
            Some(col) => Err(FieldError {
                field: sheet.rows[header_at].get(col).map(grid::Cell::text),
                reason: format!(
                    "`{}` is a number too long for a spreadsheet to hold exactly; store identifiers as text",
                    fields[col]
                ),
            }),
            None => Record::new(layout, fields).and_then(|mut r| kinds::parse(emit.kind, &mut r)),
        };
        emit.item(sheet.line_of(i), original, parsed);
        emit.maybe_flush(0);
    }
}

/// Runs a producer on a blocking thread and commits what it emits, batch by batch.
async fn run(
    store: &Arc<dyn Store>,
    kind: Kind,
    path: &Path,
    file: String,
    opts: &IngestOptions,
    producer: Producer,
) -> Result<FileReport, FileError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let progress = Arc::clone(&opts.progress);
    let batch_size = opts.batch_size.max(1);
    let file_for_producer: Arc<str> = file.as_str().into();
    let producer = tokio::task::spawn_blocking(move || {
        let mut emit = Emit {
            kind,
            file: file_for_producer,
            batch: Batch::new(kind),
            batch_size,
            tx: &tx,
            progress: progress.as_ref(),
            open: true,
        };
        producer(&mut emit);
        emit.flush();
    });
    let mut report = FileReport::new(&file, kind.as_str());
    let mut failure = None;
    let mut committed = 0;
    // A first load into an empty table builds the server's read indexes once, at its end,
    // instead of row by row (several times slower).
    let deferred = match store.defer_read_indexes(kind).await {
        Ok(d) => d,
        Err(e) => {
            failure = Some(e);
            false
        }
    };
    while let Some(batch) = rx.recv().await {
        if failure.is_some() {
            break;
        }
        report.note_rejections(&batch.rejections);
        match store.write_batch(batch).await {
            Ok(o) => {
                report.absorb(o);
                committed += 1;
                opts.progress.committed(committed);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(rx);
    // Also after a failure: the indexes must not stay missing.
    let building = std::time::Instant::now();
    if let Err(e) = store.build_read_indexes(kind).await {
        failure.get_or_insert(e);
    }
    if deferred {
        report.read_indexes_secs = Some(building.elapsed().as_secs_f64());
    }
    // The producer ends on its own once the channel is closed.
    let parsed = producer.await;
    if let Some(e) = failure {
        return Err(FileError::Store {
            path: path.to_owned(),
            source: e,
        });
    }
    // A parser that died part-way must not pass for a file read to its end.
    parsed.map_err(|e| FileError::Internal {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(report)
}

/// Extensions of the files a directory is searched for.
const DATA_EXTENSIONS: &[&str] = &[
    "csv", "tsv", "txt", "jsonl", "ndjson", "json", "xlsx", "xlsm", "xls", "ods",
];

/// Paths of the files to ingest: files as given, directories expanded to the data files in
/// them (sorted, for a stable order; READMEs and scripts beside the data are left alone).
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && DATA_EXTENSIONS.contains(&extension(p).as_str()))
                        .collect()
                })
                .unwrap_or_default();
            inner.sort();
            out.extend(inner);
        } else {
            out.push(p.clone());
        }
    }
    out
}
