//! IBM AMLworld ("Realistic Synthetic Financial Transactions for Anti-Money Laundering
//! Models", Altman et al., NeurIPS 2023): `*_Trans.csv` and `*_Patterns.txt`.
//!
//! The transaction CSV's header is `Timestamp,From Bank,Account,To Bank,Account,Amount
//! Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering`:
//! `Account` twice (pandas rewrites the second as `Account.1`; both are read), wall-clock
//! minutes without a zone (`2022/09/01 00:20`), numeric bank ids written with leading zeros
//! (`010`), hexadecimal account ids unique only within their bank, decimal amounts in named
//! currencies, and the label.
//!
//! Mapping to Fanzha's files:
//! - `tx_id` is `{file stem}:{line}` (`HI-Small_Trans:2`): the file has no id, and its line
//!   is stable for a given file, unique, and names the source line.
//! - A bank id is read as a number when it is one (`010` and `10` are bank 10), and becomes
//!   the institution `AMLW-10`. An account is `{bank}:{account}` (`10:8000EBD30`), since the
//!   same hexadecimal id at two banks is two accounts.
//! - `ts` is the wall-clock time placed at `--tz` (default `+00:00`: the data set names no
//!   zone).
//! - `amount_fen` is `Amount Paid` in `Payment Currency`, converted by [`Rates`]; the paid
//!   and received amounts and currencies are kept as given in the extra columns
//!   `orig_amount`, `orig_currency`, `received_amount`, `received_currency`, and the payment
//!   format in `memo`.
//! - `channel`: ACH and Wire → `transfer`, Credit Card → `pos`, Bitcoin → `crypto_exchange`,
//!   Cheque → `cheque`, Cash → `cash` (both accounts are known, so neither `cash_deposit` nor
//!   `atm_withdrawal`), Reinvestment → `reinvestment`; any other format lower-cased, spaces
//!   as `_`. Self-transfers (most reinvestments) are kept: they are part of the benchmark.
//! - `accounts.csv` lists every account seen, at its bank, opened at its first transaction
//!   (the data set has no opening dates), held by the synthetic `AMLW-HOLDER-{account_id}`
//!   (AMLworld names no holders: one per account joins no two accounts wrongly).
//! - Labels: `Is Laundering` = 1 makes a flow; each `BEGIN LAUNDERING ATTEMPT` block of the
//!   patterns file is a ring `AMLW-R{n}` (its pattern, e.g. `fan_out`, and detail, e.g. `Max
//!   16-degree Fan-Out`, in `rings.csv`), matched to the transactions by content.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant as Clock;

use chrono::{DateTime, FixedOffset};

use super::labels::{Flow, Labels, Ring};
use super::output::{original, LineError, Rejections, Sheet};
use super::values::{identifier, local_time, rfc3339, Decimal, Rates};
use super::{ConvertError, ConvertReport};
use crate::Progress;

/// The published header, in order; the patterns file's lines follow it too.
pub const HEADER: [&str; 11] = [
    "Timestamp",
    "From Bank",
    "Account",
    "To Bank",
    "Account",
    "Amount Received",
    "Receiving Currency",
    "Amount Paid",
    "Payment Currency",
    "Payment Format",
    "Is Laundering",
];

const TIME_FORMATS: &[&str] = &[
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
];

pub struct Options {
    /// The transaction CSV.
    pub trans: PathBuf,
    /// The patterns file, if rings are wanted ([`patterns_beside`] finds the usual one).
    pub patterns: Option<PathBuf>,
    pub out: PathBuf,
    /// The zone of the file's wall-clock times.
    pub tz: FixedOffset,
    pub rates: Rates,
}

/// `X_Patterns.txt` beside `X_Trans.csv`, when it exists.
pub fn patterns_beside(trans: &Path) -> Option<PathBuf> {
    let name = trans.file_name()?.to_str()?;
    let stem = name.strip_suffix("_Trans.csv")?;
    let p = trans.with_file_name(format!("{stem}_Patterns.txt"));
    p.is_file().then_some(p)
}

/// Where each field sits in a record.
#[derive(Debug, Clone, Copy)]
struct Columns {
    ts: usize,
    from_bank: usize,
    from_account: usize,
    to_bank: usize,
    to_account: usize,
    received: usize,
    received_currency: usize,
    paid: usize,
    paid_currency: usize,
    format: usize,
    label: usize,
    width: usize,
}

