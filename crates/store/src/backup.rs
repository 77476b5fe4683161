//! Backups and restores of a whole store, on either backend.
//!
//! SQLite: SQLite's online backup API copies every page in one step, which reads one
//! consistent snapshot; in WAL mode that snapshot does not block a running server's
//! writers, so a backup can be taken while `fanzha serve` works on the same file. Restoring
//! goes through the same API in the other direction, so the target's WAL and shared-memory
//! files stay consistent with its pages (a file copied over a database with a live `-wal`
//! beside it would be corrupted by that WAL).
//!
//! PostgreSQL: `pg_dump --format=custom` of the store's schema (the URL's `?schema=`, else
//! `public`) and `pg_restore`. A dump restores into a schema of another name by being
//! restored under its own name and renamed, which needs that name free in the target
//! database.
//!
//! Either way a backup is written beside its destination and renamed into place, so a failed
//! backup never leaves a half-written file where a good one is expected; and a restore
//! refuses a target that holds data unless forced, and a file that is not a Fanzha backup.

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use sqlx::{Connection as _, Executor as _, Row as _};

use crate::migrate::MIGRATIONS;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("{path} exists; give --force to replace it")]
    Exists { path: String },
    #[error("{target} holds data; give --force to replace it with the backup")]
    TargetNotEmpty { target: String },
    #[error("{path} is not a Fanzha backup: {reason}")]
    NotFanzha { path: String, reason: String },
    #[error("{tool} was not found; install the PostgreSQL client tools (Debian: postgresql-client), the same major version as the server or newer")]
    ToolMissing { tool: &'static str },
    #[error("{tool} failed ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error("the backup's schema {schema} exists in the target database; restore into schema {schema}, or into another database")]
    SchemaClash { schema: String },
    #[error("schema name `{0}` must be ASCII letters, digits and _")]
    SchemaName(String),
    #[error("backup task failed: {0}")]
    Task(String),
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

/// What a backup or restore did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The backup file's size.
    pub bytes: u64,
    /// PostgreSQL: the schema dumped, or restored into.
    pub schema: Option<String>,
}

fn is_postgres(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackupError::Task(e.to_string()))?
}

/// Writes a backup of the store at `target` to `file`; refuses an existing `file` unless
/// `force`.
pub async fn backup(target: &str, file: &Path, force: bool) -> Result<Report> {
    if !force && file.exists() {
        return Err(BackupError::Exists {
            path: file.display().to_string(),
        });
    }
    let partial = partial_path(file);
    let made = if is_postgres(target) {
        pg_dump(target, &partial).await
    } else {
        let (target, partial) = (target.to_owned(), partial.clone());
        blocking(move || sqlite_backup(&target, &partial)).await
    };
    let schema = match made {
        Ok(schema) => schema,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, file).map_err(io(file))?;
    let bytes = std::fs::metadata(file).map_err(io(file))?.len();
    Ok(Report {
        backend: if is_postgres(target) {
            "postgres"
        } else {
            "sqlite"
        },
        bytes,
        schema,
    })
}

/// Replaces the store at `target` with the backup in `file`; refuses a target that holds
/// data unless `force`, and a file that is not a Fanzha backup of the target's backend.
pub async fn restore(file: &Path, target: &str, force: bool) -> Result<Report> {
    let bytes = std::fs::metadata(file).map_err(io(file))?.len();
    let schema = if is_postgres(target) {
        pg_restore(file, target, force).await?
    } else {
        let (file, target) = (file.to_owned(), target.to_owned());
        blocking(move || sqlite_restore(&file, &target, force)).await?;
        None
    };
    Ok(Report {
        backend: if is_postgres(target) {
            "postgres"
        } else {
            "sqlite"
        },
        bytes,
        schema,
    })
}

/// `FILE.partial-PID` beside `file`: the same file system, so the rename is atomic.
fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    file.with_file_name(name)
}

/// What kind of file a backup is, by its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum Magic {
    Sqlite,
    PgDump,
    Other,
}

fn magic(file: &Path) -> Result<Magic> {
    use std::io::Read as _;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(file).map_err(io(file))?;
    let n = f.read(&mut head).map_err(io(file))?;
    Ok(if head[..n].starts_with(b"SQLite format 3\0") {
        Magic::Sqlite
    } else if head[..n].starts_with(b"PGDMP") {
        Magic::PgDump
    } else {
        Magic::Other
    })
}

fn not_fanzha(file: &Path, reason: impl Into<String>) -> BackupError {
    BackupError::NotFanzha {
        path: file.display().to_string(),
        reason: reason.into(),
    }
}

// ---- SQLite ----

