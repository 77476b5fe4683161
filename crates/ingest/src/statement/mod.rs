//! Bank statements (调单) read through column-mapping profiles into transactions.
//!
//! A statement is a workbook (or a CSV file) that a bank returns for one or more accounts:
//! per sheet, a header block of labelled values (账号, 户名, 开户行, 查询期间) above a table of
//! transactions seen from that account. Every bank names and formats these differently, so
//! a [`Profile`] lists the names and styles, and the table is found by its names rather than
//! its position: the first row holding enough known column names is the header row.
//!
//! Each row becomes one transfer: money out of the statement's account (借) runs from it to
//! the counterparty, money in (贷) the other way. A transfer between two accounts whose
//! statements are both requested appears twice, once in each; it is stored once, matched on
//! the shared serial number (流水号) or, without one, on both accounts, the amount and a time
//! within the profile's window. Matching looks at what is already stored (earlier files and
//! runs) and at what this file has read so far, so the order in which the two statements
//! arrive does not matter. A serial seen again with the same accounts and amount but a time
//! further apart than the window is a reused serial (many banks restart them daily): the row
//! is stored as a distinct transfer (see [`matching`]).
//!
//! A row is skipped as a totals row (合计, 本页小计…) only when one of its first cells is
//! exactly a totals marker and it has no readable date; a memo that merely contains a marker
//! (`工资汇总代发`) is a transfer like any other.
//!
//! The statement's own account is checked by its label: under a card label or column (a name
//! with 卡 and without 账: 卡号, 查询卡号, 本方卡号) it must be a card number passing the Luhn
//! check, while account labels (账号, 账号/卡号) take passbook and corporate numbers, which have
//! no check digit. Counterparties are never rejected for their form. Control characters in
//! the sheet's name or header block (PostgreSQL text cannot hold NUL) make the sheet unusable,
//! so both stores accept exactly the same sheets.
//!
//! Bad rows are quarantined with the column and the reason while the good ones are stored; a
//! sheet whose table lacks a required column, or whose header block is unusable, is reported
//! as one rejection, and a file with no usable sheet at all is an error naming what was
//! looked for.

mod matching;
pub mod profile;
mod table;
mod values;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::{account_form, mask, shanghai_local, CardNumber};
use fanzha_store::{Batch, Item, Origin, Rejection, Store};
use sha2::{Digest, Sha256};

use crate::grid::{Cell, Sheet};
use crate::{FileError, FileReport, IngestOptions, Progress};

pub use profile::Profile;

use matching::{Matcher, Side, Verdict};
use table::{ColumnNames, Columns, Field, Found, HeaderBlock};
use values::When;

