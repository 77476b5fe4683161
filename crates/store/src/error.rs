//! The store's errors: nearly all are internal (a database or I/O failure); a client's bad
//! record never reaches here as an error, it arrives as a [`crate::Rejection`]. The one
//! exception is [`StoreError::Invalid`]: a value no backend can store (a NUL in text, a
//! non-finite number), refused before it reaches the database.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("migration {version} failed: {reason}")]
    Migration { version: u32, reason: String },
    #[error("stored data is not in the expected layout: {0}")]
    Corrupt(String),
    #[error("cannot be stored: {0}")]
    Invalid(String),
    #[error("store task failed: {0}")]
    Task(String),
}
