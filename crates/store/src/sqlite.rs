//! The embedded backend: one SQLite file in WAL mode, written through rusqlite.
//!
//! rusqlite rather than sqlx here because ingest speed is the point of the embedded store:
//! prepared statements executed in one transaction per batch, with no async hop per row.
//! Calls run on tokio's blocking pool so the async [`Store`] interface stays honest.
//!
//! Writes go through one connection behind a mutex (SQLite has one writer at a time anyway).
//! Reads — the server's pages, sessions, keys — go through a small pool of read-only
//! connections: in WAL mode readers neither wait for the writer nor for each other, so two
//! hundred console users are not queued behind one mutex or behind an ingest.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fanzha_core::schema::{ColType, Kind, Role as ColRole, Row, Schema, Value};
use fanzha_core::vocab::Role;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, ToSql, TransactionBehavior};

use crate::compare::{self, classify, Verdict};
use crate::migrate::{self, API_KEY_COLS, MIGRATIONS, QUARANTINE_COLS, TRANSFER_COLS, USER_COLS};
use crate::reads::{self, risk as rsql, Arg, Cell, Rows, Stmt};
use crate::risk::{
    Appeal, AppealDecision, NewFeedback, NewThresholdDecision, NewWarning, OutboxItem, OutboxState,
    PrecisionBy, PrecisionRow, RiskModel, RiskModelCard, ScanCursor, ScanKind, ThresholdDecision,
    UpsertOutcome, WarnedEntity, Warning, WarningFilter,
};
use crate::risk::{
    AppealStatus, InstitutionFeedback, ScoreBin, ScoredAnswer, WarningStatus, WarningVersion,
};
use crate::{
    ApiKeyRow, AuditEntry, AuditFilter, AuditHead, Backend, Batch, BatchOutcome, Case, Dashboard,
    EntityRef, ExternalFreeze, Holding, InsiderFlag, NewAuditEntry, NewCase, NewOrder, NewRound,
    NewUser, Order, OrderChange, OrderFilter, PersonRow, Profile, QuarantineEntry, Rejection,
    ReportPayments, Result, Round, Scope, SearchHit, Store, StoreError, TransferCore, UserRow,
};

const AUDIT_HEAD_UPSERT_SQLITE: &str =
    "INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?1, ?2) \
     ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash";

pub struct SqliteStore {
    /// The one writer.
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections, or `None` for an in-memory database, which every connection
    /// would see as a different, empty one: there the writer reads too.
    readers: Option<Arc<ReadPool>>,
}

/// Read-only connections, opened as demand grows up to the pool's size and kept open.
struct ReadPool {
    path: String,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection the pool may have open at once.
    permits: Arc<tokio::sync::Semaphore>,
}

/// Two readers per core, at least two and at most eight: reads are CPU-bound on a warm
/// cache, and more connections than that only add memory (each has its own page cache).
fn read_pool_size() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .clamp(2, 8)
}

/// Whether `path` names a database private to each connection (`:memory:`, an empty name
/// for a temporary file, or a `mode=memory` URI).
fn is_private(path: &str) -> bool {
    path.is_empty() || path == ":memory:" || path.contains("mode=memory")
}

impl ReadPool {
    fn open_reader(&self) -> Result<Connection> {
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.execute_batch(
                "PRAGMA busy_timeout=10000; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;",
            )?;
            conn.set_prepared_statement_cache_capacity(128);
            Ok(conn)
        };
        open().map_err(|e| StoreError::Open {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &str) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        // WAL lets readers (the console) work while an ingest writes. With NORMAL sync a
        // killed process loses nothing committed; a power cut may lose the last commits
        // (never corrupt the file), which a rerun of the ingest restores.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; \
             PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
        )
        .map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        conn.set_prepared_statement_cache_capacity(64);
        let readers = (!is_private(path)).then(|| {
            Arc::new(ReadPool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(tokio::sync::Semaphore::new(read_pool_size())),
            })
        });
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            readers,
        })
    }

    /// Runs a read on a pooled read-only connection (on the writer for a private database).
    /// A read sees every batch committed before it started, as on the writer.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let Some(pool) = &self.readers else {
            return self.run(move |conn| f(conn)).await;
        };
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let pool = Arc::clone(pool);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(c) => c,
                None => pool.open_reader()?,
            };
            let out = f(&conn);
            // Back to the pool even after an error: a failed statement leaves the
            // connection usable (no transaction is held open between reads).
            pool.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still
            // consistent because SQLite rolls back the open transaction.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

struct Sql<'a>(&'a Value);

impl ToSql for Sql<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(value_ref(self.0)))
    }
}

fn value_ref(v: &Value) -> ValueRef<'_> {
    match v {
        Value::Null => ValueRef::Null,
        Value::Int(i) => ValueRef::Integer(*i),
        Value::Text(s) => ValueRef::Text(s.as_bytes()),
    }
}

/// An insert's parameters: the row's values, then its extras.
enum Param<'a> {
    Value(&'a Value),
    Extra(Option<&'a str>),
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Value(v) => Ok(ToSqlOutput::Borrowed(value_ref(v))),
            Param::Extra(e) => Ok(ToSqlOutput::Borrowed(
                e.map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())),
            )),
        }
    }
}