/// Ingests one statement file: every sheet with a recognisable table.
pub async fn ingest(
    store: &Arc<dyn Store>,
    path: &Path,
    opts: &IngestOptions,
) -> Result<FileReport, FileError> {
    let profile = match opts.profile.as_deref() {
        Some(p) => Profile::load(p),
        None => Profile::default_bundled(),
    }
    .map_err(|reason| FileError::Profile {
        path: path.to_owned(),
        reason,
    })?;
    let file = crate::file_id(path);
    let total = std::fs::metadata(path)
        .map_err(|source| FileError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    let sheets = read_sheets(path, opts).await?;
    opts.progress.start(&file, total);

    let names = ColumnNames::new(&profile);
    let mut usable = Vec::new();
    let mut unusable: Vec<(usize, usize, Unusable)> = Vec::new();
    let mut without_table = Vec::new();
    for (s, sheet) in sheets.iter().enumerate() {
        match table::find_table(sheet, &profile, &names) {
            Found::NoTable => {
                if sheet.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
                    tracing::warn!(file = %mask::digits_in_text(&file), sheet = %mask::digits_in_text(&sheet.name), profile = %profile.name, "no statement table in this sheet; skipped");
                }
                without_table.push(printable(&sheet.name));
            }
            Found::Table {
                header_at,
                columns,
                block,
            } => match Plan::new(sheet, header_at, columns, block, &profile) {
                Ok(plan) => usable.push((s, plan)),
                Err(u) => {
                    tracing::warn!(file = %mask::digits_in_text(&file), sheet = %mask::digits_in_text(&sheet.name), reason = %u.reason, "statement table unusable; sheet skipped");
                    unusable.push((s, header_at, u));
                }
            },
        }
    }
    if usable.is_empty() {
        let mut parts: Vec<String> = unusable
            .iter()
            .filter_map(|(s, header_at, u)| {
                let sheet = sheets.get(*s)?;
                Some(format!(
                    "sheet `{}`, header row {}: {}",
                    printable(&sheet.name),
                    sheet.line_of(*header_at),
                    u.reason
                ))
            })
            .collect();
        if !without_table.is_empty() {
            parts.push(format!(
                "no statement table in sheet{} {}: looked for a row with at least {} of the column names profile `{}` knows ({})",
                if without_table.len() > 1 { "s" } else { "" },
                without_table.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                profile.header_min_columns,
                profile.name,
                known_names_sample(&profile),
            ));
        }
        if parts.is_empty() {
            parts.push("the file has no sheets".to_owned());
        }
        return Err(FileError::Statement {
            path: path.to_owned(),
            reason: parts.join("; "),
        });
    }

    let mut report = FileReport::new(&file, "transactions");
    let mut writer = Writer {
        store,
        path,
        batch: Batch::new(Kind::Transactions),
        batch_size: opts.batch_size.max(1),
        progress: opts.progress.as_ref(),
        committed: 0,
    };
    for (s, header_at, u) in &unusable {
        let Some(sheet) = sheets.get(*s) else {
            continue;
        };
        writer.batch.rejections.push(Rejection {
            origin: Origin {
                file: format!("{file}#{}", printable(&sheet.name)).into(),
                line: sheet.line_of(*header_at),
                original: sheet.row_as_csv(*header_at),
            },
            kind: Kind::Transactions.as_str().to_owned(),
            field: Some(u.field.clone()),
            reason: format!(
                "sheet `{}` is not used: {}",
                printable(&sheet.name),
                u.reason
            ),
        });
    }

    let mut matcher = Matcher::new(profile.match_window_secs.saturating_mul(1_000_000));
    let n_sheets = usable.len() as u64;
    for (done, (s, plan)) in usable.iter().enumerate() {
        let Some(sheet) = sheets.get(*s) else {
            continue;
        };
        // One shared name for every row of the sheet.
        let origin_file: Arc<str> = format!("{file}#{}", printable(&sheet.name)).into();
        let mut occurrences: HashMap<String, u32> = HashMap::new();
        let mut txs = Vec::new();
        let (mut totals, mut notes) = (0u64, 0u64);
        for i in plan.header_at + 1..sheet.rows.len() {
            match plan.parse_row(sheet, i, &profile, &names, &mut occurrences) {
                Parsed::Skip(Skipped::Totals) => totals += 1,
                Parsed::Skip(Skipped::Note) => notes += 1,
                Parsed::Skip(Skipped::Blank | Skipped::Header) => {}
                Parsed::Reject { field, reason } => writer.batch.rejections.push(Rejection {
                    origin: Origin {
                        file: Arc::clone(&origin_file),
                        line: sheet.line_of(i),
                        original: sheet.row_as_csv(i),
                    },
                    kind: Kind::Transactions.as_str().to_owned(),
                    field,
                    reason,
                }),
                Parsed::Tx(tx) => txs.push((i, tx)),
            }
        }
        if totals + notes > 0 {
            tracing::debug!(file = %mask::digits_in_text(&file), sheet = %mask::digits_in_text(&sheet.name), totals, notes, "rows skipped as totals or notes");
        }
        let ids: Vec<String> = txs.iter().map(|(_, t)| t.tx_id.clone()).collect();
        let stored = lookup_ids(store, &ids)
            .await
            .map_err(|source| FileError::Store {
                path: path.to_owned(),
                source,
            })?;
        for (i, mut tx) in txs {
            let verdict = matcher
                .judge(store, &mut tx, &stored)
                .await
                .map_err(|source| FileError::Store {
                    path: path.to_owned(),
                    source,
                })?;
            match verdict {
                Verdict::SameTransfer => report.unchanged += 1,
                // A conflict goes to the store, which quarantines it with the stored values.
                Verdict::New | Verdict::Conflict => {
                    if verdict == Verdict::New {
                        matcher.remember(&tx);
                    }
                    writer.batch.items.push(Item {
                        row: tx.row,
                        origin: Origin {
                            file: Arc::clone(&origin_file),
                            line: sheet.line_of(i),
                            original: sheet.row_as_csv(i),
                        },
                    });
                }
            }
            writer.maybe_flush(&mut report).await?;
        }
        writer.flush(&mut report).await?;
        opts.progress
            .advance(total.saturating_mul(done as u64 + 1) / n_sheets.max(1));
    }
    writer.flush(&mut report).await?;
    opts.progress.finish();
    Ok(report)
}

/// A sample of the column names the profile knows, for messages.
fn known_names_sample(profile: &Profile) -> String {
    let c = &profile.columns;
    let mut names: Vec<&str> = Vec::new();
    for list in [
        &c.date,
        &c.time,
        &c.amount,
        &c.direction,
        &c.counterparty_account,
        &c.balance,
        &c.memo,
        &c.serial,
    ] {
        names.extend(list.iter().take(2).map(String::as_str));
    }
    format!("{}, …", names.join(", "))
}

/// Commits batches and adds their outcomes to the report.
struct Writer<'a> {
    store: &'a Arc<dyn Store>,
    path: &'a Path,
    batch: Batch,
    batch_size: usize,
    progress: &'a dyn Progress,
    /// Batches of this file committed so far.
    committed: u64,
}

impl Writer<'_> {
    async fn maybe_flush(&mut self, report: &mut FileReport) -> Result<(), FileError> {
        if self.batch.items.len() + self.batch.rejections.len() >= self.batch_size {
            self.flush(report).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, report: &mut FileReport) -> Result<(), FileError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Batch::new(Kind::Transactions));
        report.note_rejections(&batch.rejections);
        let outcome = self
            .store
            .write_batch(batch)
            .await
            .map_err(|source| FileError::Store {
                path: self.path.to_owned(),
                source,
            })?;
        report.absorb(outcome);
        // What the CLI's kill-and-rerun fault injection waits for, as for every other kind.
        self.committed += 1;
        self.progress.committed(self.committed);
        Ok(())
    }
}

