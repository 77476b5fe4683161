//! The shared-deployment backend: PostgreSQL through sqlx, bulk-loaded with COPY.
//!
//! A batch is copied into a per-transaction staging table, compared with what is stored in
//! one join, and inserted with one `INSERT … SELECT … ON CONFLICT DO NOTHING`; only the rows
//! that were already known come back to Rust to be classified (repeat, update, conflict)
//! by the same rules as the SQLite backend.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use async_trait::async_trait;
use fanzha_core::schema::{ColType, Kind, Role as ColRole, Row, Schema, Value};
use fanzha_core::vocab::Role;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Executor, PgConnection, PgPool, Row as _};

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
    EntityRef, ExternalFreeze, Holding, InsiderFlag, Item, NewAuditEntry, NewCase, NewOrder,
    NewRound, NewUser, Order, OrderChange, OrderFilter, PersonRow, Profile, QuarantineEntry,
    Rejection, ReportPayments, Result, Round, Scope, SearchHit, Store, StoreError, TransferCore,
    UserRow,
};

/// Advisory-lock keys: one for migrations, one for the audit chain's tail.
const MIGRATION_LOCK: i64 = 0x46_5a_4d_49_47;
const AUDIT_LOCK: i64 = 0x46_5a_41_55_44;

/// A schema name is spelled into SQL, so only plain identifiers are accepted.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), String> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "schema name `{schema}` must be ASCII letters, digits and _"
        ));
    }
    Ok(())
}

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        Self::connect_with(opts).await
    }

    /// Connects with every session's `search_path` set to `schema`, creating the schema if
    /// needed: separate schemas give tests (and tenants) their own tables in one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self> {
        check_schema_name(schema).map_err(|reason| StoreError::Open {
            path: crate::redact_target(url),
            reason,
        })?;
        let opts = PgConnectOptions::from_str(url)?;
        let setup = PgPool::connect_with(opts.clone()).await?;
        setup
            .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
            .await?;
        setup.close().await;
        Self::connect_with(opts.options([("search_path", schema)])).await
    }

    /// Builds the missing read indexes of one table, or of all. Looking first keeps a store
    /// that has them all from taking even a brief lock on each table.
    async fn build_missing(&self, table: Option<&str>) -> Result<()> {
        for (name, create) in migrate::read_indexes(Backend::Postgres, table) {
            let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                .bind(&name)
                .fetch_one(&self.pool)
                .await?;
            if !exists {
                sqlx::query(&create).execute(&self.pool).await?;
            }
        }
        Ok(())
    }

    async fn connect_with(opts: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(PgStore { pool })
    }
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    v: &'q Value,
    ty: ColType,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    match (v, ty) {
        (Value::Int(i), _) => q.bind(*i),
        (Value::Text(s), _) => q.bind(s.as_str()),
        (Value::Null, ColType::Int) => q.bind(None::<i64>),
        (Value::Null, ColType::Text) => q.bind(None::<String>),
    }
}