fn read_value(r: &rusqlite::Row<'_>, i: usize, ty: ColType) -> rusqlite::Result<Value> {
    Ok(match (r.get_ref(i)?, ty) {
        (ValueRef::Null, _) => Value::Null,
        (ValueRef::Integer(n), ColType::Int) => Value::Int(n),
        (ValueRef::Text(t), ColType::Text) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        (other, _) => {
            return Err(rusqlite::Error::InvalidColumnType(
                i,
                format!("{:?}", other.data_type()),
                other.data_type(),
            ))
        }
    })
}

/// The statements for one kind's table, built once from its schema.
struct KindSql {
    insert: String,
    select: String,
    update: String,
}

fn kind_sql(schema: &Schema) -> KindSql {
    let table = schema.kind.as_str();
    let cols: Vec<&str> = schema.columns.iter().map(|c| c.name).collect();
    let keys: Vec<&str> = schema.key_columns().map(|c| c.name).collect();
    let n = cols.len();
    let placeholders: Vec<String> = (1..=n + 1).map(|i| format!("?{i}")).collect();
    let key_where: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = ?{}", i + 1))
        .collect();
    let mutable: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| c.role == ColRole::Mutable)
        .map(|c| c.name)
        .collect();
    let sets: Vec<String> = mutable
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{m} = ?{}", keys.len() + i + 1))
        .collect();
    KindSql {
        insert: format!(
            "INSERT INTO {table} ({}, extra) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
            cols.join(", "),
            placeholders.join(", "),
            keys.join(", ")
        ),
        select: format!(
            "SELECT {} FROM {table} WHERE {}",
            cols.join(", "),
            key_where.join(" AND ")
        ),
        update: format!(
            "UPDATE {table} SET {} WHERE {}",
            sets.join(", "),
            key_where.join(" AND ")
        ),
    }
}

fn kind_sql_cached(kind: Kind) -> &'static KindSql {
    static CACHE: std::sync::OnceLock<HashMap<Kind, KindSql>> = std::sync::OnceLock::new();
    let map = CACHE.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| (*k, kind_sql(k.schema())))
            .collect()
    });
    // Every kind is in the map by construction.
    &map[&kind]
}

fn quarantine_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| migrate::quarantine_insert(|n| format!("?{n}")))
}

fn quarantine(tx: &rusqlite::Transaction<'_>, r: &Rejection, now: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(quarantine_sql())?.execute(params![
        r.origin.file,
        r.origin.line as i64,
        r.kind,
        r.field,
        r.reason,
        r.origin.original,
        now
    ])?;
    Ok(())
}

fn write_batch_sync(conn: &mut Connection, batch: Batch) -> Result<BatchOutcome> {
    let schema = batch.kind.schema();
    let sql = kind_sql_cached(batch.kind);
    let key_idx = schema.key_indices();
    let mut_idx = schema.indices_of(ColRole::Mutable);
    let now = crate::now_micros();
    let mut out = BatchOutcome::default();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(&sql.insert)?;
        for item in &batch.items {
            let n = insert.execute(rusqlite::params_from_iter(
                item.row
                    .values
                    .iter()
                    .map(Param::Value)
                    .chain([Param::Extra(item.row.extra.as_deref())]),
            ))?;
            if n == 1 {
                out.inserted += 1;
                continue;
            }
            let keys = key_idx.iter().map(|&i| Sql(&item.row.values[i]));
            let stored: Vec<Value> = tx.prepare_cached(&sql.select)?.query_row(
                rusqlite::params_from_iter(keys),
                |r| {
                    schema
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| read_value(r, i, c.ty))
                        .collect()
                },
            )?;
            match classify(schema, &stored, &item.row) {
                Verdict::Unchanged => out.unchanged += 1,
                Verdict::Update => {
                    let args = key_idx
                        .iter()
                        .chain(&mut_idx)
                        .map(|&i| Sql(&item.row.values[i]));
                    tx.prepare_cached(&sql.update)?
                        .execute(rusqlite::params_from_iter(args))?;
                    out.updated += 1;
                }
                Verdict::Conflict(reason) => {
                    let r = Rejection {
                        origin: item.origin.clone(),
                        kind: batch.kind.as_str().to_owned(),
                        field: compare::conflict_field(&reason),
                        reason,
                    };
                    quarantine(&tx, &r, now)?;
                    out.rejected += 1;
                    out.conflicts.push(r);
                }
            }
        }
    }
    for r in &batch.rejections {
        quarantine(&tx, r, now)?;
        out.rejected += 1;
    }
    tx.commit()?;
    Ok(out)
}

fn quarantine_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        id: r.get(0)?,
        file: r.get(1)?,
        line: r.get::<_, i64>(2)? as u64,
        kind: r.get(3)?,
        field: r.get(4)?,
        reason: r.get(5)?,
        original: r.get(6)?,
        quarantined_at: r.get(7)?,
    })
}