/// Stored transfers with these ids, by id.
async fn lookup_ids(
    store: &Arc<dyn Store>,
    ids: &[String],
) -> Result<HashMap<String, fanzha_store::TransferCore>, fanzha_store::StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for t in store.transfers_by_id(chunk).await? {
            out.insert(t.tx_id.clone(), t);
        }
    }
    Ok(out)
}

/// The sheets of a workbook, or a CSV file as one sheet.
async fn read_sheets(path: &Path, opts: &IngestOptions) -> Result<Vec<Sheet>, FileError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let statement_err = |reason: String| FileError::Statement {
        path: path.to_owned(),
        reason,
    };
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => {
            let p = path.to_owned();
            // calamine reads and unzips synchronously; keep that off the async workers.
            tokio::task::spawn_blocking(move || crate::grid::read_workbook(&p))
                .await
                .map_err(|e| statement_err(format!("reading the workbook failed: {e}")))?
                .map_err(statement_err)
        }
        "csv" | "txt" => {
            let bytes = std::fs::read(path).map_err(|source| FileError::Io {
                path: path.to_owned(),
                source,
            })?;
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let encoding = opts
                .encoding
                .unwrap_or_else(|| crate::Encoding::detect(bytes));
            let text = encoding.decode(bytes).ok_or_else(|| {
                statement_err(format!("the file is not valid {} text", encoding.as_str()))
            })?;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("csv");
            let sheet = crate::grid::csv_as_sheet(name, &text)
                .map_err(|e| statement_err(format!("not readable as CSV: {e}")))?;
            Ok(vec![sheet])
        }
        other => Err(FileError::UnsupportedFormat {
            path: path.to_owned(),
            ext: other.to_owned(),
        }),
    }
}

/// Why a found table cannot be read: the column to blame and the reason.
struct Unusable {
    field: String,
    reason: String,
}

/// How amounts and directions are read from a table.
enum Amounts {
    /// An amount column and a flag column (the amount's sign is ignored).
    Flagged,
    /// An amount column, negative meaning money out.
    Signed,
    /// Separate money-out and money-in columns (either may be absent).
    Split {
        debit: Option<usize>,
        credit: Option<usize>,
    },
}

/// How timestamps are read from a table.
enum Times {
    /// One column with date and time (a time column, if any, completes a date-only value).
    DateTime,
    /// A date column and perhaps a time column.
    Date,
}

/// A usable table: where everything is and whose statement it is.
struct Plan {
    header_at: usize,
    columns: Columns,
    block: HeaderBlock,
    amounts: Amounts,
    times: Times,
    /// The statement's account from the header block or the sheet's name.
    owner: Option<String>,
}