fn read_value(r: &PgRow, i: usize, ty: ColType) -> Result<Value> {
    Ok(match ty {
        ColType::Int => r
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        ColType::Text => r
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

/// Appends a value in COPY's text format.
fn copy_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Text(s) => copy_text(out, s),
    }
}

fn copy_text(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// Streams rows in COPY text format; with `ord`, each row's index in the batch follows.
async fn copy_rows(
    conn: &mut PgConnection,
    sql: &str,
    items: &[Item],
    members: &[usize],
    ord: bool,
) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(sql).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    for &n in members {
        let row = &items[n].row;
        for v in &row.values {
            copy_value(&mut buf, v);
            buf.push(b'\t');
        }
        match &row.extra {
            Some(e) => copy_text(&mut buf, e),
            None => buf.extend_from_slice(b"\\N"),
        }
        if ord {
            buf.push(b'\t');
            buf.extend_from_slice(n.to_string().as_bytes());
        }
        buf.push(b'\n');
        if buf.len() >= (1 << 20) {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// Whether any of up to 16 keys spread across the round is already stored.
async fn any_known(
    conn: &mut PgConnection,
    schema: &Schema,
    items: &[Item],
    members: &[usize],
) -> Result<bool> {
    let key_idx = schema.key_indices();
    let step = members.len().div_ceil(16).max(1);
    let sample: Vec<usize> = members.iter().step_by(step).copied().collect();
    let mut tuples = Vec::with_capacity(sample.len());
    let mut p = 0;
    for _ in &sample {
        let ph: Vec<String> = key_idx
            .iter()
            .map(|_| {
                p += 1;
                format!("${p}")
            })
            .collect();
        tuples.push(format!("({})", ph.join(", ")));
    }
    let keys: Vec<&str> = schema.key_columns().map(|c| c.name).collect();
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE ({}) IN ({}))",
        schema.kind.as_str(),
        keys.join(", "),
        tuples.join(", ")
    );
    let mut q = sqlx::query_scalar::<_, bool>(&sql);
    for &n in &sample {
        for &i in &key_idx {
            q = match &items[n].row.values[i] {
                Value::Int(v) => q.bind(*v),
                Value::Text(t) => q.bind(t.as_str()),
                Value::Null => q.bind(None::<String>),
            };
        }
    }
    Ok(q.fetch_one(&mut *conn).await?)
}

/// Splits a batch into rounds in which no key repeats, so that a record given twice in one
/// batch is compared with its earlier appearance exactly as with one stored earlier. A record
/// repeated exactly (same values as the key's previous appearance) needs no round of its own:
/// it is counted as unchanged, as SQLite would find it. Returns the rounds and that count.
fn rounds(schema: &Schema, items: &[Item]) -> (Vec<Vec<usize>>, u64) {
    let key_idx = schema.key_indices();
    // Per key: how many rounds it is in so far, and its latest appearance.
    let mut seen: HashMap<Vec<&Value>, (usize, usize)> = HashMap::with_capacity(items.len());
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut repeats = 0;
    for (n, item) in items.iter().enumerate() {
        let key: Vec<&Value> = key_idx.iter().map(|&i| &item.row.values[i]).collect();
        let round = match seen.get_mut(&key) {
            Some((_, last)) if items[*last].row == item.row => {
                repeats += 1;
                continue;
            }
            Some((count, last)) => {
                *last = n;
                *count += 1;
                *count - 1
            }
            None => {
                seen.insert(key, (1, n));
                0
            }
        };
        if rounds.len() <= round {
            rounds.push(Vec::new());
        }
        rounds[round].push(n);
    }
    (rounds, repeats)
}

async fn quarantine(conn: &mut PgConnection, r: &Rejection, now: i64) -> Result<()> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    sqlx::query(SQL.get_or_init(|| migrate::quarantine_insert(|n| format!("${n}"))))
        .bind(&*r.origin.file)
        .bind(r.origin.line as i64)
        .bind(&r.kind)
        .bind(&r.field)
        .bind(&r.reason)
        .bind(&r.origin.original)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

async fn write_round(
    conn: &mut PgConnection,
    kind: Kind,
    items: &[Item],
    members: &[usize],
    out: &mut BatchOutcome,
    now: i64,
) -> Result<()> {
    let schema = kind.schema();
    let table = kind.as_str();
    let stage = format!("fz_stage_{table}");
    let cols: Vec<&str> = schema.columns.iter().map(|c| c.name).collect();
    let col_list = cols.join(", ");
    let keys: Vec<&str> = schema.key_columns().map(|c| c.name).collect();
    let key_join: Vec<String> = keys.iter().map(|k| format!("t.{k} = s.{k}")).collect();

    // A first load is the common bulk case: when none of a sample of the keys is known, COPY
    // straight into the table, and fall back to staging only if a key turns out to exist.
    if !any_known(conn, schema, items, members).await? {
        conn.execute("SAVEPOINT fz_direct").await?;
        let direct = format!("COPY {table} ({col_list}, extra) FROM STDIN");
        match copy_rows(conn, &direct, items, members, false).await {
            Ok(()) => {
                conn.execute("RELEASE SAVEPOINT fz_direct").await?;
                out.inserted += members.len() as u64;
                return Ok(());
            }
            Err(e) if is_unique_violation(&e) => {
                conn.execute("ROLLBACK TO SAVEPOINT fz_direct").await?;
            }
            Err(e) => return Err(e.into()),
        }
    }

    conn.execute(
        format!(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}, ord BIGINT) ON COMMIT DROP"
        )
        .as_str(),
    )
    .await?;
    conn.execute(format!("TRUNCATE {stage}").as_str()).await?;
    let staged = format!("COPY {stage} ({col_list}, extra, ord) FROM STDIN");
    copy_rows(conn, &staged, items, members, true).await?;

    let inserted = conn
        .execute(
            format!(
                "INSERT INTO {table} ({col_list}, extra) SELECT {col_list}, extra FROM {stage} \
                 ORDER BY ord ON CONFLICT ({}) DO NOTHING",
                keys.join(", ")
            )
            .as_str(),
        )
        .await?
        .rows_affected();
    out.inserted += inserted;
    if inserted == members.len() as u64 {
        // All new: the common case of a first load needs no comparison at all.
        return Ok(());
    }
    let mutable: Vec<(usize, &str)> = schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.role == ColRole::Mutable)
        .map(|(i, c)| (i, c.name))
        .collect();
    let key_idx = schema.key_indices();
    // Keys are distinct within a round, so each staged row was either just inserted or
    // already known; of the known ones only those that differ need to come back.
    let s_cols: Vec<String> = cols.iter().map(|c| format!("s.{c}")).collect();
    let t_cols: Vec<String> = cols.iter().map(|c| format!("t.{c}")).collect();
    let known = sqlx::query(&format!(
        "SELECT s.ord, {} FROM {stage} s JOIN {table} t ON {} WHERE ({}) IS DISTINCT FROM ({})",
        t_cols.join(", "),
        key_join.join(" AND "),
        s_cols.join(", "),
        t_cols.join(", ")
    ))
    .fetch_all(&mut *conn)
    .await?;
    out.unchanged += members.len() as u64 - inserted - known.len() as u64;
    for r in &known {
        let ord: i64 = r.try_get(0)?;
        let item = usize::try_from(ord)
            .ok()
            .and_then(|i| items.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("staged ordinal {ord} out of range")))?;
        let stored = schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| read_value(r, i + 1, c.ty))
            .collect::<Result<Vec<_>>>()?;
        match classify(schema, &stored, &item.row) {
            Verdict::Unchanged => out.unchanged += 1,
            Verdict::Update => {
                let sets: Vec<String> = mutable
                    .iter()
                    .enumerate()
                    .map(|(n, (_, m))| format!("{m} = ${}", n + 1))
                    .collect();
                let wheres: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(n, k)| format!("{k} = ${}", mutable.len() + n + 1))
                    .collect();
                let sql = format!(
                    "UPDATE {table} SET {} WHERE {}",
                    sets.join(", "),
                    wheres.join(" AND ")
                );
                let mut q = sqlx::query(&sql);
                for (i, _) in &mutable {
                    q = bind_value(q, &item.row.values[*i], schema.columns[*i].ty);
                }
                for &i in &key_idx {
                    q = bind_value(q, &item.row.values[i], schema.columns[i].ty);
                }
                q.execute(&mut *conn).await?;
                out.updated += 1;
            }
            Verdict::Conflict(reason) => {
                let rej = Rejection {
                    origin: item.origin.clone(),
                    kind: table.to_owned(),
                    field: compare::conflict_field(&reason),
                    reason,
                };
                quarantine(conn, &rej, now).await?;
                out.rejected += 1;
                out.conflicts.push(rej);
            }
        }
    }
    Ok(())
}

