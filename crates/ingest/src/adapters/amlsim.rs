//! IBM AMLSim's output directory (`scripts/convert_logs.py` and its `schema.json`).
//!
//! Read: `accounts.csv` (`acct_id`, and when present `bank_id`, `acct_stat`, `open_dt`,
//! `initial_deposit`, `acct_rptng_crncy`), `transactions.csv` or `tx.csv` (`tran_id`,
//! `orig_acct`, `bene_acct`, `tx_type`, `base_amt`, `tran_timestamp`, `is_sar` — `is_fraud`
//! in older schemas — and `alert_id`, −1 when none), and `alert_accounts.csv` (or
//! `sar_accounts.csv`) for each alert's type. `cash_tx.csv` and the party files are not read.
//!
//! Mapping to Fanzha's files:
//! - Account and transaction ids are kept as given (AMLSim's are unique across its banks).
//! - Times: RFC 3339 as written (`2017-01-05T00:00:00Z`); a wall-clock time is placed at
//!   `--tz`; a bare number is a simulation day after `--base-date` (AMLSim's own default is
//!   2017-01-01), as schemas typed `string` leave it.
//! - Amounts are in `--currency` (AMLSim's base currency, USD by default) and converted by
//!   [`Rates`]; the amount as given is kept in `orig_amount`, the type in `memo`.
//! - `channel`: TRANSFER, WIRE, CREDIT → `transfer`; CHECK → `cheque`; CASH-IN →
//!   `cash_deposit`; CASH-OUT → `atm_withdrawal`; others lower-cased, `-` as `_`.
//! - `accounts.csv` → accounts at institution `AMLSIM-{bank_id}` (`AMLSIM` without the
//!   column), held by `AMLSIM-P{acct_id}` (AMLSim gives each account its own party, with the
//!   account's id), opened at `open_dt` (or the base date), `acct_stat` A → active,
//!   C → closed, D → dormant; `initial_deposit` → `balances.csv` at the opening time.
//! - Labels: a transaction with `is_sar` true is a flow; its alert is the ring
//!   `AMLSIM-{alert_id}` with the alert's type as pattern. Transactions of alerts that are
//!   not SAR (AMLSim's false alerts) are not laundering and make no label.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant as Clock;

use chrono::{FixedOffset, NaiveDate};

use super::labels::{Flow, Labels, Ring};
use super::output::{original, LineError, Rejections, Sheet};
use super::values::{identifier, instant_or_step, rfc3339, Decimal, Rates};
use super::{ConvertError, ConvertReport};
use crate::Progress;

pub struct Options {
    /// AMLSim's output directory.
    pub dir: PathBuf,
    pub out: PathBuf,
    /// The zone of wall-clock times and simulation days.
    pub tz: FixedOffset,
    /// Day 0 of the simulation.
    pub base_date: NaiveDate,
    /// The currency of `base_amt` and `initial_deposit` (unless `acct_rptng_crncy` says).
    pub currency: String,
    pub rates: Rates,
}

/// The channel for an AMLSim transaction type.
pub fn channel(tx_type: &str) -> String {
    match tx_type.trim().to_uppercase().as_str() {
        "TRANSFER" | "WIRE" | "CREDIT" => "transfer".into(),
        "CHECK" => "cheque".into(),
        "CASH-IN" => "cash_deposit".into(),
        "CASH-OUT" => "atm_withdrawal".into(),
        "" => "transfer".into(),
        other => other.to_lowercase().replace(['-', ' '], "_"),
    }
}

/// AMLSim's booleans: `True`/`False` from Python, `true`, `1`/`0`, `YES`/`NO`.
pub fn flag(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Ok(true),
        "false" | "0" | "no" | "n" | "" => Ok(false),
        _ => Err(format!("`{s}` is not a boolean (True/False)")),
    }
}

fn status(s: &str) -> &'static str {
    match s.trim().to_uppercase().as_str() {
        "A" | "ACTIVE" => "active",
        "C" | "CLOSED" => "closed",
        "D" | "DORMANT" => "dormant",
        _ => "",
    }
}

/// A field at fault: its column's name and why.
type Fault = (String, String);

/// A CSV with a header, its columns by name.
struct Table {
    path: PathBuf,
    name: String,
    reader: csv::Reader<File>,
    index: HashMap<String, usize>,
    width: usize,
}