impl Plan {
    fn new(
        sheet: &Sheet,
        header_at: usize,
        columns: Columns,
        block: HeaderBlock,
        profile: &Profile,
    ) -> Result<Plan, Unusable> {
        let first = |list: &[String]| list.first().cloned().unwrap_or_default();
        let sample = |list: &[String]| list.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
        let c = &profile.columns;
        check_header_text(sheet, &block, profile)?;
        let mut missing: Vec<(String, String)> = Vec::new();

        let amount = columns.get(Field::Amount);
        let (debit, credit) = (columns.get(Field::Debit), columns.get(Field::Credit));
        let flag = columns.get(Field::Direction);
        let amounts = match (amount, flag) {
            (Some(_), Some(_)) => Some(Amounts::Flagged),
            _ if debit.is_some() || credit.is_some() => Some(Amounts::Split { debit, credit }),
            (Some(_), None) if profile.signed_amounts => Some(Amounts::Signed),
            (Some(_), None) => {
                missing.push((
                    first(&c.direction),
                    format!(
                        "no direction column ({}) and the profile does not read signed amounts (signed_amounts = false)",
                        sample(&c.direction)
                    ),
                ));
                None
            }
            (None, _) => {
                missing.push((
                    first(&c.amount),
                    format!(
                        "no amount column ({}), nor separate debit/credit columns ({} / {})",
                        sample(&c.amount),
                        sample(&c.debit),
                        sample(&c.credit)
                    ),
                ));
                None
            }
        };
        let times = match (columns.get(Field::DateTime), columns.get(Field::Date)) {
            (Some(_), _) => Some(Times::DateTime),
            (None, Some(_)) => Some(Times::Date),
            (None, None) => {
                missing.push((
                    first(&c.date),
                    format!(
                        "no date column ({}) nor date-time column ({})",
                        sample(&c.date),
                        sample(&c.datetime)
                    ),
                ));
                None
            }
        };
        let from_block = block
            .account
            .clone()
            .map(|a| clean_text(a, profile))
            .filter(|a| !a.is_empty());
        if let (Some(account), Some(label)) = (&from_block, &block.account_label) {
            if is_card_name(label) {
                if let Err(e) = CardNumber::parse(account) {
                    return Err(Unusable {
                        field: label.clone(),
                        reason: format!(
                            "the header block's `{label}` is a card label, and `{account}` is not a card number: {e}"
                        ),
                    });
                }
            }
        }
        let owner = from_block.or_else(|| account_like(&sheet.name));
        if owner.is_none() && columns.get(Field::OwnerAccount).is_none() {
            missing.push((
                first(&profile.labels.account),
                format!(
                    "whose statement it is cannot be told: no account in the header block (labels {}), no account column ({}) and the sheet name is not an account",
                    sample(&profile.labels.account),
                    sample(&c.owner_account)
                ),
            ));
        }
        match (amounts, times, missing.is_empty()) {
            (Some(amounts), Some(times), true) => Ok(Plan {
                header_at,
                columns,
                block,
                amounts,
                times,
                owner,
            }),
            _ => Err(Unusable {
                field: missing
                    .iter()
                    .map(|(f, _)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: format!(
                    "the table has {}",
                    missing
                        .iter()
                        .map(|(_, r)| r.as_str())
                        .collect::<Vec<_>>()
                        .join("; and ")
                ),
            }),
        }
    }
}

/// A sheet name that is an account number (banks name sheets after the account they cover).
fn account_like(name: &str) -> Option<String> {
    let n = name.trim();
    (n.len() >= 10 && n.bytes().all(|b| b.is_ascii_digit())).then(|| n.to_owned())
}

/// One parsed transfer, ready to be matched and stored.
pub(crate) struct Tx {
    pub tx_id: String,
    /// Whether `tx_id` is the bank's serial number (rather than derived from the row).
    pub serial: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    pub amount: i64,
    pub ts: i64,
    /// Which end of the transfer this statement shows.
    pub side: Side,
    pub row: Row,
}

/// Why a row is not a transfer.
enum Skipped {
    Blank,
    /// A repeated header row (a page break in the bank's print layout).
    Header,
    /// A totals or balance row (合计, 本页小计, 期末余额…).
    Totals,
    /// A note below or inside the table (说明, 打印时间, a signature line).
    Note,
}

enum Parsed {
    /// Not a transfer.
    Skip(Skipped),
    Reject {
        field: Option<String>,
        reason: String,
    },
    Tx(Box<Tx>),
}

impl Tx {
    /// Gives the row another id (its serial was reused for another transfer), keeping the
    /// bank's serial in the extras.
    pub(crate) fn rename(&mut self, id: &str, original: &str) {
        self.tx_id = id.to_owned();
        if let Some(v) = self.row.values.first_mut() {
            *v = Value::Text(id.to_owned());
        }
        if !self.serial {
            return;
        }
        let mut m = match self
            .row
            .extra
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
        {
            Some(Ok(serde_json::Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        };
        m.insert(
            "serial".to_owned(),
            serde_json::Value::String(original.to_owned()),
        );
        self.row.extra = Some(serde_json::Value::Object(m).to_string());
    }
}

/// The direction of a row from the statement's account's point of view.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Out,
    In,
}

impl Plan {
    fn cell<'a>(&self, row: &'a [Cell], f: Field) -> Option<&'a Cell> {
        self.columns.get(f).and_then(|i| row.get(i))
    }

    /// A cell's text, empty for the profile's "nothing here" values.
    fn text(&self, row: &[Cell], f: Field, profile: &Profile) -> String {
        let t = self.cell(row, f).map(Cell::text).unwrap_or_default();
        clean_text(t, profile)
    }

    fn col_name(&self, f: Field) -> String {
        self.columns.name(f).unwrap_or_default().to_owned()
    }

