//! Adapters: public AML benchmark formats converted into Fanzha's interchange files, so the
//! engines can be scored on data their authors published.
//!
//! - [`amlworld`]: IBM's AMLworld transaction CSV (`HI-Small_Trans.csv` …) and its
//!   `*_Patterns.txt` (the laundering attempts, which become rings).
//! - [`amlsim`]: the output directory of IBM's AMLSim (`accounts.csv`, `transactions.csv`,
//!   `alert_accounts.csv`).
//!
//! Both stream their input (the files run to gigabytes) and write a directory that
//! `fanzha ingest DIR` loads with no rejection: `institutions.csv`, `accounts.csv`,
//! `transactions.csv` (AMLSim also `balances.csv`), the ground truth in `labels/`
//! (`entities.csv`, `flows.csv`, `rings.csv`), and `convert/rejections.csv`.
//!
//! A bad input line is skipped and reported (file, line, field, reason, original text), as
//! ingest quarantines a bad record: one garbled line of 180 million must not cost the
//! others. A file that cannot be read, or lacks a column the adapter needs, stops the
//! conversion: nothing in it could be converted right. The labels never go into the data
//! files (a label column in `transactions.csv` would be stored and seen by the engines).

pub mod amlsim;
pub mod amlworld;
mod labels;
mod output;
pub mod values;

use std::path::PathBuf;

pub use labels::roles;
pub use output::{LineError, WrittenFile};
pub use values::{Decimal, Rates};

/// Why a conversion could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty: no header row")]
    Empty { path: PathBuf },
    #[error("{path}: missing required column{} {}", if .columns.len() > 1 { "s" } else { "" }, .columns.join(", "))]
    MissingColumns { path: PathBuf, columns: Vec<String> },
    #[error("{path}: line {line}: {reason}")]
    Rates {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
}

/// What a conversion did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConvertReport {
    /// `amlworld` or `amlsim`.
    pub format: String,
    pub input: String,
    pub out: String,
    /// Records read from the input files (bad ones included).
    pub read: u64,
    /// Lines skipped as bad; all are in `convert/rejections.csv`.
    pub rejected: u64,
    /// The first of them, for the summary.
    pub first_rejections: Vec<LineError>,
    /// Every file written, with its rows.
    pub files: Vec<WrittenFile>,
    /// Laundering transactions (AMLworld `Is Laundering` = 1, AMLSim `is_sar`).
    pub laundering: u64,
    /// Rings written to `labels/rings.csv`.
    pub rings: u64,
    /// Laundering transactions that belong to no ring (AMLworld lists only some attempts).
    pub unattributed: u64,
    /// Pattern lines (AMLworld) that matched no laundering transaction of the file.
    pub unmatched_pattern_lines: u64,
    pub seconds: f64,
}