fn quarantine_entry(r: &PgRow) -> Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        id: r.try_get(0)?,
        file: r.try_get(1)?,
        line: r.try_get::<i64, _>(2)? as u64,
        kind: r.try_get(3)?,
        field: r.try_get(4)?,
        reason: r.try_get(5)?,
        original: r.try_get(6)?,
        quarantined_at: r.try_get(7)?,
    })
}

/// Runs one of the shared statements and reads its rows as cells.
async fn exec(conn: &mut PgConnection, st: &Stmt) -> Result<Rows> {
    let mut q = sqlx::query(&st.sql);
    for a in &st.args {
        q = match a {
            Arg::Int(i) => q.bind(*i),
            Arg::Text(t) => q.bind(t.as_str()),
        };
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            st.cols
                .iter()
                .enumerate()
                .map(|(i, ty)| {
                    Ok(match ty {
                        ColType::Int => r
                            .try_get::<Option<i64>, _>(i)?
                            .map_or(Cell::Null, Cell::Int),
                        ColType::Text => r
                            .try_get::<Option<String>, _>(i)?
                            .map_or(Cell::Null, Cell::Text),
                    })
                })
                .collect()
        })
        .collect()
}

/// Runs several statements on one connection, in order.
async fn exec_all(conn: &mut PgConnection, stmts: &[&Stmt]) -> Result<Vec<Rows>> {
    let mut out = Vec::with_capacity(stmts.len());
    for st in stmts {
        out.push(exec(conn, st).await?);
    }
    Ok(out)
}

fn user(r: &PgRow) -> Result<UserRow> {
    Ok(UserRow {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        role: crate::parse_role(r.try_get(3)?)?,
        disabled_at: r.try_get(4)?,
        institution_code: r.try_get(5)?,
        jurisdiction_code: r.try_get(6)?,
        created_at: r.try_get(7)?,
    })
}

fn api_key(r: &PgRow) -> Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: r.try_get(0)?,
        institution_code: r.try_get(1)?,
        role: crate::parse_role(r.try_get(2)?)?,
        label: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}