    fn parse_row(
        &self,
        sheet: &Sheet,
        i: usize,
        profile: &Profile,
        names: &ColumnNames,
        occurrences: &mut HashMap<String, u32>,
    ) -> Parsed {
        let Some(row) = sheet.rows.get(i) else {
            return Parsed::Skip(Skipped::Blank);
        };
        if row.iter().all(Cell::is_empty) {
            return Parsed::Skip(Skipped::Blank);
        }
        // A page break in the bank's print layout repeats the header row.
        if names.count_in(row) >= profile.header_min_columns {
            return Parsed::Skip(Skipped::Header);
        }
        // A row with a date is a transfer whatever its memo says (`工资汇总代发`).
        if is_totals(row, profile) && self.timestamp(row, profile).is_err() {
            return Parsed::Skip(Skipped::Totals);
        }
        // No field of ours has a use for control characters, and PostgreSQL text cannot hold
        // NUL: refusing them here keeps both stores accepting exactly the same rows.
        if let Some(j) = row
            .iter()
            .position(|c| matches!(c, Cell::Text(t) if t.contains('\0')))
        {
            let field = self.columns.names.get(j).cloned().filter(|n| !n.is_empty());
            return Parsed::Reject {
                field,
                reason: "contains a NUL character".to_owned(),
            };
        }
        let reject = |f: Field, reason: String| Parsed::Reject {
            field: Some(self.col_name(f)),
            reason,
        };

        let ts = self.timestamp(row, profile);
        let amount = self.amount(row, profile);
        // A row with neither a date nor anything like an amount is a note (说明, 打印时间,
        // a signature line) below or inside the table, not a transfer.
        if ts.is_err() && !self.has_amount_digits(row) {
            return Parsed::Skip(Skipped::Note);
        }
        let ts = match ts {
            Ok(t) => shanghai_local(t).micros(),
            Err((f, reason)) => return reject(f, reason),
        };
        let (amount, dir) = match amount {
            Ok(a) => a,
            Err((f, reason)) => return reject(f, reason),
        };

        let owner = match self.text(row, Field::OwnerAccount, profile) {
            t if !t.is_empty() => {
                // A card column holds card numbers; an account column anything a bank issues.
                let column = self.col_name(Field::OwnerAccount);
                if is_card_name(&column) {
                    if let Err(e) = CardNumber::parse(&t) {
                        return reject(
                            Field::OwnerAccount,
                            format!("`{t}` in the card column is not a card number: {e}"),
                        );
                    }
                }
                t
            }
            _ => match &self.owner {
                Some(o) => o.clone(),
                None => {
                    return reject(
                        Field::OwnerAccount,
                        "is empty, and the header block names no account for the statement"
                            .to_owned(),
                    )
                }
            },
        };
        let counterparty = self.text(row, Field::CounterpartyAccount, profile);
        let channel_text = self.text(row, Field::Channel, profile);
        let memo = self.text(row, Field::Memo, profile);
        let mapped = map_channel(&channel_text, profile);
        let mut cash_inferred = None;
        let channel = if counterparty.is_empty() {
            let marker = cash_marker(&channel_text, &memo, profile);
            let is_cash = matches!(mapped, Some("cash" | "atm_withdrawal" | "cash_deposit"))
                || marker.is_some();
            if !is_cash {
                let field = self.columns.name(Field::CounterpartyAccount).map_or_else(
                    || {
                        profile
                            .columns
                            .counterparty_account
                            .first()
                            .cloned()
                            .unwrap_or_default()
                    },
                    str::to_owned,
                );
                return Parsed::Reject {
                    field: Some(field),
                    reason: format!(
                        "the counterparty account is empty and neither the channel (`{channel_text}`) nor the memo (`{memo}`) marks the row as cash ({}); a transfer needs both accounts",
                        profile.channel.cash_markers.join(", ")
                    ),
                };
            }
            cash_inferred = Some(match marker {
                Some(m) => format!("no counterparty account; `{m}` in the channel or memo"),
                None => format!("no counterparty account; channel `{channel_text}`"),
            });
            if dir == Dir::Out {
                "atm_withdrawal"
            } else {
                "cash_deposit"
            }
            .to_owned()
        } else {
            match mapped {
                // A cash machine used for a transfer to an account is a transfer.
                Some("cash" | "atm_withdrawal" | "cash_deposit") => "transfer".to_owned(),
                Some(c) => c.to_owned(),
                None if !channel_text.is_empty() => channel_text.clone(),
                None => profile.channel.default.clone(),
            }
        };
        let cp = (!counterparty.is_empty()).then_some(counterparty);
        let (from, to, side) = match dir {
            Dir::Out => (Some(owner.clone()), cp, Side::Out),
            Dir::In => (cp, Some(owner.clone()), Side::In),
        };

        let serial = self.text(row, Field::Serial, profile);
        if serial.chars().any(char::is_control) {
            return reject(Field::Serial, "contains a control character".to_owned());
        }
        let has_serial = !serial.is_empty();
        let tx_id = if serial.is_empty() {
            let base = derived_id(from.as_deref(), to.as_deref(), amount, ts);
            let n = occurrences.entry(base.clone()).or_insert(0);
            *n += 1;
            // Two identical transfers in the same second of one statement are two transfers;
            // the count keeps their ids apart and stays the same on re-ingest.
            if *n == 1 {
                base
            } else {
                format!("{base}-{n}")
            }
        } else {
            serial
        };
        let form = |s: &Option<String>| {
            s.as_deref().map_or(Value::Null, |a| {
                Value::Text(account_form(a).as_str().to_owned())
            })
        };
        let text_value = |f: Field| Value::text_or_null(&self.text(row, f, profile));
        let values = vec![
            Value::Text(tx_id.clone()),
            Value::Int(ts),
            from.as_deref().map_or(Value::Null, Value::text_or_null),
            to.as_deref().map_or(Value::Null, Value::text_or_null),
            Value::Int(amount),
            Value::Text(channel.clone()),
            Value::text_or_null(&memo),
            text_value(Field::Device),
            text_value(Field::Ip),
            Value::Null,
            form(&from),
            form(&to),
        ];
        let extra = self.extra(
            sheet,
            row,
            profile,
            &owner,
            dir,
            &channel_text,
            &channel,
            cash_inferred,
        );
        Parsed::Tx(Box::new(Tx {
            tx_id,
            serial: has_serial,
            from,
            to,
            amount,
            ts,
            side,
            row: Row {
                values,
                extra: Some(extra),
            },
        }))
    }