/// Copies every page in one step: one read transaction, so one consistent snapshot, which
/// in WAL mode other processes' writers do not wait for. (Copying in slices would restart
/// whenever another process writes, and a busy server writes all the time.)
fn copy_all(from: &Connection, to: &mut Connection) -> Result<()> {
    let backup = Backup::new(from, to)?;
    let mut waits = 0;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Busy, Locked, and whatever a later SQLite adds: wait and step again.
            _ => {
                waits += 1;
                if waits > 100 {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                        Some("the database stayed locked for 10 s".into()),
                    )
                    .into());
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

fn sqlite_backup(target: &str, partial: &Path) -> Result<Option<String>> {
    if !Path::new(target).is_file() {
        return Err(BackupError::Io {
            path: target.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such database file"),
        });
    }
    let src = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let _ = std::fs::remove_file(partial);
    let mut dst = Connection::open(partial)?;
    copy_all(&src, &mut dst)?;
    // One self-contained file: no -wal beside it to lose when it is copied elsewhere.
    dst.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
    check_sqlite_backup(partial, &dst)?;
    Ok(None)
}

/// That a SQLite file is a sound Fanzha database this build can open: the pages check out,
/// the migrations ledger and the audit trail are there, and no migration is newer than ours.
fn check_sqlite_backup(file: &Path, conn: &Connection) -> Result<()> {
    let bad = |reason: String| not_fanzha(file, reason);
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| bad(e.to_string()))?;
    if check != "ok" {
        return Err(bad(format!("integrity check: {check}")));
    }
    for table in ["schema_migrations", "audit_log"] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| bad(e.to_string()))?;
        if n == 0 {
            return Err(bad(format!("it has no {table} table")));
        }
    }
    let version: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .map_err(|e| bad(e.to_string()))?;
    let ours = MIGRATIONS.last().map_or(0, |(v, _)| i64::from(*v));
    if version.unwrap_or(0) > ours {
        return Err(bad(format!(
            "it is at schema version {}, newer than this build's {ours}",
            version.unwrap_or(0)
        )));
    }
    Ok(())
}

/// Whether a SQLite file holds any row in any table (the migrations ledger aside): a fresh
/// store, which opening the CLI creates and migrates, holds none.
fn sqlite_holds_data(conn: &Connection) -> Result<bool> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for t in tables {
        let quoted = t.replace('"', "\"\"");
        let any: i64 = conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM \"{quoted}\")"),
            [],
            |r| r.get(0),
        )?;
        if any != 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn sqlite_restore(file: &Path, target: &str, force: bool) -> Result<()> {
    match magic(file)? {
        Magic::Sqlite => {}
        Magic::PgDump => {
            return Err(not_fanzha(
                file,
                "it is a PostgreSQL dump; restore it with --db postgres://…",
            ))
        }
        Magic::Other => return Err(not_fanzha(file, "it is not a SQLite database")),
    }
    let src = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    check_sqlite_backup(file, &src)?;
    let exists = Path::new(target).exists();
    let mut dst = Connection::open(target)?;
    dst.busy_timeout(std::time::Duration::from_secs(10))?;
    if exists && !force {
        // A file that is not a database at all is not ours to overwrite either.
        let holds = sqlite_holds_data(&dst).unwrap_or(true);
        if holds {
            return Err(BackupError::TargetNotEmpty {
                target: target.to_owned(),
            });
        }
    }
    copy_all(&src, &mut dst)?;
    Ok(())
}

// ---- PostgreSQL ----

/// A store URL as the PostgreSQL tools take it: without `schema=` (ours, not libpq's) and
/// without the password, which goes in `PGPASSWORD` so it never shows in the process list.
struct LibpqTarget {
    url: String,
    password: Option<String>,
    schema: String,
    /// The URL sqlx connects with (schema taken out, password kept).
    sqlx_url: String,
}

