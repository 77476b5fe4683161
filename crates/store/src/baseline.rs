//! Plain bulk loads of a transactions CSV, with no checks, no keys and no indexes: the
//! baselines that `fanzha bench` measures the store's ingest against in the same run. They
//! drive the databases' own command-line loaders (`sqlite3 .import`, `psql \copy`).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::StoreError;

const COLUMNS: &str =
    "tx_id, ts, from_account, to_account, amount_fen, channel, memo, device_id, ip, cell_id";

fn failed(tool: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: tool.to_owned(),
        reason: reason.to_string(),
    }
}

/// Loads `csv` into a new SQLite file at `db` with `sqlite3 .import`; returns the time taken.
pub fn sqlite_import(csv: &Path, db: &Path) -> Result<Duration, StoreError> {
    let path = csv.display().to_string().replace('"', "\\\"");
    let t = Instant::now();
    let status = Command::new("sqlite3")
        .arg(db)
        .arg(format!("CREATE TABLE transactions ({COLUMNS});"))
        .arg(format!(".import --csv --skip 1 \"{path}\" transactions"))
        .status()
        .map_err(|e| {
            failed(
                "sqlite3",
                format!("{e} (install it: apt-get install sqlite3)"),
            )
        })?;
    if !status.success() {
        return Err(failed("sqlite3", format!(".import exited with {status}")));
    }
    Ok(t.elapsed())
}

/// Loads `csv` with `psql \copy` into a new unindexed table in `schema`; returns the time
/// taken. The file goes to psql on its standard input, so no path is spelled into a command.
pub fn pg_copy(url: &str, schema: &str, csv: &Path) -> Result<Duration, StoreError> {
    crate::postgres::check_schema_name(schema).map_err(|r| failed("psql", r))?;
    let input = File::open(csv).map_err(|e| failed("psql", e))?;
    let t = Instant::now();
    // psql runs each -c in one session; a backslash command must stand alone.
    let status = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!(
            "SET search_path TO {schema}; CREATE TABLE plain (tx_id text, ts text, from_account text, \
             to_account text, amount_fen bigint, channel text, memo text, device_id text, ip text, cell_id text)"
        ))
        .args(["-c", "\\copy plain FROM pstdin CSV HEADER"])
        .stdin(Stdio::from(input))
        .status()
        .map_err(|e| failed("psql", e))?;
    if !status.success() {
        return Err(failed("psql", format!("\\copy exited with {status}")));
    }
    Ok(t.elapsed())
}

/// Drops a scratch schema and everything in it.
pub fn pg_drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    crate::postgres::check_schema_name(schema).map_err(|r| failed("psql", r))?;
    let status = Command::new("psql")
        .arg(url)
        .args(["-q", "-c"])
        .arg(format!(
            "SET client_min_messages = warning; DROP SCHEMA IF EXISTS {schema} CASCADE"
        ))
        .status()
        .map_err(|e| failed("psql", e))?;
    if !status.success() {
        return Err(failed("psql", format!("DROP SCHEMA exited with {status}")));
    }
    Ok(())
}