impl Columns {
    /// The published order, as the patterns file writes it.
    const PUBLISHED: Columns = Columns {
        ts: 0,
        from_bank: 1,
        from_account: 2,
        to_bank: 3,
        to_account: 4,
        received: 5,
        received_currency: 6,
        paid: 7,
        paid_currency: 8,
        format: 9,
        label: 10,
        width: 11,
    };

    fn from_header(header: &[String], path: &Path) -> Result<Columns, ConvertError> {
        let find = |name: &str| header.iter().position(|h| h == name);
        // The second `Account` may come back from pandas as `Account.1`.
        let accounts: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| *h == "Account" || h.starts_with("Account."))
            .map(|(i, _)| i)
            .collect();
        let mut missing = Vec::new();
        let mut need = |name: &str| {
            find(name).unwrap_or_else(|| {
                missing.push(name.to_owned());
                0
            })
        };
        let mut cols = Columns {
            ts: need("Timestamp"),
            from_bank: need("From Bank"),
            from_account: 0,
            to_bank: need("To Bank"),
            to_account: 0,
            received: need("Amount Received"),
            received_currency: need("Receiving Currency"),
            paid: need("Amount Paid"),
            paid_currency: need("Payment Currency"),
            format: need("Payment Format"),
            label: need("Is Laundering"),
            width: header.len(),
        };
        match accounts.as_slice() {
            [from, to, ..] => {
                cols.from_account = *from;
                cols.to_account = *to;
            }
            [_] => missing.push("Account (the receiver's, the second `Account`)".into()),
            [] => missing.push("Account (twice: sender's and receiver's)".into()),
        }
        if missing.is_empty() {
            Ok(cols)
        } else {
            Err(ConvertError::MissingColumns {
                path: path.to_owned(),
                columns: missing,
            })
        }
    }

    /// The name a field goes by in messages; the two `Account`s are told apart.
    fn name(&self, i: usize) -> String {
        if i == self.from_account {
            format!("Account (sender's, column {})", i + 1)
        } else if i == self.to_account {
            format!("Account (receiver's, column {})", i + 1)
        } else {
            let published = [
                (self.ts, "Timestamp"),
                (self.from_bank, "From Bank"),
                (self.to_bank, "To Bank"),
                (self.received, "Amount Received"),
                (self.received_currency, "Receiving Currency"),
                (self.paid, "Amount Paid"),
                (self.paid_currency, "Payment Currency"),
                (self.format, "Payment Format"),
                (self.label, "Is Laundering"),
            ];
            published
                .iter()
                .find(|(c, _)| *c == i)
                .map_or_else(|| format!("column {}", i + 1), |(_, n)| (*n).to_owned())
        }
    }
}

/// One transaction read.
#[derive(Debug, Clone)]
struct Row<'a> {
    ts: DateTime<FixedOffset>,
    from_bank: String,
    from: String,
    to_bank: String,
    to: String,
    fen: i64,
    paid: &'a str,
    paid_currency: &'a str,
    received: &'a str,
    received_currency: &'a str,
    format: &'a str,
    laundering: bool,
    /// Identifies the transaction across the two files.
    key: String,
}

/// A field at fault: its column and why.
type Fault = (usize, String);