fn libpq_target(target: &str) -> Result<LibpqTarget> {
    let (url, schema) = crate::split_schema(target);
    let schema = schema.unwrap_or_else(|| "public".to_owned());
    crate::postgres::check_schema_name(&schema)
        .map_err(|_| BackupError::SchemaName(schema.clone()))?;
    let mut without = url.clone();
    let mut password = None;
    if let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@')) {
        if at > scheme_end {
            let creds = &url[scheme_end + 3..at];
            if let Some((user, pass)) = creds.split_once(':') {
                password = Some(percent_decode(pass));
                without = format!("{}{user}{}", &url[..scheme_end + 3], &url[at..]);
            }
        }
    }
    Ok(LibpqTarget {
        url: without,
        password,
        schema,
        sqlx_url: url,
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool to completion on the blocking pool.
async fn tool(tool: &'static str, args: Vec<String>, password: Option<String>) -> Result<String> {
    blocking(move || {
        let mut cmd = Command::new(tool);
        cmd.args(&args);
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        let out = cmd.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BackupError::ToolMissing { tool },
            _ => BackupError::Io {
                path: tool.to_owned(),
                source: e,
            },
        })?;
        if !out.status.success() {
            return Err(BackupError::Tool {
                tool,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    })
    .await
}

async fn pg_dump(target: &str, partial: &Path) -> Result<Option<String>> {
    let t = libpq_target(target)?;
    // A schema that does not exist would dump as an empty file that restores to nothing.
    let mut conn = sqlx::PgConnection::connect(&t.sqlx_url).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(&t.schema)
            .fetch_one(&mut conn)
            .await?;
    conn.close().await?;
    if !exists {
        return Err(BackupError::NotFanzha {
            path: crate::redact_target(target),
            reason: format!("schema {} does not exist", t.schema),
        });
    }
    tool(
        "pg_dump",
        vec![
            "--format=custom".into(),
            format!("--schema={}", t.schema),
            "--no-owner".into(),
            "--no-privileges".into(),
            format!("--file={}", partial.display()),
            format!("--dbname={}", t.url),
        ],
        t.password,
    )
    .await?;
    let dumped = dump_schema(partial).await?;
    Ok(Some(dumped))
}

/// The schema a dump's Fanzha tables live in, read from its table of contents; an error if
/// it is not a dump, or not of a Fanzha store.
async fn dump_schema(file: &Path) -> Result<String> {
    let listing = tool(
        "pg_restore",
        vec!["--list".into(), file.display().to_string()],
        None,
    )
    .await
    .map_err(|e| match e {
        BackupError::Tool { stderr, .. } => not_fanzha(file, stderr),
        e => e,
    })?;
    // Entries read `ID; OID OID TABLE schema name owner`.
    let table_schema = |name: &str| {
        listing.lines().find_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let i = words.iter().position(|w| *w == "TABLE")?;
            (words.get(i + 2) == Some(&name) && i >= 1 && words[i - 1] != "DATA")
                .then(|| words.get(i + 1).map(|s| (*s).to_owned()))
                .flatten()
        })
    };
    match (table_schema("schema_migrations"), table_schema("audit_log")) {
        (Some(a), Some(b)) if a == b => Ok(a),
        _ => Err(not_fanzha(
            file,
            "it holds no schema_migrations and audit_log tables",
        )),
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Whether a schema exists, and whether any of its tables holds a row.
async fn pg_schema_state(conn: &mut sqlx::PgConnection, schema: &str) -> Result<(bool, bool)> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Ok((false, false));
    }
    let tables: Vec<String> = sqlx::query(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    for t in tables {
        let any: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{})",
            quote_ident(schema),
            quote_ident(&t)
        ))
        .fetch_one(&mut *conn)
        .await?;
        if any {
            return Ok((true, true));
        }
    }
    Ok((true, false))
}

async fn pg_restore(file: &Path, target: &str, force: bool) -> Result<Option<String>> {
    match magic(file)? {
        Magic::PgDump => {}
        Magic::Sqlite => {
            return Err(not_fanzha(
                file,
                "it is a SQLite backup; restore it with --db PATH",
            ))
        }
        Magic::Other => return Err(not_fanzha(file, "it is not a pg_dump archive")),
    }
    let source = dump_schema(file).await?;
    let t = libpq_target(target)?;
    let mut conn = sqlx::PgConnection::connect(&t.sqlx_url).await?;
    if source != t.schema && pg_schema_state(&mut conn, &source).await?.0 {
        return Err(BackupError::SchemaClash { schema: source });
    }
    let (exists, holds) = pg_schema_state(&mut conn, &t.schema).await?;
    if holds && !force {
        return Err(BackupError::TargetNotEmpty {
            target: crate::redact_target(target),
        });
    }
    if exists {
        // Empty (or forced): the dump brings the schema and every table in it.
        conn.execute(format!("DROP SCHEMA {} CASCADE", quote_ident(&t.schema)).as_str())
            .await?;
    }
    conn.close().await?;
    tool(
        "pg_restore",
        vec![
            "--exit-on-error".into(),
            "--single-transaction".into(),
            "--no-owner".into(),
            "--no-privileges".into(),
            format!("--dbname={}", t.url),
            file.display().to_string(),
        ],
        t.password.clone(),
    )
    .await?;
    if source != t.schema {
        let mut conn = sqlx::PgConnection::connect(&t.sqlx_url).await?;
        conn.execute(
            format!(
                "ALTER SCHEMA {} RENAME TO {}",
                quote_ident(&source),
                quote_ident(&t.schema)
            )
            .as_str(),
        )
        .await?;
        conn.close().await?;
    }
    Ok(Some(t.schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let t = libpq_target("postgres://fz:s%40cret@h:5432/db?schema=a1&sslmode=disable").unwrap();
        assert_eq!(t.url, "postgres://fz@h:5432/db?sslmode=disable");
        assert_eq!(t.password.as_deref(), Some("s@cret"));
        assert_eq!(t.schema, "a1");
        let t = libpq_target("postgres://fz@h/db").unwrap();
        assert_eq!(
            (t.url.as_str(), t.password, t.schema.as_str()),
            ("postgres://fz@h/db", None, "public")
        );
        assert!(libpq_target("postgres://h/db?schema=a;drop").is_err());
    }

    #[test]
    fn a_partial_backup_is_written_beside_its_file() {
        let p = partial_path(Path::new("/backups/fanzha.db"));
        assert_eq!(p.parent(), Some(Path::new("/backups")));
        assert!(p
            .to_string_lossy()
            .starts_with("/backups/fanzha.db.partial-"));
    }
}