    /// The row's local date-time, or the column to blame and why.
    fn timestamp(&self, row: &[Cell], profile: &Profile) -> Result<NaiveDateTime, (Field, String)> {
        let dates = &profile.dates;
        let get = |f: Field| self.cell(row, f).cloned().unwrap_or(Cell::Empty);
        let clean = |c: Cell| match &c {
            Cell::Text(t) if profile.skip.empty_values.iter().any(|e| e == t.trim()) => Cell::Empty,
            _ => c,
        };
        let main_field = match self.times {
            Times::DateTime => Field::DateTime,
            Times::Date => Field::Date,
        };
        let main = clean(get(main_field));
        let time = self
            .columns
            .get(Field::Time)
            .map(|_| clean(get(Field::Time)));
        let main = values::parse_when(&main, dates).map_err(|r| (main_field, r))?;
        let date = match main {
            When::DateTime(dt) => {
                // A date-time that says midnight may still be completed by a time column.
                match &time {
                    Some(t) if !t.is_empty() && dt.time() == chrono::NaiveTime::MIN => dt.date(),
                    _ => return Ok(dt),
                }
            }
            When::Date(d) => d,
            When::Time(_) => {
                return Err((main_field, "holds a time of day but no date".to_owned()))
            }
        };
        match time {
            None => Ok(date.and_time(chrono::NaiveTime::MIN)),
            Some(t) if t.is_empty() => Ok(date.and_time(chrono::NaiveTime::MIN)),
            Some(t) => match values::parse_time(&t, dates).map_err(|r| (Field::Time, r))? {
                When::Time(t) => Ok(date.and_time(t)),
                // The time column carries the full date-time: trust it, it is the more precise.
                When::DateTime(dt) => Ok(dt),
                When::Date(_) => Err((
                    Field::Time,
                    format!("`{}` is a date, not a time of day", t.text()),
                )),
            },
        }
    }

    /// Whether any amount cell of the row holds a digit (a row that does is meant as a transfer).
    fn has_amount_digits(&self, row: &[Cell]) -> bool {
        [Field::Amount, Field::Debit, Field::Credit]
            .iter()
            .any(|f| match self.cell(row, *f) {
                Some(Cell::Number(_) | Cell::Date(_)) => true,
                Some(Cell::Text(t)) => t.bytes().any(|b| b.is_ascii_digit()),
                _ => false,
            })
    }

    /// The amount in fen (positive) and the direction, or the column to blame and why.
    fn amount(&self, row: &[Cell], profile: &Profile) -> Result<(i64, Dir), (Field, String)> {
        let empties = &profile.skip.empty_values;
        let read = |f: Field| -> Result<Option<i64>, (Field, String)> {
            match self.cell(row, f) {
                None => Ok(None),
                Some(c) => values::parse_amount(c, empties)
                    .map(|m| m.map(|m| m.fen()))
                    .map_err(|r| (f, r)),
            }
        };
        let positive = |f: Field, fen: i64| -> Result<i64, (Field, String)> {
            match fen.checked_abs() {
                Some(0) => Err((f, "the amount is zero".to_owned())),
                Some(a) => Ok(a),
                None => Err((f, "the amount is out of range".to_owned())),
            }
        };
        match self.amounts {
            Amounts::Flagged => {
                let fen = read(Field::Amount)?.ok_or((Field::Amount, "is empty".to_owned()))?;
                let flag = self.text(row, Field::Direction, profile);
                let dir = match direction_of(&flag, profile) {
                    Some(d) => d,
                    // A bank that flags some rows and signs others: the sign still tells.
                    None if flag.is_empty() && profile.signed_amounts && fen != 0 => {
                        if fen < 0 {
                            Dir::Out
                        } else {
                            Dir::In
                        }
                    }
                    None if flag.is_empty() => {
                        return Err((Field::Direction, "is empty".to_owned()))
                    }
                    None => {
                        return Err((
                            Field::Direction,
                            format!(
                                "`{flag}` is not a direction flag of the profile (out: {}; in: {})",
                                profile.flags.out.join(", "),
                                profile.flags.into.join(", ")
                            ),
                        ))
                    }
                };
                Ok((positive(Field::Amount, fen)?, dir))
            }
            Amounts::Signed => {
                let fen = read(Field::Amount)?.ok_or((Field::Amount, "is empty".to_owned()))?;
                let dir = if fen < 0 { Dir::Out } else { Dir::In };
                Ok((positive(Field::Amount, fen)?, dir))
            }
            Amounts::Split { debit, credit } => {
                let d = if debit.is_some() {
                    read(Field::Debit)?.filter(|v| *v != 0)
                } else {
                    None
                };
                let c = if credit.is_some() {
                    read(Field::Credit)?.filter(|v| *v != 0)
                } else {
                    None
                };
                let blame = if debit.is_some() {
                    Field::Debit
                } else {
                    Field::Credit
                };
                match (d, c) {
                    (Some(d), None) => Ok((positive(Field::Debit, d)?, Dir::Out)),
                    (None, Some(c)) => Ok((positive(Field::Credit, c)?, Dir::In)),
                    (Some(_), Some(_)) => Err((
                        blame,
                        format!(
                            "both `{}` and `{}` hold an amount; a row is money out or money in",
                            self.col_name(Field::Debit),
                            self.col_name(Field::Credit)
                        ),
                    )),
                    (None, None) => Err((
                        blame,
                        "no amount: the debit and credit columns are empty or zero".to_owned(),
                    )),
                }
            }
        }
    }