/// A bank id as a number when it is one: `010` is bank 10 in one file and `10` in the next
/// once a spreadsheet has read it.
pub fn bank_id(s: &str) -> Result<String, String> {
    let s = identifier(s)?;
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let t = s.trim_start_matches('0');
        Ok(if t.is_empty() { "0" } else { t }.to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// Fanzha's id of an account: bank-scoped, as AMLworld's are.
pub fn account_id(bank: &str, account: &str) -> Result<String, String> {
    let a = identifier(account)?;
    let id = format!("{bank}:{a}");
    if id.chars().count() > 64 {
        return Err(format!("`{a}` makes an account id over 64 characters"));
    }
    Ok(id)
}

/// The channel for a payment format.
pub fn channel(format: &str) -> String {
    match format.trim() {
        "ACH" | "Wire" => "transfer".into(),
        "Credit Card" | "Credit Cards" => "pos".into(),
        "Bitcoin" => "crypto_exchange".into(),
        other => other.to_lowercase().replace(' ', "_"),
    }
}

fn parse_row<'a>(
    f: &[&'a str],
    c: &Columns,
    tz: FixedOffset,
    rates: &Rates,
) -> Result<Row<'a>, Fault> {
    if f.len() != c.width {
        return Err((
            usize::MAX,
            format!("has {} fields where the header has {}", f.len(), c.width),
        ));
    }
    let ts = local_time(f[c.ts], TIME_FORMATS, tz).map_err(|e| (c.ts, e))?;
    let from_bank = bank_id(f[c.from_bank]).map_err(|e| (c.from_bank, e))?;
    let from = account_id(&from_bank, f[c.from_account]).map_err(|e| (c.from_account, e))?;
    let to_bank = bank_id(f[c.to_bank]).map_err(|e| (c.to_bank, e))?;
    let to = account_id(&to_bank, f[c.to_account]).map_err(|e| (c.to_account, e))?;
    let received = Decimal::parse(f[c.received]).map_err(|e| (c.received, e))?;
    let received_currency = f[c.received_currency].trim();
    if received_currency.is_empty() {
        return Err((c.received_currency, "is empty".into()));
    }
    let paid = Decimal::parse(f[c.paid]).map_err(|e| (c.paid, e))?;
    let paid_currency = f[c.paid_currency].trim();
    let fen = rates.fen(paid, paid_currency).map_err(|e| {
        (
            if e.starts_with("unknown") {
                c.paid_currency
            } else {
                c.paid
            },
            e,
        )
    })?;
    let format = f[c.format].trim();
    if format.is_empty() {
        return Err((c.format, "is empty".into()));
    }
    let laundering = match f[c.label].trim() {
        "0" => false,
        "1" => true,
        other => return Err((c.label, format!("`{other}` is neither 0 nor 1"))),
    };
    let key = [
        rfc3339(&ts),
        from.clone(),
        to.clone(),
        paid.to_string(),
        paid_currency.to_lowercase(),
        received.to_string(),
        received_currency.to_lowercase(),
        format.to_lowercase(),
    ]
    .join("\u{1f}");
    Ok(Row {
        ts,
        from_bank,
        from,
        to_bank,
        to,
        fen,
        paid: f[c.paid].trim(),
        paid_currency,
        received: f[c.received].trim(),
        received_currency,
        format,
        laundering,
        key,
    })
}

/// Text fields of a raw record, or the column that is not UTF-8.
fn fields(rec: &csv::ByteRecord) -> Result<Vec<&str>, Fault> {
    rec.iter()
        .enumerate()
        .map(|(i, b)| std::str::from_utf8(b).map_err(|_| (i, "is not UTF-8 text".to_owned())))
        .collect()
}

/// The rings of a patterns file and, by transaction content, the ring of each line.
struct Patterns {
    rings: Vec<Ring>,
    /// Content key → the rings whose attempt lists it, in file order, and how many are
    /// taken.
    by_key: HashMap<String, (Vec<usize>, usize)>,
    lines: u64,
}

fn pattern_name(begin: &str) -> (String, String) {
    // `BEGIN LAUNDERING ATTEMPT - FAN-OUT:  Max 16-degree Fan-Out`
    let rest = begin
        .trim()
        .strip_prefix("BEGIN LAUNDERING ATTEMPT")
        .unwrap_or_default()
        .trim_start_matches([' ', '-'])
        .trim();
    let (name, detail) = rest.split_once(':').unwrap_or((rest, ""));
    let name = name.trim().to_lowercase().replace(['-', ' '], "_");
    (
        if name.is_empty() {
            "unknown".into()
        } else {
            name
        },
        detail.trim().to_owned(),
    )
}

fn read_patterns(
    path: &Path,
    tz: FixedOffset,
    rates: &Rates,
    rejections: &mut Rejections,
) -> Result<Patterns, ConvertError> {
    let read = |source| ConvertError::Read {
        path: path.to_owned(),
        source,
    };
    let file_name = path.display().to_string();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(read)?);
    let mut p = Patterns {
        rings: Vec::new(),
        by_key: HashMap::new(),
        lines: 0,
    };
    let mut open: Option<usize> = None;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(read)? == 0 {
            break;
        }
        line += 1;
        let reject = |field: Option<String>, reason: String| LineError {
            file: file_name.clone(),
            line,
            field,
            reason,
            original: String::from_utf8_lossy(&buf).trim_end().to_owned(),
        };
        let Ok(text) = std::str::from_utf8(&buf) else {
            rejections.push(reject(None, "is not UTF-8 text".into()))?;
            continue;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        if text.starts_with("BEGIN LAUNDERING ATTEMPT") {
            if open.is_some() {
                rejections.push(reject(
                    None,
                    "begins an attempt before the previous one ended; the previous one is closed here".into(),
                ))?;
            }
            let (pattern, detail) = pattern_name(text);
            p.rings.push(Ring {
                id: format!("AMLW-R{}", p.rings.len() + 1),
                pattern,
                detail,
            });
            open = Some(p.rings.len() - 1);
            continue;
        }
        if text.starts_with("END LAUNDERING ATTEMPT") {
            if open.take().is_none() {
                rejections.push(reject(None, "ends an attempt that did not begin".into()))?;
            }
            continue;
        }
        let Some(ring) = open else {
            rejections.push(reject(
                None,
                "is outside any BEGIN … END LAUNDERING ATTEMPT block".into(),
            ))?;
            continue;
        };
        let f: Vec<&str> = text.split(',').collect();
        let c = Columns::PUBLISHED;
        match parse_row(&f, &c, tz, rates) {
            Ok(row) => {
                p.lines += 1;
                p.by_key.entry(row.key).or_default().0.push(ring);
            }
            Err((col, reason)) => {
                let field = (col != usize::MAX).then(|| c.name(col));
                rejections.push(reject(field, reason))?;
            }
        }
    }
    if open.is_some() {
        tracing::warn!(file = %file_name, "the last laundering attempt has no END line");
    }
    Ok(p)
}

