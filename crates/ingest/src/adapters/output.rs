//! The output directory: buffered CSV writers that count their rows, and the sink for bad
//! input lines.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::ConvertError;

/// How many rejections a report carries for display; all are in the file.
const REPORTED: usize = 20;

/// One bad input line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    /// The input file's name.
    pub file: String,
    /// Its line, the header being line 1.
    pub line: u64,
    /// The input column at fault, when one is.
    pub field: Option<String>,
    pub reason: String,
    /// The line's fields as read, joined by commas.
    pub original: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: ", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, "`{field}` ")?;
        }
        f.write_str(&self.reason)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenFile {
    /// Relative to the output directory (`labels/flows.csv`).
    pub name: String,
    pub rows: u64,
}

/// A CSV file being written, with its row count.
pub struct Sheet {
    name: String,
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl Sheet {
    pub fn create(out: &Path, name: &str, header: &[&str]) -> Result<Sheet, ConvertError> {
        let path = out.join(name);
        let write = |source| ConvertError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let file = File::create(&path).map_err(write)?;
        let mut sheet = Sheet {
            name: name.to_owned(),
            path: path.clone(),
            writer: csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file)),
            rows: 0,
        };
        sheet
            .writer
            .write_record(header)
            .map_err(|e| csv_write(&path, e))?;
        Ok(sheet)
    }

    pub fn row<I, T>(&mut self, fields: I) -> Result<(), ConvertError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .map_err(|e| csv_write(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<WrittenFile, ConvertError> {
        self.writer.flush().map_err(|source| ConvertError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(WrittenFile {
            name: self.name,
            rows: self.rows,
        })
    }
}

fn csv_write(path: &Path, e: csv::Error) -> ConvertError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    ConvertError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Bad input lines: every one to `convert/rejections.csv`, the first few kept for display.
pub struct Rejections {
    sheet: Sheet,
    pub count: u64,
    pub first: Vec<LineError>,
}

impl Rejections {
    pub fn create(out: &Path) -> Result<Rejections, ConvertError> {
        Ok(Rejections {
            sheet: Sheet::create(
                out,
                "convert/rejections.csv",
                &["file", "line", "field", "reason", "original"],
            )?,
            count: 0,
            first: Vec::new(),
        })
    }

    pub fn push(&mut self, e: LineError) -> Result<(), ConvertError> {
        tracing::debug!(file = %e.file, line = e.line, field = ?e.field, reason = %e.reason, "input line skipped");
        let line = e.line.to_string();
        self.sheet.row([
            e.file.as_str(),
            line.as_str(),
            e.field.as_deref().unwrap_or_default(),
            e.reason.as_str(),
            e.original.as_str(),
        ])?;
        self.count += 1;
        if self.first.len() < REPORTED {
            self.first.push(e);
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(u64, Vec<LineError>, WrittenFile), ConvertError> {
        let file = self.sheet.finish()?;
        Ok((self.count, self.first, file))
    }
}

/// The fields of a raw record as text, for the `original` column.
pub fn original(rec: &csv::ByteRecord) -> String {
    let parts: Vec<String> = rec
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    parts.join(",")
}