    /// The row's fields that have no column in the transactions layout, as a JSON object.
    #[allow(clippy::too_many_arguments)]
    fn extra(
        &self,
        sheet: &Sheet,
        row: &[Cell],
        profile: &Profile,
        owner: &str,
        dir: Dir,
        channel_text: &str,
        channel: &str,
        cash_inferred: Option<String>,
    ) -> String {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: String| {
            if !v.is_empty() {
                m.insert(k.to_owned(), serde_json::Value::String(v));
            }
        };
        put("sheet", sheet.name.clone());
        put("statement_account", owner.to_owned());
        let owner_name = self.text(row, Field::OwnerName, profile);
        put(
            "statement_name",
            if owner_name.is_empty() {
                self.block.name.clone().unwrap_or_default()
            } else {
                owner_name
            },
        );
        put(
            "statement_bank",
            self.block.bank.clone().unwrap_or_default(),
        );
        put(
            "statement_period",
            self.block.period.clone().unwrap_or_default(),
        );
        put(
            "direction",
            if dir == Dir::Out { "out" } else { "in" }.to_owned(),
        );
        put(
            "counterparty_name",
            self.text(row, Field::CounterpartyName, profile),
        );
        put(
            "counterparty_bank",
            self.text(row, Field::CounterpartyBank, profile),
        );
        if let Some(c) = self.cell(row, Field::Balance) {
            match values::parse_amount(c, &profile.skip.empty_values) {
                Ok(Some(b)) => {
                    m.insert("balance_fen".to_owned(), serde_json::Value::from(b.fen()));
                }
                Ok(None) => {}
                Err(_) => {
                    m.insert("balance".to_owned(), serde_json::Value::String(c.text()));
                }
            }
        }
        let mut put = |k: &str, v: String| {
            if !v.is_empty() {
                m.insert(k.to_owned(), serde_json::Value::String(v));
            }
        };
        put("mac", self.text(row, Field::Mac, profile));
        if channel_text != channel {
            put("channel_text", channel_text.to_owned());
        }
        put("cash_inferred", cash_inferred.unwrap_or_default());
        for (name, i) in &self.columns.extras {
            let v = row.get(*i).map(Cell::text).unwrap_or_default();
            let v = clean_text(v, profile);
            if !v.is_empty() && !m.contains_key(name) {
                m.insert(name.clone(), serde_json::Value::String(v));
            }
        }
        serde_json::Value::Object(m).to_string()
    }
}

/// Trims what banks put around identifiers (a leading `'` or tab keeps Excel from turning a
/// card number into a number) and blanks the profile's "nothing here" values.
fn clean_text(t: String, profile: &Profile) -> String {
    let t = t.trim().trim_start_matches('\'').trim();
    if profile.skip.empty_values.iter().any(|e| e == t) {
        String::new()
    } else {
        t.to_owned()
    }
}

/// Whether one of the first few non-empty cells of a row is a totals marker: the whole cell
/// (`合计`, `本页小计：`), not a memo containing one (`工资汇总代发`).
fn is_totals(row: &[Cell], profile: &Profile) -> bool {
    row.iter()
        .filter(|c| !c.is_empty())
        .take(profile.skip.totals_cells.max(1))
        .filter_map(|c| match c {
            Cell::Text(t) => Some(t),
            _ => None,
        })
        .any(|t| {
            let t = t.trim();
            let t = t.strip_suffix([':', '：']).unwrap_or(t).trim_end();
            profile
                .skip
                .totals_markers
                .iter()
                .map(|m| m.trim())
                .any(|m| !m.is_empty() && t == m)
        })
}

/// Whether a label or column names a card (卡号, 查询卡号, 本方卡号) rather than an account
/// (账号, 账号/卡号, 账卡号), whose number may be a passbook's or a company's.
fn is_card_name(name: &str) -> bool {
    name.contains('卡') && !name.contains('账')
}