/// Converts an AMLworld transaction file (and its patterns) into `opts.out`.
pub fn convert(opts: &Options, progress: &dyn Progress) -> Result<ConvertReport, ConvertError> {
    let started = Clock::now();
    let path = &opts.trans;
    let file_name = path.display().to_string();
    let read = |source| ConvertError::Read {
        path: path.clone(),
        source,
    };
    let total = std::fs::metadata(path).map_err(read)?.len();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(File::open(path).map_err(read)?);
    let mut rec = csv::ByteRecord::new();
    let csv_read = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(source) => ConvertError::Read {
            path: path.clone(),
            source,
        },
        other => ConvertError::Input {
            path: path.clone(),
            reason: format!("{other:?}"),
        },
    };
    if !reader.read_byte_record(&mut rec).map_err(csv_read)? {
        return Err(ConvertError::Empty { path: path.clone() });
    }
    let header: Vec<String> = rec
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                &h
            };
            h.trim().to_owned()
        })
        .collect();
    let cols = Columns::from_header(&header, path)?;

    std::fs::create_dir_all(&opts.out).map_err(|source| ConvertError::Write {
        path: opts.out.clone(),
        source,
    })?;
    let mut rejections = Rejections::create(&opts.out)?;
    let mut patterns = match &opts.patterns {
        Some(p) => Some(read_patterns(p, opts.tz, &opts.rates, &mut rejections)?),
        None => None,
    };
    let mut labels = Labels::default();
    if let Some(p) = &mut patterns {
        labels.rings = std::mem::take(&mut p.rings);
    }

    let stem: String = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut transactions = Sheet::create(
        &opts.out,
        "transactions.csv",
        &[
            "tx_id",
            "ts",
            "from_account",
            "to_account",
            "amount_fen",
            "channel",
            "memo",
            "orig_amount",
            "orig_currency",
            "received_amount",
            "received_currency",
        ],
    )?;
    let mut banks: HashMap<String, u32> = HashMap::new();
    let mut accounts: HashMap<String, (DateTime<FixedOffset>, u32)> = HashMap::new();
    let mut note_account = |bank: &str, id: &str, ts: DateTime<FixedOffset>| {
        let next = u32::try_from(banks.len()).unwrap_or(u32::MAX);
        let b = *banks.entry(bank.to_owned()).or_insert(next);
        match accounts.get_mut(id) {
            Some(seen) => seen.0 = seen.0.min(ts),
            None => {
                accounts.insert(id.to_owned(), (ts, b));
            }
        }
    };
    let mut read_records = 0u64;
    let mut matched = 0u64;
    progress.start(&file_name, total);
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                match e.into_kind() {
                    csv::ErrorKind::Io(source) => {
                        return Err(ConvertError::Read {
                            path: path.clone(),
                            source,
                        })
                    }
                    other => {
                        read_records += 1;
                        rejections.push(LineError {
                            file: file_name.clone(),
                            line,
                            field: None,
                            reason: format!("is not readable CSV: {other:?}"),
                            original: String::new(),
                        })?;
                        continue;
                    }
                }
            }
        }
        read_records += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let parsed = fields(&rec).and_then(|f| parse_row(&f, &cols, opts.tz, &opts.rates));
        let r = match parsed {
            Ok(r) => r,
            Err((col, reason)) => {
                rejections.push(LineError {
                    file: file_name.clone(),
                    line,
                    field: (col != usize::MAX).then(|| cols.name(col)),
                    reason,
                    original: original(&rec),
                })?;
                continue;
            }
        };
        let tx_id = format!("{stem}:{line}");
        let ts_text = rfc3339(&r.ts);
        transactions.row([
            tx_id.as_str(),
            ts_text.as_str(),
            r.from.as_str(),
            r.to.as_str(),
            r.fen.to_string().as_str(),
            channel(r.format).as_str(),
            r.format,
            r.paid,
            r.paid_currency,
            r.received,
            r.received_currency,
        ])?;
        note_account(&r.from_bank, &r.from, r.ts);
        note_account(&r.to_bank, &r.to, r.ts);
        if r.laundering {
            let ring = patterns.as_mut().and_then(|p| {
                p.by_key.get_mut(&r.key).map(|(rings, taken)| {
                    // A repeat beyond the attempts that list it stays in the last one.
                    let r = rings[(*taken).min(rings.len() - 1)];
                    if *taken < rings.len() {
                        *taken += 1;
                        matched += 1;
                    }
                    r
                })
            });
            labels.flows.push(Flow {
                tx_id,
                micros: r.ts.timestamp_micros(),
                from: r.from,
                to: r.to,
                ring,
            });
        }
        // A bit mask, not `is_multiple_of`: that needs Rust 1.87, above our MSRV.
        if read_records & 0xFFFF == 0 {
            progress.advance(reader.position().byte());
        }
    }
    progress.advance(total);
    progress.finish();

    let mut files = vec![transactions.finish()?];
    let mut bank_list: Vec<(&String, &u32)> = banks.iter().collect();
    bank_list.sort();
    let mut institutions = Sheet::create(&opts.out, "institutions.csv", &["code", "name", "kind"])?;
    let mut code_of = vec![String::new(); banks.len()];
    for (bank, &i) in bank_list {
        let code = format!("AMLW-{bank}");
        institutions.row([code.as_str(), &format!("AMLworld bank {bank}"), "bank"])?;
        code_of[i as usize] = code;
    }
    files.push(institutions.finish()?);
    let mut account_list: Vec<(String, (DateTime<FixedOffset>, u32))> =
        accounts.into_iter().collect();
    account_list.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sheet = Sheet::create(
        &opts.out,
        "accounts.csv",
        &["account_id", "bank_code", "holder_id", "opened_at"],
    )?;
    for (id, (first, bank)) in &account_list {
        sheet.row([
            id.as_str(),
            code_of[*bank as usize].as_str(),
            &format!("AMLW-HOLDER-{id}"),
            &rfc3339(first),
        ])?;
    }
    files.push(sheet.finish()?);
    drop(account_list);

    let laundering = labels.flows.len() as u64;
    let written = labels.finish(&opts.out)?;
    files.extend(written.files);
    let (rejected, first_rejections, rej_file) = rejections.finish()?;
    files.push(rej_file);
    let pattern_lines = patterns.as_ref().map_or(0, |p| p.lines);
    Ok(ConvertReport {
        format: "amlworld".into(),
        input: file_name,
        out: opts.out.display().to_string(),
        read: read_records,
        rejected,
        first_rejections,
        files,
        laundering,
        rings: written.rings,
        unattributed: written.unattributed,
        unmatched_pattern_lines: pattern_lines.saturating_sub(matched),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    /// Parses one line of the published layout; the row owns nothing, so it is inspected
    /// inside `check`.
    fn with_row<T>(line: &str, check: impl FnOnce(Result<Row<'_>, Fault>) -> T) -> T {
        let f: Vec<&str> = line.split(',').collect();
        check(parse_row(&f, &Columns::PUBLISHED, utc(), &Rates::default()))
    }

    fn fault(line: &str) -> Fault {
        with_row(line, |r| r.map(|_| ()).unwrap_err())
    }

    #[test]
    fn a_published_line_maps_field_by_field() {
        with_row(
            "2022/09/01 00:20,010,8000EBD30,03208,8000F5340,3697.34,US Dollar,3697.34,US Dollar,Wire,1",
            |r| {
                let r = r.unwrap();
                assert_eq!(rfc3339(&r.ts), "2022-09-01T00:20:00+00:00");
                assert_eq!(r.from, "10:8000EBD30");
                assert_eq!(r.to, "3208:8000F5340");
                assert_eq!(r.fen, 2_551_165);
                assert!(r.laundering);
                assert_eq!(channel(r.format), "transfer");
            },
        );
    }

    #[test]
    fn banks_are_numbers_and_accounts_are_bank_scoped() {
        assert_eq!(bank_id("010").unwrap(), "10");
        assert_eq!(bank_id("000").unwrap(), "0");
        assert_eq!(bank_id("B7").unwrap(), "B7");
        assert!(bank_id(" 10").is_err());
        assert_ne!(
            account_id("10", "800A").unwrap(),
            account_id("20", "800A").unwrap()
        );
        assert!(account_id("1", &"A".repeat(70)).is_err());
    }

    #[test]
    fn payment_formats_map_to_channels() {
        assert_eq!(channel("ACH"), "transfer");
        assert_eq!(channel("Credit Card"), "pos");
        assert_eq!(channel("Bitcoin"), "crypto_exchange");
        assert_eq!(channel("Cash"), "cash");
        assert_eq!(channel("Cheque"), "cheque");
        assert_eq!(channel("Reinvestment"), "reinvestment");
        assert_eq!(channel("Money Order"), "money_order");
    }

    #[test]
    fn bad_fields_are_named() {
        let c = Columns::PUBLISHED;
        let at = |l: &str| {
            let (col, reason) = fault(l);
            (c.name(col), reason)
        };
        let (f, r) = at("2022/09/31 00:20,1,A,2,B,1,Euro,1,Euro,ACH,0");
        assert_eq!(f, "Timestamp");
        assert!(r.contains("2022/09/31"), "{r}");
        let (f, r) = at("2022/09/01 00:20,1,A,2,B,1,Euro,-5,Euro,ACH,0");
        assert_eq!(f, "Amount Paid");
        assert!(r.contains("negative"), "{r}");
        let (f, _) = at("2022/09/01 00:20,1,A,2,B,1,Zloty,1,Zloty,ACH,0");
        assert_eq!(f, "Payment Currency");
        let (f, _) = at("2022/09/01 00:20,1,,2,B,1,Euro,1,Euro,ACH,0");
        assert_eq!(f, "Account (sender's, column 3)");
        let (f, _) = at("2022/09/01 00:20,1,A,2,B,1,Euro,1,Euro,ACH,yes");
        assert_eq!(f, "Is Laundering");
        let (col, r) = fault("2022/09/01 00:20,1,A");
        assert_eq!(col, usize::MAX);
        assert!(r.contains("3 fields"), "{r}");
    }

    #[test]
    fn the_header_finds_both_accounts_and_names_what_is_missing() {
        let h: Vec<String> = HEADER.iter().map(|s| (*s).to_owned()).collect();
        let c = Columns::from_header(&h, Path::new("x.csv")).unwrap();
        assert_eq!((c.from_account, c.to_account), (2, 4));
        let mut pandas = h.clone();
        pandas[4] = "Account.1".into();
        let c = Columns::from_header(&pandas, Path::new("x.csv")).unwrap();
        assert_eq!(c.to_account, 4);
        let e = Columns::from_header(&h[..4], Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Amount Paid") && e.contains("receiver"), "{e}");
    }

    #[test]
    fn attempt_headers_give_pattern_and_detail() {
        assert_eq!(
            pattern_name("BEGIN LAUNDERING ATTEMPT - FAN-OUT:  Max 16-degree Fan-Out"),
            ("fan_out".into(), "Max 16-degree Fan-Out".into())
        );
        assert_eq!(
            pattern_name("BEGIN LAUNDERING ATTEMPT - STACK"),
            ("stack".into(), String::new())
        );
    }
}
