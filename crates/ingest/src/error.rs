//! Why a whole file could not be used. A bad *record* is not an error: it is a
//! [`fanzha_store::Rejection`] and goes to the quarantine while the rest of the file is stored.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the kind cannot be told from the file name `{stem}`; name it after a kind (e.g. transactions.csv) or pass --kind. {detail}")]
    UnknownKind {
        path: PathBuf,
        stem: String,
        detail: String,
    },
    #[error(
        "{path}: unsupported file type `{ext}`; expected .csv, .jsonl, .ndjson, .json or .xlsx"
    )]
    UnsupportedFormat { path: PathBuf, ext: String },
    #[error("{path}: missing required column{} {}", if .columns.len() > 1 { "s" } else { "" }, .columns.join(", "))]
    MissingColumns { path: PathBuf, columns: Vec<String> },
    #[error("{path}: the header row is unusable: {reason}")]
    BadHeader { path: PathBuf, reason: String },
    #[error("{path}: the file is empty: no header row")]
    Empty { path: PathBuf },
    #[error("{path}: {reason}")]
    Statement { path: PathBuf, reason: String },
    #[error("{path}: bad profile: {reason}")]
    Profile { path: PathBuf, reason: String },
    #[error(
        "{path}: reading stopped unexpectedly ({reason}); what was committed is kept, run it again"
    )]
    Internal { path: PathBuf, reason: String },
    #[error("{path}: storing failed: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: fanzha_store::StoreError,
    },
}