/// Refuses control characters in the sheet's name and header block: none has a meaning
/// there, and PostgreSQL text cannot hold NUL, so a sheet one store would take and the other
/// fail on is refused by both. Line breaks and tabs are allowed in the name, bank and period,
/// which Excel cells wrap; never in the account or the sheet's name.
fn check_header_text(
    sheet: &Sheet,
    block: &HeaderBlock,
    profile: &Profile,
) -> Result<(), Unusable> {
    let label = |list: &[String], fallback: &str| {
        list.first().cloned().unwrap_or_else(|| fallback.to_owned())
    };
    let l = &profile.labels;
    let checks = [
        ("sheet name".to_owned(), Some(&sheet.name), false),
        (
            block
                .account_label
                .clone()
                .unwrap_or_else(|| label(&l.account, "account")),
            block.account.as_ref(),
            false,
        ),
        (label(&l.name, "name"), block.name.as_ref(), true),
        (label(&l.bank, "bank"), block.bank.as_ref(), true),
        (label(&l.period, "period"), block.period.as_ref(), true),
    ];
    for (what, value, breaks_allowed) in checks {
        let Some(value) = value else { continue };
        let bad = value
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && !(breaks_allowed && matches!(c, '\n' | '\r' | '\t')));
        if let Some((at, c)) = bad {
            let where_ = if what == "sheet name" {
                "the sheet's name".to_owned()
            } else {
                format!("the header block's `{}`", printable(&what))
            };
            return Err(Unusable {
                field: printable(&what),
                reason: format!(
                    "{where_} (`{}`) holds the control character U+{:04X} at character {}",
                    printable(value),
                    u32::from(c),
                    at + 1
                ),
            });
        }
    }
    Ok(())
}

/// Text with its control characters written as `\u{…}` escapes: what a message or a
/// quarantine entry may show of a value that holds them.
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The direction a flag names: an exact value first, else the value it starts with (longest
/// first, so `DR` is not read as `D…`).
fn direction_of(flag: &str, profile: &Profile) -> Option<Dir> {
    let f = flag.trim().to_lowercase();
    if f.is_empty() {
        return None;
    }
    let lists = [
        (Dir::Out, &profile.flags.out),
        (Dir::In, &profile.flags.into),
    ];
    for (dir, list) in lists {
        if list.iter().any(|v| v.trim().to_lowercase() == f) {
            return Some(dir);
        }
    }
    lists
        .iter()
        .flat_map(|(dir, list)| list.iter().map(move |v| (*dir, v.trim().to_lowercase())))
        .filter(|(_, v)| !v.is_empty() && f.starts_with(v.as_str()))
        .max_by_key(|(_, v)| v.chars().count())
        .map(|(d, _)| d)
}

/// The Fanzha channel a bank's channel text maps to: an exact entry, else the longest entry
/// contained in the text.
fn map_channel<'p>(text: &str, profile: &'p Profile) -> Option<&'p str> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return None;
    }
    let map = &profile.channel.map;
    if let Some((_, v)) = map.iter().find(|(k, _)| k.to_lowercase() == t) {
        return Some(v.as_str());
    }
    map.iter()
        .filter(|(k, _)| !k.is_empty() && t.contains(&k.to_lowercase()))
        .max_by_key(|(k, _)| k.chars().count())
        .map(|(_, v)| v.as_str())
}

/// The cash marker found in the channel or the memo, if any.
fn cash_marker<'p>(channel: &str, memo: &str, profile: &'p Profile) -> Option<&'p str> {
    let (c, m) = (channel.to_lowercase(), memo.to_lowercase());
    profile
        .channel
        .cash_markers
        .iter()
        .find(|k| {
            let k = k.to_lowercase();
            !k.is_empty() && (c.contains(&k) || m.contains(&k))
        })
        .map(String::as_str)
}

/// The id of a transfer without a serial number: `stmt-` and the first 16 bytes of SHA-256
/// over both accounts, the amount and the instant, so the same row always gets the same id.
fn derived_id(from: Option<&str>, to: Option<&str>, amount: i64, ts: i64) -> String {
    let mut h = Sha256::new();
    for part in [
        from.unwrap_or(""),
        to.unwrap_or(""),
        &amount.to_string(),
        &ts.to_string(),
    ] {
        h.update(part.as_bytes());
        // A separator no field contains keeps ("ab", "c") and ("a", "bc") apart.
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut s = String::with_capacity(5 + 32);
    s.push_str("stmt-");
    for b in &digest[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let p = Profile::default_bundled().unwrap();
        let d = |s: &str| direction_of(s, &p);
        assert!(
            d("借") == Some(Dir::Out) && d("DR") == Some(Dir::Out) && d("借方") == Some(Dir::Out)
        );
        assert!(d("贷") == Some(Dir::In) && d(" cr ") == Some(Dir::In) && d("收") == Some(Dir::In));
        assert!(d("付") == Some(Dir::Out) && d("进") == Some(Dir::In));
        assert!(d("？").is_none());
    }

    #[test]
    fn channels() {
        let p = Profile::default_bundled().unwrap();
        assert_eq!(map_channel("手机银行", &p), Some("transfer"));
        assert_eq!(map_channel("第三方支付", &p), Some("online_pay"));
        assert_eq!(map_channel("atm", &p), Some("cash"));
        assert_eq!(map_channel("POS消费", &p), Some("pos"));
        assert_eq!(map_channel("云闪付", &p), None);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_id(Some("1"), Some("2"), 100, 5);
        assert_eq!(a, derived_id(Some("1"), Some("2"), 100, 5));
        assert_eq!(a.len(), 5 + 32);
        assert_ne!(a, derived_id(Some("1"), Some("2"), 100, 6));
        assert_ne!(
            derived_id(Some("12"), None, 1, 1),
            derived_id(Some("1"), Some("2"), 1, 1)
        );
    }
}