fn transfer(r: &PgRow) -> Result<TransferCore> {
    Ok(TransferCore {
        tx_id: r.try_get(0)?,
        ts: r.try_get(1)?,
        from_account: r.try_get(2)?,
        to_account: r.try_get(3)?,
        amount_fen: r.try_get(4)?,
        extra: r.try_get(5)?,
    })
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<Vec<u32>> {
        let mut applied = Vec::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        tx.execute(migrate::LEDGER_DDL).await?;
        for (version, sql) in MIGRATIONS {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(i64::from(*version))
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            for stmt in migrate::render(sql, Backend::Postgres) {
                tx.execute(stmt.as_str())
                    .await
                    .map_err(|e| StoreError::Migration {
                        version: *version,
                        reason: e.to_string(),
                    })?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(i64::from(*version))
                .bind(crate::now_micros())
                .execute(&mut *tx)
                .await?;
            applied.push(*version);
        }
        tx.commit().await?;
        self.build_missing(None).await?;
        Ok(applied)
    }

    async fn defer_read_indexes(&self, kind: Kind) -> Result<bool> {
        let table = kind.as_str();
        let indexes = migrate::read_indexes(Backend::Postgres, Some(table));
        if indexes.is_empty() {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        // The writers' lock: no batch can land between the emptiness check and the drop.
        tx.execute(format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE").as_str())
            .await?;
        let empty: bool = sqlx::query_scalar(&format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"))
            .fetch_one(&mut *tx)
            .await?;
        if !empty {
            return Ok(false);
        }
        for (name, _) in &indexes {
            tx.execute(format!("DROP INDEX IF EXISTS {name}").as_str())
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn build_read_indexes(&self, kind: Kind) -> Result<()> {
        self.build_missing(Some(kind.as_str())).await
    }

    async fn write_batch(&self, batch: Batch) -> Result<BatchOutcome> {
        let now = crate::now_micros();
        let mut out = BatchOutcome::default();
        let mut tx = self.pool.begin().await?;
        if !batch.items.is_empty() {
            // Writers of one kind take turns, so a key another writer inserts cannot slip
            // between our comparison and our insert.
            tx.execute(
                format!(
                    "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                    batch.kind.as_str()
                )
                .as_str(),
            )
            .await?;
            let (rounds, repeats) = rounds(batch.kind.schema(), &batch.items);
            out.unchanged += repeats;
            for members in rounds {
                write_round(&mut tx, batch.kind, &batch.items, &members, &mut out, now).await?;
            }
        }
        for r in &batch.rejections {
            quarantine(&mut tx, r, now).await?;
            out.rejected += 1;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn counts(&self) -> Result<BTreeMap<String, u64>> {
        let mut counts = crate::empty_counts();
        counts.insert("quarantine".to_owned(), 0);
        for (name, n) in counts.iter_mut() {
            let c: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {name}"))
                .fetch_one(&self.pool)
                .await?;
            *n = c as u64;
        }
        Ok(counts)
    }

    async fn quarantine_list(&self) -> Result<Vec<QuarantineEntry>> {
        sqlx::query(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantine ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(quarantine_entry)
        .collect()
    }

    async fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>> {
        sqlx::query(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(quarantine_entry)
        .transpose()
    }

    async fn person(&self, scope: &Scope, person_id: &str) -> Result<Option<PersonRow>> {
        let Some(st) = reads::person(Backend::Postgres, scope, person_id) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        Ok(reads::person_row(exec(&mut conn, &st).await?))
    }

    async fn user_add(&self, user: &NewUser<'_>) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, created_at, institution_code, jurisdiction_code) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(user.username)
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .bind(crate::now_micros())
        .bind(user.institution_code)
        .bind(user.jurisdiction_code)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user)
        .transpose()
    }

    async fn user_reset(&self, user: &NewUser<'_>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, role = $2, institution_code = $3, \
             jurisdiction_code = $4, disabled_at = NULL WHERE username = $5 RETURNING id",
        )
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .bind(user.institution_code)
        .bind(user.jurisdiction_code)
        .bind(user.username)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id.is_some())
    }

    async fn user_list(&self) -> Result<Vec<UserRow>> {
        sqlx::query(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user)
            .collect()
    }

    async fn user_set_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET disabled_at = $1 WHERE username = $2 RETURNING id",
        )
        .bind(disabled.then(crate::now_micros))
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        if let (Some(id), true) = (id, disabled) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id.is_some())
    }

    async fn api_key_add(
        &self,
        key_hash: &str,
        institution_code: &str,
        role: Role,
        label: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_keys (key_hash, institution_code, role, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(key_hash)
        .bind(institution_code)
        .bind(role.as_str())
        .bind(label)
        .bind(crate::now_micros())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn api_key_active(&self, key_hash: &str) -> Result<Option<ApiKeyRow>> {
        sqlx::query(&format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(api_key)
        .transpose()
    }

    async fn api_key_list(&self) -> Result<Vec<ApiKeyRow>> {
        sqlx::query(&format!("SELECT {API_KEY_COLS} FROM api_keys ORDER BY id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(api_key)
            .collect()
    }

    async fn api_key_revoke(&self, id: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(crate::now_micros())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn session_add(&self, token_hash: &str, user_id: i64, expires_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(crate::now_micros())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<UserRow>> {
        sqlx::query(
            "SELECT u.id, u.username, u.password_hash, u.role, u.disabled_at, u.institution_code, \
                 u.jurisdiction_code, u.created_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user)
        .transpose()
    }

    async fn session_remove(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn transfers_by_id(&self, ids: &[String]) -> Result<Vec<TransferCore>> {
        sqlx::query(&format!(
            "SELECT {TRANSFER_COLS} FROM transactions WHERE tx_id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(transfer)
        .collect()
    }

    async fn report_payments(
        &self,
        scope: &Scope,
        report_id: Option<&str>,
    ) -> Result<Vec<ReportPayments>> {
        let st = reads::trace::report_payments(Backend::Postgres, scope, report_id);
        let mut conn = self.pool.acquire().await?;
        reads::trace::assemble_reports(exec(&mut conn, &st).await?)
    }

    async fn opening_balances(&self) -> Result<Vec<(String, i64, i64)>> {
        let st = reads::trace::balances(Backend::Postgres);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_balances(exec(&mut conn, &st).await?))
    }

    async fn external_freezes(&self, account: Option<&str>) -> Result<Vec<ExternalFreeze>> {
        let st = reads::trace::external_freezes(Backend::Postgres, account);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_external_freezes(
            exec(&mut conn, &st).await?,
        ))
    }

    async fn case_file(&self, case: &NewCase) -> Result<bool> {
        let st = reads::trace::case_add(Backend::Postgres, case)?;
        let mut conn = self.pool.acquire().await?;
        Ok(!exec(&mut conn, &st).await?.is_empty())
    }

    async fn case_get(&self, case_id: &str) -> Result<Option<Case>> {
        let st = reads::trace::case_get(Backend::Postgres, case_id);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_case(exec(&mut conn, &st).await?))
    }

    async fn cases(&self) -> Result<Vec<Case>> {
        let st = reads::trace::cases(Backend::Postgres);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_cases(exec(&mut conn, &st).await?))
    }

    async fn order_add(&self, order: &NewOrder) -> Result<i64> {
        let st = reads::trace::order_add(Backend::Postgres, order)?;
        let mut conn = self.pool.acquire().await?;
        reads::single_int(exec(&mut conn, &st).await?)
            .ok_or_else(|| StoreError::Corrupt("an order insert returned no id".into()))
    }

    async fn orders(&self, scope: &Scope, filter: &OrderFilter) -> Result<Vec<Order>> {
        let st = reads::trace::orders(Backend::Postgres, scope, filter);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_orders(exec(&mut conn, &st).await?))
    }

    async fn order_change(&self, id: i64, from: &str, change: &OrderChange) -> Result<bool> {
        let st = reads::trace::order_change(Backend::Postgres, id, from, change)?;
        let mut conn = self.pool.acquire().await?;
        Ok(!exec(&mut conn, &st).await?.is_empty())
    }

    async fn round_open(&self, round: &NewRound) -> Result<Option<i64>> {
        let st = reads::trace::round_open(Backend::Postgres, round)?;
        let mut conn = self.pool.acquire().await?;
        Ok(reads::single_int(exec(&mut conn, &st).await?))
    }

    async fn rounds(&self, account: Option<&str>) -> Result<Vec<Round>> {
        let st = reads::trace::rounds(Backend::Postgres, account);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_rounds(exec(&mut conn, &st).await?))
    }

    async fn round_decide(&self, id: i64, by: &str, at: i64, decision_no: &str) -> Result<bool> {
        let st = reads::trace::round_decide(Backend::Postgres, id, by, at, decision_no)?;
        let mut conn = self.pool.acquire().await?;
        Ok(!exec(&mut conn, &st).await?.is_empty())
    }

    async fn reach_by_query(&self, report_id: &str, as_of: i64, depth: u32) -> Result<Vec<String>> {
        let st = reads::trace::reach(Backend::Postgres, report_id, as_of, depth);
        let mut conn = self.pool.acquire().await?;
        Ok(reads::trace::assemble_accounts(exec(&mut conn, &st).await?))
    }

    async fn transfers_matching(
        &self,
        from: &str,
        to: &str,
        amount_fen: i64,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<TransferCore>> {
        sqlx::query(&format!(
            "SELECT {TRANSFER_COLS} FROM transactions WHERE from_account = $1 AND ts BETWEEN $2 AND $3 \
             AND to_account = $4 AND amount_fen = $5 ORDER BY ts"
        ))
        .bind(from)
        .bind(lo)
        .bind(hi)
        .bind(to)
        .bind(amount_fen)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(transfer)
        .collect()
    }

    async fn audit_head(&self) -> Result<Option<AuditHead>> {
        let row = sqlx::query("SELECT last_id, hash FROM audit_head WHERE one = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AuditHead {
                last_id: r.try_get(0)?,
                hash: r.try_get(1)?,
            })
        })
        .transpose()
    }

    async fn audit_append_many(&self, entries: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut *tx)
            .await?;
        let mut prev: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE one = 1")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or_else(|| compare::AUDIT_GENESIS.to_owned());
        let mut out = Vec::with_capacity(entries.len());
        for NewAuditEntry {
            actor,
            action,
            detail,
        } in entries
        {
            let at = crate::now_micros();
            let hash = compare::audit_hash(&prev, at, &actor, &action, &detail);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(at)
            .bind(&actor)
            .bind(&action)
            .bind(&detail)
            .bind(&prev)
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO audit_head (one, last_id, hash) VALUES (1, $1, $2) \
                 ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash",
            )
            .bind(id)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            out.push(AuditEntry {
                id,
                at,
                actor,
                action,
                detail,
                prev_hash,
                hash,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn audit_list(&self) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    prev_hash: r.try_get(5)?,
                    hash: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn profile(
        &self,
        scope: &Scope,
        entity: &EntityRef,
        limit: u32,
    ) -> Result<Option<Profile>> {
        let Some(plan) = reads::ProfilePlan::new(Backend::Postgres, scope, entity, limit) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let Some(head) = exec(&mut conn, &plan.head).await?.into_iter().next() else {
            return Ok(None);
        };
        let stmts: Vec<&Stmt> = plan.body.iter().collect();
        let body = exec_all(&mut conn, &stmts).await?;
        plan.assemble(head, body).map(Some)
    }

    async fn search(&self, scope: &Scope, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(plan) = reads::SearchPlan::new(Backend::Postgres, scope, query, limit) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        let stmts: Vec<&Stmt> = plan.exact.iter().map(|(_, st)| st).collect();
        let exact = exec_all(&mut conn, &stmts).await?;
        let by_name = exec(&mut conn, &plan.by_name).await?;
        Ok(plan.assemble(exact, by_name))
    }

    async fn dashboard(&self, scope: &Scope, from: i64, to: i64) -> Result<Dashboard> {
        let Some(plan) = reads::DashboardPlan::new(Backend::Postgres, scope, from, to) else {
            return Ok(Dashboard::default());
        };
        let mut conn = self.pool.acquire().await?;
        let by_day = exec(&mut conn, &plan.by_day).await?;
        let by_typology = exec(&mut conn, &plan.by_typology).await?;
        let (cases, checks) = plan.case_reports(exec(&mut conn, &plan.cases).await?);
        let checks: Vec<&Stmt> = checks.iter().collect();
        let in_scope = exec_all(&mut conn, &checks).await?;
        Ok(plan.assemble(by_day, by_typology, cases, in_scope))
    }

    async fn holdings(&self, person_id: &str) -> Result<Vec<Holding>> {
        let Some(st) = reads::holdings(Backend::Postgres, person_id) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        reads::holding_rows(exec(&mut conn, &st).await?)
    }

    async fn data_end(&self) -> Result<Option<i64>> {
        let mut conn = self.pool.acquire().await?;
        Ok(reads::single_int(
            exec(&mut conn, &reads::data_end(Backend::Postgres)).await?,
        ))
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<AuditEntry>, u64)> {
        let Some((page, count)) = reads::audit_page(Backend::Postgres, filter, limit, offset)
        else {
            return Ok((Vec::new(), 0));
        };
        let mut conn = self.pool.acquire().await?;
        let entries = reads::audit_entries(exec(&mut conn, &page).await?)?;
        let total = reads::single_int(exec(&mut conn, &count).await?).unwrap_or(0);
        Ok((entries, u64::try_from(total).unwrap_or(0)))
    }

    async fn flag_add(
        &self,
        username: &str,
        day: &str,
        rule: &str,
        detail: &str,
    ) -> Result<Option<i64>> {
        let st = reads::flag_add(
            Backend::Postgres,
            username,
            day,
            rule,
            detail,
            crate::now_micros(),
        );
        let mut conn = self.pool.acquire().await?;
        Ok(reads::single_int(exec(&mut conn, &st).await?))
    }

    async fn flag_list(&self) -> Result<Vec<InsiderFlag>> {
        let mut conn = self.pool.acquire().await?;
        reads::flags(exec(&mut conn, &reads::flag_list(Backend::Postgres)).await?)
    }

    async fn flag_review(&self, id: i64, auditor: &str) -> Result<bool> {
        let st = reads::flag_review(Backend::Postgres, id, auditor, crate::now_micros());
        let mut conn = self.pool.acquire().await?;
        Ok(!exec(&mut conn, &st).await?.is_empty())
    }

    async fn scan_events(
        &self,
        kind: ScanKind,
        after: Option<&ScanCursor>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        let st = rsql::scan(Backend::Postgres, kind, after, limit);
        let mut conn = self.pool.acquire().await?;
        Ok(rsql::scan_rows(exec(&mut conn, &st).await?))
    }

    async fn warning_upsert(&self, warning: &NewWarning) -> Result<UpsertOutcome> {
        let plan = rsql::UpsertPlan::new(Backend::Postgres, warning, crate::now_micros())?;
        let mut tx = self.pool.begin().await?;
        // A concurrent first insert of the same entity makes ours wait and do nothing; the
        // locked read then sees its row.
        let inserted = exec(&mut tx, &plan.insert()).await?;
        let (stmts, outcome) = match plan.after_insert(inserted) {
            Some(next) => next,
            None => plan.after_current(exec(&mut tx, &plan.current()).await?)?,
        };
        for st in &stmts {
            exec(&mut tx, st).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn warning_withdraw(
        &self,
        entity: &WarnedEntity,
        at: i64,
    ) -> Result<Option<UpsertOutcome>> {
        let plan = rsql::WithdrawPlan::new(Backend::Postgres, entity, at, crate::now_micros())?;
        let mut tx = self.pool.begin().await?;
        let Some((stmts, outcome)) = plan.after_current(exec(&mut tx, &plan.current()).await?)?
        else {
            return Ok(None);
        };
        for st in &stmts {
            exec(&mut tx, st).await?;
        }
        tx.commit().await?;
        Ok(Some(outcome))
    }

    async fn warning_get(&self, scope: &Scope, entity: &WarnedEntity) -> Result<Option<Warning>> {
        let Some(st) = rsql::warning_get(Backend::Postgres, scope, entity) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        Ok(rsql::warnings(exec(&mut conn, &st).await?)?.pop())
    }

    async fn warning_list(
        &self,
        scope: &Scope,
        filter: &WarningFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Warning>> {
        let Some(st) = rsql::warning_list(Backend::Postgres, scope, filter, limit, offset) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        rsql::warnings(exec(&mut conn, &st).await?)
    }

    async fn outbox_claim_due(&self, now: i64, limit: u32, lease: i64) -> Result<Vec<OutboxItem>> {
        let st = rsql::outbox_claim(Backend::Postgres, now, limit, lease);
        let mut conn = self.pool.acquire().await?;
        rsql::outbox_items(exec(&mut conn, &st).await?)
    }

    async fn outbox_delivered(&self, id: i64, at: i64) -> Result<bool> {
        let st = rsql::outbox_delivered(Backend::Postgres, id, at);
        let mut conn = self.pool.acquire().await?;
        Ok(!exec(&mut conn, &st).await?.is_empty())
    }

    async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: i64,
        max_attempts: u32,
    ) -> Result<Option<OutboxState>> {
        let st = rsql::outbox_failed(Backend::Postgres, id, error, retry_at, max_attempts);
        let mut conn = self.pool.acquire().await?;
        rsql::outbox_state(exec(&mut conn, &st).await?)
    }

    async fn outbox_list(&self, state: Option<OutboxState>, limit: u32) -> Result<Vec<OutboxItem>> {
        let st = rsql::outbox_list(Backend::Postgres, state, limit);
        let mut conn = self.pool.acquire().await?;
        rsql::outbox_items(exec(&mut conn, &st).await?)
    }

    async fn feedback_record(&self, feedback: &NewFeedback) -> Result<bool> {
        let plan = rsql::FeedbackPlan::new(Backend::Postgres, feedback)?;
        let mut tx = self.pool.begin().await?;
        let target = exec(&mut tx, &plan.target()).await?;
        let Some(stmts) = plan.writes(target)? else {
            return Ok(false);
        };
        for st in &stmts {
            exec(&mut tx, st).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn precision(&self, by: PrecisionBy) -> Result<Vec<PrecisionRow>> {
        let st = rsql::precision(Backend::Postgres, by);
        let mut conn = self.pool.acquire().await?;
        rsql::precision_rows(exec(&mut conn, &st).await?)
    }

    async fn appeal_file(
        &self,
        entity: &WarnedEntity,
        person_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<Option<i64>> {
        let plan = rsql::AppealPlan::new(Backend::Postgres, entity, person_id, reason, at)?;
        let mut tx = self.pool.begin().await?;
        let target = exec(&mut tx, &plan.target()).await?;
        let Some((insert, update)) = plan.writes(target)? else {
            return Ok(None);
        };
        let id = reads::single_int(exec(&mut tx, &insert).await?);
        exec(&mut tx, &update).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn appeal_decide(
        &self,
        id: i64,
        decision: AppealDecision,
        decided_by: &str,
        reason: &str,
        at: i64,
    ) -> Result<bool> {
        let plan =
            rsql::DecisionPlan::new(Backend::Postgres, id, decision, decided_by, reason, at)?;
        let mut tx = self.pool.begin().await?;
        let target = exec(&mut tx, &plan.target()).await?;
        let Some(stmts) = plan.writes(target)? else {
            return Ok(false);
        };
        for st in &stmts {
            exec(&mut tx, st).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn appeal_list(&self, entity: Option<&WarnedEntity>) -> Result<Vec<Appeal>> {
        let Some(st) = rsql::appeal_list(Backend::Postgres, entity) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        rsql::appeals(exec(&mut conn, &st).await?)
    }

    async fn threshold_decision_add(&self, decision: &NewThresholdDecision) -> Result<i64> {
        let st = rsql::decision_add(Backend::Postgres, decision)?;
        let mut conn = self.pool.acquire().await?;
        reads::single_int(exec(&mut conn, &st).await?)
            .ok_or_else(|| StoreError::Corrupt("a decision insert returned no id".into()))
    }

    async fn threshold_decisions(&self) -> Result<Vec<ThresholdDecision>> {
        let mut conn = self.pool.acquire().await?;
        rsql::decisions(exec(&mut conn, &rsql::decision_list(Backend::Postgres)).await?)
    }

    async fn model_put(&self, model: &RiskModel) -> Result<bool> {
        rsql::check_model(&model.version, &model.card)?;
        let done = sqlx::query(
            "INSERT INTO risk_models (version, created_at, artefact, card) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(&model.version)
        .bind(model.created_at)
        .bind(&model.artefact)
        .bind(&model.card)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn model_get(&self, version: &str) -> Result<Option<RiskModel>> {
        if version.contains('\0') {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT version, created_at, artefact, card FROM risk_models WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(RiskModel {
                version: r.try_get(0)?,
                created_at: r.try_get(1)?,
                artefact: r.try_get(2)?,
                card: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn model_list(&self) -> Result<Vec<RiskModelCard>> {
        let mut conn = self.pool.acquire().await?;
        rsql::model_cards(exec(&mut conn, &rsql::model_list(Backend::Postgres)).await?)
    }

    async fn warning_versions(&self, entity: &WarnedEntity) -> Result<Vec<WarningVersion>> {
        let Some(st) = rsql::warning_versions(Backend::Postgres, entity) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        rsql::versions(exec(&mut conn, &st).await?)
    }

    async fn warning_status_counts(&self, scope: &Scope) -> Result<Vec<(WarningStatus, u64)>> {
        let st = rsql::warning_status_counts(Backend::Postgres, scope);
        let mut conn = self.pool.acquire().await?;
        rsql::word_counts(exec(&mut conn, &st).await?)
    }

    async fn outbox_state_counts(&self) -> Result<Vec<(OutboxState, u64)>> {
        let st = rsql::outbox_state_counts(Backend::Postgres);
        let mut conn = self.pool.acquire().await?;
        rsql::word_counts(exec(&mut conn, &st).await?)
    }

    async fn outbox_resend_dead(&self, now: i64) -> Result<u64> {
        let st = rsql::outbox_resend_dead(Backend::Postgres, now);
        let mut conn = self.pool.acquire().await?;
        Ok(exec(&mut conn, &st).await?.len() as u64)
    }

    async fn institution_feedback(&self) -> Result<Vec<InstitutionFeedback>> {
        let st = rsql::institution_feedback(Backend::Postgres);
        let mut conn = self.pool.acquire().await?;
        rsql::institution_feedback_rows(exec(&mut conn, &st).await?)
    }

    async fn score_bins(&self) -> Result<Vec<ScoreBin>> {
        let st = rsql::score_bins(Backend::Postgres);
        let mut conn = self.pool.acquire().await?;
        rsql::score_bin_rows(exec(&mut conn, &st).await?)
    }

    async fn appeals_by_status(&self, status: Option<AppealStatus>) -> Result<Vec<Appeal>> {
        let st = rsql::appeals_by_status(Backend::Postgres, status);
        let mut conn = self.pool.acquire().await?;
        rsql::appeals(exec(&mut conn, &st).await?)
    }

    async fn answered_scores(&self, pattern: &str) -> Result<Vec<ScoredAnswer>> {
        let Some(st) = rsql::answered_scores(Backend::Postgres, pattern) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        rsql::scored_answers(exec(&mut conn, &st).await?)
    }

    async fn appeal_get(&self, id: i64) -> Result<Option<Appeal>> {
        let st = rsql::appeal_get(Backend::Postgres, id);
        let mut conn = self.pool.acquire().await?;
        Ok(rsql::appeals(exec(&mut conn, &st).await?)?.pop())
    }
}