impl Table {
    fn open(path: &Path, required: &[&[&str]]) -> Result<Table, ConvertError> {
        let read = |source| ConvertError::Read {
            path: path.to_owned(),
            source,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(File::open(path).map_err(read)?);
        let header = reader
            .byte_headers()
            .map_err(|e| ConvertError::Input {
                path: path.to_owned(),
                reason: format!("the header is unreadable: {e}"),
            })?
            .clone();
        if header.is_empty() {
            return Err(ConvertError::Empty {
                path: path.to_owned(),
            });
        }
        let index: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = String::from_utf8_lossy(h);
                (h.trim_start_matches('\u{feff}').trim().to_owned(), i)
            })
            .collect();
        let missing: Vec<String> = required
            .iter()
            .filter(|names| !names.iter().any(|n| index.contains_key(*n)))
            .map(|names| names.join(" or "))
            .collect();
        if !missing.is_empty() {
            return Err(ConvertError::MissingColumns {
                path: path.to_owned(),
                columns: missing,
            });
        }
        Ok(Table {
            path: path.to_owned(),
            name: path.display().to_string(),
            reader,
            width: header.len(),
            index,
        })
    }

    /// The first of `names` the header has, as (index, name).
    fn col(&self, names: &[&'static str]) -> Option<(usize, &'static str)> {
        names
            .iter()
            .find_map(|n| self.index.get(*n).map(|i| (*i, *n)))
    }

    /// Calls `each` with every record's fields and line; a fault it returns, or a record
    /// that cannot be read, is a rejection. Returns the records read.
    fn for_each(
        &mut self,
        rejections: &mut Rejections,
        progress: &dyn Progress,
        mut each: impl FnMut(&[&str], u64) -> Result<Result<(), Fault>, ConvertError>,
    ) -> Result<u64, ConvertError> {
        let total = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        progress.start(&self.name, total);
        let mut rec = csv::ByteRecord::new();
        let mut count = 0u64;
        loop {
            match self.reader.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    match e.into_kind() {
                        csv::ErrorKind::Io(source) => {
                            return Err(ConvertError::Read {
                                path: self.path.clone(),
                                source,
                            })
                        }
                        other => {
                            count += 1;
                            rejections.push(LineError {
                                file: self.name.clone(),
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
            count += 1;
            let line = rec.position().map_or(0, |p| p.line());
            let fault = if rec.len() != self.width {
                Some((
                    None,
                    format!(
                        "has {} fields where the header has {}",
                        rec.len(),
                        self.width
                    ),
                ))
            } else {
                match rec.iter().position(|b| std::str::from_utf8(b).is_err()) {
                    Some(i) => Some((Some(self.column_name(i)), "is not UTF-8 text".to_owned())),
                    None => {
                        let f: Vec<&str> = rec
                            .iter()
                            .map(|b| std::str::from_utf8(b).unwrap_or_default())
                            .collect();
                        each(&f, line)?
                            .err()
                            .map(|(field, reason)| (Some(field), reason))
                    }
                }
            };
            if let Some((field, reason)) = fault {
                rejections.push(LineError {
                    file: self.name.clone(),
                    line,
                    field,
                    reason,
                    original: original(&rec),
                })?;
            }
            // A bit mask, not `is_multiple_of`: that needs Rust 1.87, above our MSRV.
            if count & 0xFFFF == 0 {
                progress.advance(self.reader.position().byte());
            }
        }
        progress.advance(total);
        progress.finish();
        Ok(count)
    }

    fn column_name(&self, i: usize) -> String {
        self.index
            .iter()
            .find(|(_, c)| **c == i)
            .map_or_else(|| format!("column {}", i + 1), |(n, _)| n.clone())
    }
}

fn get<'a>(f: &[&'a str], col: Option<(usize, &'static str)>) -> &'a str {
    col.and_then(|(i, _)| f.get(i).copied()).unwrap_or_default()
}

fn fault(col: Option<(usize, &'static str)>, reason: String) -> Fault {
    (col.map_or("?", |c| c.1).to_owned(), reason)
}

/// Alert id → alert type, from `alert_accounts.csv` or `sar_accounts.csv`.
fn alert_types(
    dir: &Path,
    rejections: &mut Rejections,
    progress: &dyn Progress,
    read: &mut u64,
) -> Result<HashMap<String, String>, ConvertError> {
    let mut types = HashMap::new();
    for name in ["alert_accounts.csv", "sar_accounts.csv"] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        let mut t = Table::open(
            &path,
            &[&["alert_id", "ALERT_ID"], &["alert_type", "ALERT_TYPE"]],
        )?;
        let id = t.col(&["alert_id", "ALERT_ID"]);
        let ty = t.col(&["alert_type", "ALERT_TYPE"]);
        *read += t.for_each(rejections, progress, |f, _| {
            let a = get(f, id).trim();
            if a.is_empty() {
                return Ok(Err(fault(id, "is empty".into())));
            }
            types
                .entry(a.to_owned())
                .or_insert_with(|| get(f, ty).trim().to_lowercase().replace(['-', ' '], "_"));
            Ok(Ok(()))
        })?;
        break;
    }
    Ok(types)
}

/// Converts an AMLSim output directory into `opts.out`.
pub fn convert(opts: &Options, progress: &dyn Progress) -> Result<ConvertReport, ConvertError> {
    let started = Clock::now();
    let tx_path = ["transactions.csv", "tx.csv"]
        .iter()
        .map(|n| opts.dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| ConvertError::Input {
            path: opts.dir.clone(),
            reason: "holds neither transactions.csv nor tx.csv".into(),
        })?;
    std::fs::create_dir_all(&opts.out).map_err(|source| ConvertError::Write {
        path: opts.out.clone(),
        source,
    })?;
    let mut rejections = Rejections::create(&opts.out)?;
    let mut read = 0u64;
    let types = alert_types(&opts.dir, &mut rejections, progress, &mut read)?;
    let mut files = Vec::new();

    let mut banks = BTreeSet::new();
    let accounts_path = opts.dir.join("accounts.csv");
    if accounts_path.is_file() {
        let mut t = Table::open(&accounts_path, &[&["acct_id"]])?;
        let (id, bank, stat, open, deposit, currency) = (
            t.col(&["acct_id"]),
            t.col(&["bank_id"]),
            t.col(&["acct_stat"]),
            t.col(&["open_dt"]),
            t.col(&["initial_deposit"]),
            t.col(&["acct_rptng_crncy"]),
        );
        let mut accounts = Sheet::create(
            &opts.out,
            "accounts.csv",
            &[
                "account_id",
                "bank_code",
                "holder_id",
                "opened_at",
                "status",
            ],
        )?;
        let mut balances = Sheet::create(
            &opts.out,
            "balances.csv",
            &["account_id", "as_of", "balance_fen"],
        )?;
        read += t.for_each(&mut rejections, progress, |f, _| {
            let acct = match identifier(get(f, id)) {
                Ok(a) if a.chars().count() <= 64 => a,
                Ok(a) => return Ok(Err(fault(id, format!("`{a}` is over 64 characters")))),
                Err(e) => return Ok(Err(fault(id, e))),
            };
            let b = match bank {
                None => "AMLSIM".to_owned(),
                Some(_) => match identifier(get(f, bank)) {
                    Ok(b) => format!("AMLSIM-{b}"),
                    Err(e) => return Ok(Err(fault(bank, e))),
                },
            };
            let opened = match open {
                None => instant_or_step("0", opts.tz, opts.base_date),
                Some(_) => instant_or_step(get(f, open), opts.tz, opts.base_date),
            };
            let opened = match opened {
                Ok(t) => rfc3339(&t),
                Err(e) => return Ok(Err(fault(open, e))),
            };
            let balance = match deposit {
                Some(_) if !get(f, deposit).trim().is_empty() => {
                    let cur = match get(f, currency).trim() {
                        "" => opts.currency.as_str(),
                        c => c,
                    };
                    match Decimal::parse(get(f, deposit)) {
                        Ok(d) if d.is_zero() => Some(0),
                        Ok(d) => match opts.rates.fen(d, cur) {
                            Ok(fen) => Some(fen),
                            Err(e) => return Ok(Err(fault(deposit, e))),
                        },
                        Err(e) => return Ok(Err(fault(deposit, e))),
                    }
                }
                _ => None,
            };
            accounts.row([
                acct,
                b.as_str(),
                &format!("AMLSIM-P{acct}"),
                &opened,
                status(get(f, stat)),
            ])?;
            if let Some(fen) = balance {
                balances.row([acct, opened.as_str(), fen.to_string().as_str()])?;
            }
            banks.insert(b);
            Ok(Ok(()))
        })?;
        files.push(accounts.finish()?);
        files.push(balances.finish()?);
    } else {
        tracing::warn!(dir = %opts.dir.display(), "no accounts.csv: every account will be an outside account");
    }

    let mut t = Table::open(
        &tx_path,
        &[
            &["tran_id"],
            &["orig_acct"],
            &["bene_acct"],
            &["base_amt"],
            &["tran_timestamp"],
        ],
    )?;
    let (id, orig, bene, ty, amt, ts, sar, alert) = (
        t.col(&["tran_id"]),
        t.col(&["orig_acct"]),
        t.col(&["bene_acct"]),
        t.col(&["tx_type"]),
        t.col(&["base_amt"]),
        t.col(&["tran_timestamp"]),
        t.col(&["is_sar", "is_fraud", "isSAR"]),
        t.col(&["alert_id", "alertID"]),
    );
    if sar.is_none() {
        tracing::warn!(file = %tx_path.display(), "no is_sar column: no laundering labels");
    }
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
        ],
    )?;
    let mut labels = Labels::default();
    let mut ring_of: HashMap<String, usize> = HashMap::new();
    let account = |f: &[&str], col| match identifier(get(f, col)) {
        Ok(a) if a.chars().count() <= 64 => Ok(a.to_owned()),
        Ok(a) => Err(fault(col, format!("`{a}` is over 64 characters"))),
        Err(e) => Err(fault(col, e)),
    };
    read += t.for_each(&mut rejections, progress, |f, _| {
        let tx_id = match identifier(get(f, id)) {
            Ok(v) => v,
            Err(e) => return Ok(Err(fault(id, e))),
        };
        let when = match instant_or_step(get(f, ts), opts.tz, opts.base_date) {
            Ok(t) => t,
            Err(e) => return Ok(Err(fault(ts, e))),
        };
        let (from, to) = match (account(f, orig), account(f, bene)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let fen = match Decimal::parse(get(f, amt)).and_then(|d| opts.rates.fen(d, &opts.currency))
        {
            Ok(v) => v,
            Err(e) => return Ok(Err(fault(amt, e))),
        };
        let is_sar = match flag(get(f, sar)) {
            Ok(v) => v,
            Err(e) => return Ok(Err(fault(sar, e))),
        };
        let alert_id = get(f, alert).trim();
        let alert_id = (!alert_id.is_empty() && !alert_id.starts_with('-')).then_some(alert_id);
        transactions.row([
            tx_id,
            rfc3339(&when).as_str(),
            from.as_str(),
            to.as_str(),
            fen.to_string().as_str(),
            channel(get(f, ty)).as_str(),
            get(f, ty).trim(),
            get(f, amt).trim(),
            opts.currency.as_str(),
        ])?;
        if is_sar {
            let ring = alert_id.map(|a| {
                *ring_of.entry(a.to_owned()).or_insert_with(|| {
                    labels.rings.push(Ring {
                        id: format!("AMLSIM-{a}"),
                        pattern: types.get(a).cloned().unwrap_or_default(),
                        detail: String::new(),
                    });
                    labels.rings.len() - 1
                })
            });
            labels.flows.push(Flow {
                tx_id: tx_id.to_owned(),
                micros: when.timestamp_micros(),
                from,
                to,
                ring,
            });
        }
        Ok(Ok(()))
    })?;
    files.push(transactions.finish()?);

    let mut institutions = Sheet::create(&opts.out, "institutions.csv", &["code", "name", "kind"])?;
    for b in &banks {
        institutions.row([b.as_str(), &format!("AMLSim bank {b}"), "bank"])?;
    }
    files.push(institutions.finish()?);

    let laundering = labels.flows.len() as u64;
    let written = labels.finish(&opts.out)?;
    files.extend(written.files);
    let (rejected, first_rejections, rej_file) = rejections.finish()?;
    files.push(rej_file);
    Ok(ConvertReport {
        format: "amlsim".into(),
        input: opts.dir.display().to_string(),
        out: opts.out.display().to_string(),
        read,
        rejected,
        first_rejections,
        files,
        laundering,
        rings: written.rings,
        unattributed: written.unattributed,
        unmatched_pattern_lines: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_channels() {
        assert_eq!(channel("TRANSFER"), "transfer");
        assert_eq!(channel("WIRE"), "transfer");
        assert_eq!(channel("CHECK"), "cheque");
        assert_eq!(channel("CASH-IN"), "cash_deposit");
        assert_eq!(channel("CASH-OUT"), "atm_withdrawal");
        assert_eq!(channel("DEPOSIT"), "deposit");
    }

    #[test]
    fn python_booleans_and_statuses() {
        assert_eq!(flag("True"), Ok(true));
        assert_eq!(flag("false"), Ok(false));
        assert_eq!(flag("1"), Ok(true));
        assert_eq!(flag("YES"), Ok(true));
        assert!(flag("maybe").unwrap_err().contains("`maybe`"));
        assert_eq!(status("A"), "active");
        assert_eq!(status("X"), "");
    }
}