fn transfer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TransferCore> {
    Ok(TransferCore {
        tx_id: r.get(0)?,
        ts: r.get(1)?,
        from_account: r.get(2)?,
        to_account: r.get(3)?,
        amount_fen: r.get(4)?,
        extra: r.get(5)?,
    })
}

/// A user row as read, its role still text: a bad word is a [`StoreError::Corrupt`], which
/// rusqlite's row mapper cannot return.
fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(UserRow, String)> {
    Ok((
        UserRow {
            id: r.get(0)?,
            username: r.get(1)?,
            password_hash: r.get(2)?,
            role: fanzha_core::vocab::Role::Admin,
            disabled_at: r.get(4)?,
            institution_code: r.get(5)?,
            jurisdiction_code: r.get(6)?,
            created_at: r.get(7)?,
        },
        r.get(3)?,
    ))
}

fn user_from((mut user, role): (UserRow, String)) -> Result<UserRow> {
    user.role = crate::parse_role(&role)?;
    Ok(user)
}

type KeyFields = (i64, String, String, String, i64, Option<i64>);

fn api_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyFields> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn api_key_from(
    (id, institution_code, role, label, created_at, revoked_at): KeyFields,
) -> Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id,
        institution_code,
        role: crate::parse_role(&role)?,
        label,
        created_at,
        revoked_at,
    })
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        detail: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
    })
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Int(i) => ValueRef::Integer(*i),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// Builds the missing read indexes of one table, or of all.
fn build_read_indexes(conn: &Connection, table: Option<&str>) -> Result<()> {
    // The build runs after the load's parser has finished, so its core is idle: one sorter
    // helper thread makes the big sorts about a quarter faster. The sort spills to a
    // temporary file, not memory: a held sort of millions of keys would double the load's
    // peak memory, and the OS page cache keeps a spilled run fast anyway.
    conn.execute_batch("PRAGMA threads=1; PRAGMA temp_store=FILE;")?;
    let built = create_missing_indexes(conn, table);
    conn.execute_batch("PRAGMA threads=0; PRAGMA temp_store=MEMORY;")?;
    built
}

fn create_missing_indexes(conn: &Connection, table: Option<&str>) -> Result<()> {
    for (name, create) in migrate::read_indexes(Backend::Sqlite, table) {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
            [&name],
            |r| r.get(0),
        )?;
        if !exists {
            conn.execute(&create, [])?;
        }
    }
    Ok(())
}

/// Runs one of the shared statements and reads its rows as cells.
fn exec(conn: &Connection, st: &Stmt) -> Result<Rows> {
    let mut stmt = conn.prepare_cached(&st.sql)?;
    let n = st.cols.len();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(st.args.iter()), |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Int(v),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        other => {
                            return Err(rusqlite::Error::InvalidColumnType(
                                i,
                                format!("{:?}", other.data_type()),
                                other.data_type(),
                            ))
                        }
                    })
                })
                .collect()
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Runs `f` in one read transaction, so every statement in it sees one snapshot.
fn snapshot<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f();
    // A read transaction commits nothing; ending it releases the snapshot.
    conn.prepare_cached("COMMIT")?.execute([])?;
    out
}

/// Runs several statements in one read transaction.
fn exec_all<'a>(conn: &Connection, stmts: impl IntoIterator<Item = &'a Stmt>) -> Result<Vec<Rows>> {
    snapshot(conn, || {
        stmts.into_iter().map(|st| exec(conn, st)).collect()
    })
}

fn profile_sync(conn: &Connection, plan: reads::ProfilePlan) -> Result<Option<Profile>> {
    snapshot(conn, || {
        let Some(head) = exec(conn, &plan.head)?.into_iter().next() else {
            return Ok(None);
        };
        let body = plan
            .body
            .iter()
            .map(|st| exec(conn, st))
            .collect::<Result<Vec<_>>>()?;
        plan.assemble(head, body).map(Some)
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            Ok(conn
                .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }

    async fn migrate(&self) -> Result<Vec<u32>> {
        self.run(|conn| {
            conn.execute(migrate::LEDGER_DDL, [])?;
            let mut applied = Vec::new();
            for (version, sql) in MIGRATIONS {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let done: Option<i64> = tx
                    .query_row(
                        "SELECT version FROM schema_migrations WHERE version = ?1",
                        [*version],
                        |r| r.get(0),
                    )
                    .optional()?;
                if done.is_some() {
                    continue;
                }
                for stmt in migrate::render(sql, Backend::Sqlite) {
                    tx.execute(&stmt, []).map_err(|e| StoreError::Migration {
                        version: *version,
                        reason: e.to_string(),
                    })?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![version, crate::now_micros()],
                )?;
                tx.commit()?;
                applied.push(*version);
            }
            build_read_indexes(conn, None)?;
            Ok(applied)
        })
        .await
    }

    async fn defer_read_indexes(&self, kind: Kind) -> Result<bool> {
        self.run(move |conn| {
            let table = kind.as_str();
            let indexes = migrate::read_indexes(Backend::Sqlite, Some(table));
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let empty: bool = tx.query_row(
                &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
                [],
                |r| r.get(0),
            )?;
            if !empty || indexes.is_empty() {
                return Ok(false);
            }
            for (name, _) in &indexes {
                tx.execute(&format!("DROP INDEX IF EXISTS {name}"), [])?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn build_read_indexes(&self, kind: Kind) -> Result<()> {
        self.run(move |conn| build_read_indexes(conn, Some(kind.as_str())))
            .await
    }

    async fn write_batch(&self, batch: Batch) -> Result<BatchOutcome> {
        self.run(move |conn| write_batch_sync(conn, batch)).await
    }

    async fn counts(&self) -> Result<BTreeMap<String, u64>> {
        self.read(|conn| {
            let mut counts = crate::empty_counts();
            for (name, n) in counts.iter_mut() {
                *n = conn.query_row(&format!("SELECT COUNT(*) FROM {name}"), [], |r| {
                    r.get::<_, i64>(0)
                })? as u64;
            }
            let q: i64 = conn.query_row("SELECT COUNT(*) FROM quarantine", [], |r| r.get(0))?;
            counts.insert("quarantine".to_owned(), q as u64);
            Ok(counts)
        })
        .await
    }

    async fn quarantine_list(&self) -> Result<Vec<QuarantineEntry>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {QUARANTINE_COLS} FROM quarantine ORDER BY id"
            ))?;
            let rows = stmt
                .query_map([], quarantine_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = ?1"),
                    [id],
                    quarantine_row,
                )
                .optional()?)
        })
        .await
    }

    async fn person(&self, scope: &Scope, person_id: &str) -> Result<Option<PersonRow>> {
        let Some(st) = reads::person(Backend::Sqlite, scope, person_id) else {
            return Ok(None);
        };
        self.read(move |conn| Ok(reads::person_row(exec(conn, &st)?)))
            .await
    }

    async fn user_add(&self, user: &NewUser<'_>) -> Result<Option<i64>> {
        let (username, hash, role) = (
            user.username.to_owned(),
            user.password_hash.to_owned(),
            user.role,
        );
        let (institution, jurisdiction) = (
            user.institution_code.map(str::to_owned),
            user.jurisdiction_code.map(str::to_owned),
        );
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "INSERT INTO users (username, password_hash, role, created_at, institution_code, jurisdiction_code) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (username) DO NOTHING RETURNING id",
                    params![username, hash, role.as_str(), crate::now_micros(), institution, jurisdiction],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn user_list(&self) -> Result<Vec<UserRow>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))?;
            let rows = stmt.query_map([], user_row)?;
            rows.map(|r| user_from(r?)).collect()
        })
        .await
    }

    async fn user_set_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        let username = username.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let at = disabled.then(crate::now_micros);
            let id: Option<i64> = tx
                .query_row(
                    "UPDATE users SET disabled_at = ?1 WHERE username = ?2 RETURNING id",
                    params![at, username],
                    |r| r.get(0),
                )
                .optional()?;
            if let (Some(id), true) = (id, disabled) {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            tx.commit()?;
            Ok(id.is_some())
        })
        .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let username = username.to_owned();
        self.read(move |conn| {
            conn.query_row(
                &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
                [username],
                user_row,
            )
            .optional()?
            .map(user_from)
            .transpose()
        })
        .await
    }

    async fn user_reset(&self, user: &NewUser<'_>) -> Result<bool> {
        let (username, hash, role) = (
            user.username.to_owned(),
            user.password_hash.to_owned(),
            user.role,
        );
        let (institution, jurisdiction) = (
            user.institution_code.map(str::to_owned),
            user.jurisdiction_code.map(str::to_owned),
        );
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id: Option<i64> = tx
                .query_row(
                    "UPDATE users SET password_hash = ?1, role = ?2, institution_code = ?3, \
                     jurisdiction_code = ?4, disabled_at = NULL WHERE username = ?5 RETURNING id",
                    params![hash, role.as_str(), institution, jurisdiction, username],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = id {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            tx.commit()?;
            Ok(id.is_some())
        })
        .await
    }

    async fn api_key_add(
        &self,
        key_hash: &str,
        institution_code: &str,
        role: Role,
        label: &str,
    ) -> Result<i64> {
        let (hash, inst, label) = (
            key_hash.to_owned(),
            institution_code.to_owned(),
            label.to_owned(),
        );
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (key_hash, institution_code, role, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, inst, role.as_str(), label, crate::now_micros()],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn api_key_active(&self, key_hash: &str) -> Result<Option<ApiKeyRow>> {
        let hash = key_hash.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {API_KEY_COLS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL"
            ))?;
            stmt.query_row([hash], api_key_row)
                .optional()?
                .map(api_key_from)
                .transpose()
        })
        .await
    }

    async fn api_key_list(&self) -> Result<Vec<ApiKeyRow>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {API_KEY_COLS} FROM api_keys ORDER BY id"))?;
            let rows = stmt
                .query_map([], api_key_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(api_key_from).collect()
        })
        .await
    }

    async fn api_key_revoke(&self, id: i64) -> Result<bool> {
        self.run(move |conn| {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                params![crate::now_micros(), id],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn session_add(&self, token_hash: &str, user_id: i64, expires_at: i64) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user_id, crate::now_micros(), expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<UserRow>> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.username, u.password_hash, u.role, u.disabled_at, u.institution_code, \
                 u.jurisdiction_code, u.created_at FROM sessions s \
                 JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL",
            )?;
            stmt.query_row(params![token_hash, now], user_row)
                .optional()?
                .map(user_from)
                .transpose()
        })
        .await
    }

    async fn session_remove(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.run(move |conn| {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }

    async fn transfers_by_id(&self, ids: &[String]) -> Result<Vec<TransferCore>> {
        let ids = ids.to_vec();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TRANSFER_COLS} FROM transactions WHERE tx_id = ?1"
            ))?;
            let mut out = Vec::new();
            for id in &ids {
                if let Some(t) = stmt.query_row([id], transfer_row).optional()? {
                    out.push(t);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn report_payments(
        &self,
        scope: &Scope,
        report_id: Option<&str>,
    ) -> Result<Vec<ReportPayments>> {
        let st = reads::trace::report_payments(Backend::Sqlite, scope, report_id);
        self.read(move |conn| reads::trace::assemble_reports(exec(conn, &st)?))
            .await
    }

    async fn opening_balances(&self) -> Result<Vec<(String, i64, i64)>> {
        let st = reads::trace::balances(Backend::Sqlite);
        self.read(move |conn| Ok(reads::trace::assemble_balances(exec(conn, &st)?)))
            .await
    }

    async fn external_freezes(&self, account: Option<&str>) -> Result<Vec<ExternalFreeze>> {
        let st = reads::trace::external_freezes(Backend::Sqlite, account);
        self.read(move |conn| Ok(reads::trace::assemble_external_freezes(exec(conn, &st)?)))
            .await
    }

    async fn case_file(&self, case: &NewCase) -> Result<bool> {
        let st = reads::trace::case_add(Backend::Sqlite, case)?;
        self.run(move |conn| Ok(!exec(conn, &st)?.is_empty())).await
    }

    async fn case_get(&self, case_id: &str) -> Result<Option<Case>> {
        let st = reads::trace::case_get(Backend::Sqlite, case_id);
        self.read(move |conn| Ok(reads::trace::assemble_case(exec(conn, &st)?)))
            .await
    }

    async fn cases(&self) -> Result<Vec<Case>> {
        let st = reads::trace::cases(Backend::Sqlite);
        self.read(move |conn| Ok(reads::trace::assemble_cases(exec(conn, &st)?)))
            .await
    }

    async fn order_add(&self, order: &NewOrder) -> Result<i64> {
        let st = reads::trace::order_add(Backend::Sqlite, order)?;
        self.run(move |conn| {
            reads::single_int(exec(conn, &st)?)
                .ok_or_else(|| StoreError::Corrupt("an order insert returned no id".into()))
        })
        .await
    }

    async fn orders(&self, scope: &Scope, filter: &OrderFilter) -> Result<Vec<Order>> {
        let st = reads::trace::orders(Backend::Sqlite, scope, filter);
        self.read(move |conn| Ok(reads::trace::assemble_orders(exec(conn, &st)?)))
            .await
    }

    async fn order_change(&self, id: i64, from: &str, change: &OrderChange) -> Result<bool> {
        let st = reads::trace::order_change(Backend::Sqlite, id, from, change)?;
        self.run(move |conn| Ok(!exec(conn, &st)?.is_empty())).await
    }

    async fn round_open(&self, round: &NewRound) -> Result<Option<i64>> {
        let st = reads::trace::round_open(Backend::Sqlite, round)?;
        self.run(move |conn| Ok(reads::single_int(exec(conn, &st)?)))
            .await
    }

    async fn rounds(&self, account: Option<&str>) -> Result<Vec<Round>> {
        let st = reads::trace::rounds(Backend::Sqlite, account);
        self.read(move |conn| Ok(reads::trace::assemble_rounds(exec(conn, &st)?)))
            .await
    }

    async fn round_decide(&self, id: i64, by: &str, at: i64, decision_no: &str) -> Result<bool> {
        let st = reads::trace::round_decide(Backend::Sqlite, id, by, at, decision_no)?;
        self.run(move |conn| Ok(!exec(conn, &st)?.is_empty())).await
    }

    async fn reach_by_query(&self, report_id: &str, as_of: i64, depth: u32) -> Result<Vec<String>> {
        let st = reads::trace::reach(Backend::Sqlite, report_id, as_of, depth);
        self.read(move |conn| Ok(reads::trace::assemble_accounts(exec(conn, &st)?)))
            .await
    }

    async fn transfers_matching(
        &self,
        from: &str,
        to: &str,
        amount_fen: i64,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<TransferCore>> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TRANSFER_COLS} FROM transactions WHERE from_account = ?1 AND ts BETWEEN ?2 AND ?3 \
                 AND to_account = ?4 AND amount_fen = ?5 ORDER BY ts"
            ))?;
            let rows = stmt
                .query_map(params![from, lo, hi, to, amount_fen], transfer_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<AuditHead>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT last_id, hash FROM audit_head WHERE one = 1",
                    [],
                    |r| {
                        Ok(AuditHead {
                            last_id: r.get(0)?,
                            hash: r.get(1)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn audit_append_many(&self, entries: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut prev: String = tx
                .prepare_cached("SELECT hash FROM audit_head WHERE one = 1")?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or_else(|| compare::AUDIT_GENESIS.to_owned());
            let mut out = Vec::with_capacity(entries.len());
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for NewAuditEntry { actor, action, detail } in entries {
                    let at = crate::now_micros();
                    let hash = compare::audit_hash(&prev, at, &actor, &action, &detail);
                    insert.execute(params![at, actor, action, detail, prev, hash])?;
                    let id = tx.last_insert_rowid();
                    let prev_hash = std::mem::replace(&mut prev, hash.clone());
                    out.push(AuditEntry { id, at, actor, action, detail, prev_hash, hash });
                }
                // The head moves once per group, to the group's last entry, in the same
                // transaction: nobody sees the log and its head disagree.
                if let Some(last) = out.last() {
                    tx.prepare_cached(AUDIT_HEAD_UPSERT_SQLITE)?
                        .execute(params![last.id, last.hash])?;
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn audit_list(&self) -> Result<Vec<AuditEntry>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY id",
            )?;
            let rows = stmt
                .query_map([], audit_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn profile(
        &self,
        scope: &Scope,
        entity: &EntityRef,
        limit: u32,
    ) -> Result<Option<Profile>> {
        let Some(plan) = reads::ProfilePlan::new(Backend::Sqlite, scope, entity, limit) else {
            return Ok(None);
        };
        self.read(move |conn| profile_sync(conn, plan)).await
    }

    async fn search(&self, scope: &Scope, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(plan) = reads::SearchPlan::new(Backend::Sqlite, scope, query, limit) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| {
            let mut rows = exec_all(
                conn,
                plan.exact.iter().map(|(_, st)| st).chain([&plan.by_name]),
            )?;
            let by_name = rows.pop().unwrap_or_default();
            Ok(plan.assemble(rows, by_name))
        })
        .await
    }

    async fn dashboard(&self, scope: &Scope, from: i64, to: i64) -> Result<Dashboard> {
        let scope = scope.clone();
        self.read(move |conn| {
            let Some(plan) = reads::DashboardPlan::new(Backend::Sqlite, &scope, from, to) else {
                return Ok(Dashboard::default());
            };
            snapshot(conn, || {
                let by_day = exec(conn, &plan.by_day)?;
                let by_typology = exec(conn, &plan.by_typology)?;
                let (cases, checks) = plan.case_reports(exec(conn, &plan.cases)?);
                let in_scope = checks
                    .iter()
                    .map(|st| exec(conn, st))
                    .collect::<Result<Vec<_>>>()?;
                Ok(plan.assemble(by_day, by_typology, cases, in_scope))
            })
        })
        .await
    }

    async fn holdings(&self, person_id: &str) -> Result<Vec<Holding>> {
        let Some(st) = reads::holdings(Backend::Sqlite, person_id) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| reads::holding_rows(exec(conn, &st)?))
            .await
    }

    async fn data_end(&self) -> Result<Option<i64>> {
        self.read(|conn| {
            Ok(reads::single_int(exec(
                conn,
                &reads::data_end(Backend::Sqlite),
            )?))
        })
        .await
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<AuditEntry>, u64)> {
        let Some((page, count)) = reads::audit_page(Backend::Sqlite, filter, limit, offset) else {
            return Ok((Vec::new(), 0));
        };
        self.read(move |conn| {
            let mut rows = exec_all(conn, [&page, &count])?.into_iter();
            let entries = reads::audit_entries(rows.next().unwrap_or_default())?;
            let total = reads::single_int(rows.next().unwrap_or_default()).unwrap_or(0);
            Ok((entries, u64::try_from(total).unwrap_or(0)))
        })
        .await
    }

    async fn flag_add(
        &self,
        username: &str,
        day: &str,
        rule: &str,
        detail: &str,
    ) -> Result<Option<i64>> {
        let st = reads::flag_add(
            Backend::Sqlite,
            username,
            day,
            rule,
            detail,
            crate::now_micros(),
        );
        self.run(move |conn| Ok(reads::single_int(exec(conn, &st)?)))
            .await
    }

    async fn flag_list(&self) -> Result<Vec<InsiderFlag>> {
        self.read(|conn| reads::flags(exec(conn, &reads::flag_list(Backend::Sqlite))?))
            .await
    }

    async fn flag_review(&self, id: i64, auditor: &str) -> Result<bool> {
        let st = reads::flag_review(Backend::Sqlite, id, auditor, crate::now_micros());
        self.run(move |conn| Ok(!exec(conn, &st)?.is_empty())).await
    }

    async fn scan_events(
        &self,
        kind: ScanKind,
        after: Option<&ScanCursor>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        let st = rsql::scan(Backend::Sqlite, kind, after, limit);
        self.read(move |conn| Ok(rsql::scan_rows(exec(conn, &st)?)))
            .await
    }

    async fn warning_upsert(&self, warning: &NewWarning) -> Result<UpsertOutcome> {
        let plan = rsql::UpsertPlan::new(Backend::Sqlite, warning, crate::now_micros())?;
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (stmts, outcome) = match plan.after_insert(exec(&tx, &plan.insert())?) {
                Some(next) => next,
                None => plan.after_current(exec(&tx, &plan.current())?)?,
            };
            for st in &stmts {
                exec(&tx, st)?;
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn warning_withdraw(
        &self,
        entity: &WarnedEntity,
        at: i64,
    ) -> Result<Option<UpsertOutcome>> {
        let plan = rsql::WithdrawPlan::new(Backend::Sqlite, entity, at, crate::now_micros())?;
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some((stmts, outcome)) = plan.after_current(exec(&tx, &plan.current())?)? else {
                return Ok(None);
            };
            for st in &stmts {
                exec(&tx, st)?;
            }
            tx.commit()?;
            Ok(Some(outcome))
        })
        .await
    }

    async fn warning_get(&self, scope: &Scope, entity: &WarnedEntity) -> Result<Option<Warning>> {
        let Some(st) = rsql::warning_get(Backend::Sqlite, scope, entity) else {
            return Ok(None);
        };
        self.read(move |conn| Ok(rsql::warnings(exec(conn, &st)?)?.pop()))
            .await
    }

    async fn warning_list(
        &self,
        scope: &Scope,
        filter: &WarningFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Warning>> {
        let Some(st) = rsql::warning_list(Backend::Sqlite, scope, filter, limit, offset) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| rsql::warnings(exec(conn, &st)?))
            .await
    }

    async fn outbox_claim_due(&self, now: i64, limit: u32, lease: i64) -> Result<Vec<OutboxItem>> {
        // One statement on the one writer: no other claim can interleave with it.
        let st = rsql::outbox_claim(Backend::Sqlite, now, limit, lease);
        self.run(move |conn| rsql::outbox_items(exec(conn, &st)?))
            .await
    }

    async fn outbox_delivered(&self, id: i64, at: i64) -> Result<bool> {
        let st = rsql::outbox_delivered(Backend::Sqlite, id, at);
        self.run(move |conn| Ok(!exec(conn, &st)?.is_empty())).await
    }

    async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: i64,
        max_attempts: u32,
    ) -> Result<Option<OutboxState>> {
        let st = rsql::outbox_failed(Backend::Sqlite, id, error, retry_at, max_attempts);
        self.run(move |conn| rsql::outbox_state(exec(conn, &st)?))
            .await
    }

    async fn outbox_list(&self, state: Option<OutboxState>, limit: u32) -> Result<Vec<OutboxItem>> {
        let st = rsql::outbox_list(Backend::Sqlite, state, limit);
        self.read(move |conn| rsql::outbox_items(exec(conn, &st)?))
            .await
    }

    async fn feedback_record(&self, feedback: &NewFeedback) -> Result<bool> {
        let plan = rsql::FeedbackPlan::new(Backend::Sqlite, feedback)?;
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(stmts) = plan.writes(exec(&tx, &plan.target())?)? else {
                return Ok(false);
            };
            for st in &stmts {
                exec(&tx, st)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn precision(&self, by: PrecisionBy) -> Result<Vec<PrecisionRow>> {
        let st = rsql::precision(Backend::Sqlite, by);
        self.read(move |conn| rsql::precision_rows(exec(conn, &st)?))
            .await
    }

    async fn appeal_file(
        &self,
        entity: &WarnedEntity,
        person_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        let plan = rsql::AppealPlan::new(Backend::Sqlite, entity, person_id, reason, at)?;
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some((insert, update)) = plan.writes(exec(&tx, &plan.target())?)? else {
                return Ok(None);
            };
            let id = reads::single_int(exec(&tx, &insert)?);
            exec(&tx, &update)?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn appeal_decide(
        &self,
        id: i64,
        decision: AppealDecision,
        decided_by: &str,
        reason: &str,
        at: i64,
    ) -> Result<bool> {
        let plan = rsql::DecisionPlan::new(Backend::Sqlite, id, decision, decided_by, reason, at)?;
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(stmts) = plan.writes(exec(&tx, &plan.target())?)? else {
                return Ok(false);
            };
            for st in &stmts {
                exec(&tx, st)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn appeal_list(&self, entity: Option<&WarnedEntity>) -> Result<Vec<Appeal>> {
        let Some(st) = rsql::appeal_list(Backend::Sqlite, entity) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| rsql::appeals(exec(conn, &st)?)).await
    }

    async fn threshold_decision_add(&self, decision: &NewThresholdDecision) -> Result<i64> {
        let st = rsql::decision_add(Backend::Sqlite, decision)?;
        self.run(move |conn| {
            reads::single_int(exec(conn, &st)?)
                .ok_or_else(|| StoreError::Corrupt("a decision insert returned no id".into()))
        })
        .await
    }

    async fn threshold_decisions(&self) -> Result<Vec<ThresholdDecision>> {
        let st = rsql::decision_list(Backend::Sqlite);
        self.read(move |conn| rsql::decisions(exec(conn, &st)?))
            .await
    }

    async fn model_put(&self, model: &RiskModel) -> Result<bool> {
        rsql::check_model(&model.version, &model.card)?;
        let m = model.clone();
        self.run(move |conn| {
            let n = conn.execute(
                "INSERT INTO risk_models (version, created_at, artefact, card) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (version) DO NOTHING",
                params![m.version, m.created_at, m.artefact, m.card],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn model_get(&self, version: &str) -> Result<Option<RiskModel>> {
        let version = version.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT version, created_at, artefact, card FROM risk_models WHERE version = ?1",
                    [version],
                    |r| {
                        Ok(RiskModel {
                            version: r.get(0)?,
                            created_at: r.get(1)?,
                            artefact: r.get(2)?,
                            card: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn model_list(&self) -> Result<Vec<RiskModelCard>> {
        let st = rsql::model_list(Backend::Sqlite);
        self.read(move |conn| rsql::model_cards(exec(conn, &st)?))
            .await
    }

    async fn warning_versions(&self, entity: &WarnedEntity) -> Result<Vec<WarningVersion>> {
        let Some(st) = rsql::warning_versions(Backend::Sqlite, entity) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| rsql::versions(exec(conn, &st)?))
            .await
    }

    async fn warning_status_counts(&self, scope: &Scope) -> Result<Vec<(WarningStatus, u64)>> {
        let st = rsql::warning_status_counts(Backend::Sqlite, scope);
        self.read(move |conn| rsql::word_counts(exec(conn, &st)?))
            .await
    }

    async fn outbox_state_counts(&self) -> Result<Vec<(OutboxState, u64)>> {
        let st = rsql::outbox_state_counts(Backend::Sqlite);
        self.read(move |conn| rsql::word_counts(exec(conn, &st)?))
            .await
    }

    async fn outbox_resend_dead(&self, now: i64) -> Result<u64> {
        let st = rsql::outbox_resend_dead(Backend::Sqlite, now);
        self.run(move |conn| Ok(exec(conn, &st)?.len() as u64))
            .await
    }

    async fn institution_feedback(&self) -> Result<Vec<InstitutionFeedback>> {
        let st = rsql::institution_feedback(Backend::Sqlite);
        self.read(move |conn| rsql::institution_feedback_rows(exec(conn, &st)?))
            .await
    }

    async fn score_bins(&self) -> Result<Vec<ScoreBin>> {
        let st = rsql::score_bins(Backend::Sqlite);
        self.read(move |conn| rsql::score_bin_rows(exec(conn, &st)?))
            .await
    }

    async fn appeals_by_status(&self, status: Option<AppealStatus>) -> Result<Vec<Appeal>> {
        let st = rsql::appeals_by_status(Backend::Sqlite, status);
        self.read(move |conn| rsql::appeals(exec(conn, &st)?)).await
    }

    async fn answered_scores(&self, pattern: &str) -> Result<Vec<ScoredAnswer>> {
        let Some(st) = rsql::answered_scores(Backend::Sqlite, pattern) else {
            return Ok(Vec::new());
        };
        self.read(move |conn| rsql::scored_answers(exec(conn, &st)?))
            .await
    }

    async fn appeal_get(&self, id: i64) -> Result<Option<Appeal>> {
        let st = rsql::appeal_get(Backend::Sqlite, id);
        self.read(move |conn| Ok(rsql::appeals(exec(conn, &st)?)?.pop()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_readers_refuse_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").display().to_string();
        let store = SqliteStore::open(&path).unwrap();
        let pool = store.readers.as_ref().expect("a file store has readers");
        let reader = pool.open_reader().unwrap();
        assert!(reader.execute("CREATE TABLE t (x)", []).is_err());
        reader
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .unwrap();
    }

    #[tokio::test]
    async fn scans_are_one_index_range_without_a_sort() {
        let store = SqliteStore::open(":memory:").unwrap();
        store.migrate().await.unwrap();
        let conn = store.conn.lock().unwrap();
        let after = crate::risk::ScanCursor {
            ts: 1,
            id: "x".into(),
        };
        for kind in crate::risk::ScanKind::ALL {
            for cursor in [None, Some(&after)] {
                let st = rsql::scan(Backend::Sqlite, kind, cursor, 1000);
                let mut stmt = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {}", st.sql))
                    .unwrap();
                let plan: Vec<String> = stmt
                    .query_map(rusqlite::params_from_iter(st.args.iter()), |r| r.get(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let plan = plan.join(" | ");
                let index = format!("{}_scan", kind.kind().as_str());
                assert!(
                    plan.contains(&index) && !plan.contains("TEMP B-TREE"),
                    "{kind:?}: {plan}"
                );
                if cursor.is_some() {
                    assert!(plan.contains('>'), "the cursor bounds the range: {plan}");
                }
            }
        }
    }

    #[test]
    fn private_databases_have_no_readers() {
        assert!(SqliteStore::open(":memory:").unwrap().readers.is_none());
        assert!(SqliteStore::open("").unwrap().readers.is_none());
    }
}
