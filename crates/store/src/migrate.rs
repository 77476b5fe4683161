//! One set of migrations for both backends. The SQL is written in the subset both dialects
//! share; the few words they spell differently are `{{placeholders}}` filled in per backend.

use crate::Backend;

/// Versioned migrations, applied in order, each once.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_users.sql")),
    (3, include_str!("../migrations/0003_api_keys.sql")),
    (4, include_str!("../migrations/0004_scopes_and_flags.sql")),
    (5, include_str!("../migrations/0005_profile_indexes.sql")),
    (6, include_str!("../migrations/0006_audit_head.sql")),
    (7, include_str!("../migrations/0007_event_scans.sql")),
    (8, include_str!("../migrations/0008_risk.sql")),
    (9, include_str!("../migrations/0009_governance.sql")),
    (10, include_str!("../migrations/0010_orders.sql")),
    (11, include_str!("../migrations/0011_returns.sql")),
];

/// The migrations that hold the read indexes: the indexes only the server's reads and the
/// risk engine's scans use, which a first bulk load of a kind drops and builds once at its
/// end (see [`crate::Store::defer_read_indexes`]). They must hold nothing but `CREATE INDEX`
/// and `DROP INDEX IF EXISTS` statements; a later one may retire an earlier one's index.
const READ_INDEXES: &[u32] = &[5, 7];

/// The read indexes, of one table or all: (name, its `CREATE INDEX IF NOT EXISTS`).
pub(crate) fn read_indexes(backend: Backend, table: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let sqls = MIGRATIONS
        .iter()
        .filter(|(v, _)| READ_INDEXES.contains(v))
        .map(|(_, sql)| *sql);
    for stmt in sqls.flat_map(|sql| render(sql, backend)) {
        if let Some(name) = stmt.strip_prefix("DROP INDEX IF EXISTS ") {
            // Retired: a store that still lacks it must not have it built again.
            out.retain(|(n, _, _)| n != name.trim());
            continue;
        }
        let Some((name, rest)) = stmt
            .strip_prefix("CREATE INDEX ")
            .and_then(|s| s.split_once(" ON "))
        else {
            continue;
        };
        let on = rest.split_whitespace().next().unwrap_or_default();
        out.push((
            name.to_owned(),
            on.to_owned(),
            format!("CREATE INDEX IF NOT EXISTS {name} ON {rest}"),
        ));
    }
    out.into_iter()
        .filter(|(_, on, _)| table.is_none_or(|t| t == on))
        .map(|(name, _, create)| (name, create))
        .collect()
}

/// Column lists of the tables the store reads back, in the order its row mappers expect.
pub(crate) const QUARANTINE_COLS: &str =
    "id, file, line, kind, field, reason, original, quarantined_at";
pub(crate) const PERSON_COLS: &str =
    "person_id, id_kind, name, community_code, phone, address, tags, birth_date";
pub(crate) const USER_COLS: &str =
    "id, username, password_hash, role, disabled_at, institution_code, jurisdiction_code, created_at";
pub(crate) const API_KEY_COLS: &str = "id, institution_code, role, label, created_at, revoked_at";
pub(crate) const TRANSFER_COLS: &str = "tx_id, ts, from_account, to_account, amount_fen, extra";

/// Quarantines a rejected record; `p(n)` spells the n-th parameter in the dialect. A record
/// rejected again (a rerun, or an edited file) keeps one entry carrying the latest reason
/// and bytes, so the quarantine never shows a stale verdict for a line.
pub(crate) fn quarantine_insert(p: fn(usize) -> String) -> String {
    let params: Vec<String> = (1..=7).map(p).collect();
    format!(
        "INSERT INTO quarantine (file, line, kind, field, reason, original, quarantined_at) VALUES ({}) \
         ON CONFLICT (file, line, kind) DO UPDATE SET field = excluded.field, reason = excluded.reason, \
         original = excluded.original, quarantined_at = excluded.quarantined_at",
        params.join(", ")
    )
}

pub(crate) const LEDGER_DDL: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// The collation that orders text by code point: SQLite's default, and `"C"` in PostgreSQL,
/// whose database default may be a language's.
pub(crate) fn collate_c(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " COLLATE \"C\"",
    }
}

/// The migration's SQL in the backend's dialect, split into statements.
pub(crate) fn render(sql: &str, backend: Backend) -> Vec<String> {
    let (serial_pk, blob, without_rowid) = match backend {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BLOB",
            " WITHOUT ROWID",
        ),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA", ""),
    };
    let sql = sql
        .replace("{{serial_pk}}", serial_pk)
        .replace("{{blob}}", blob)
        .replace("{{without_rowid}}", without_rowid)
        .replace("{{collate_c}}", collate_c(backend));
    // Comments go first: they may contain a `;`.
    let code: Vec<&str> = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect();
    code.join("\n")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_index_migrations_are_only_indexes() {
        for b in [Backend::Sqlite, Backend::Postgres] {
            for (_, sql) in MIGRATIONS.iter().filter(|(v, _)| READ_INDEXES.contains(v)) {
                for stmt in render(sql, b) {
                    assert!(
                        stmt.starts_with("CREATE INDEX ")
                            || stmt.starts_with("DROP INDEX IF EXISTS "),
                        "{stmt}"
                    );
                }
            }
        }
        let tx = read_indexes(Backend::Sqlite, Some("transactions"));
        assert_eq!(
            tx.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            [
                "transactions_from",
                "transactions_to",
                "transactions_device",
                "transactions_scan"
            ]
        );
        let calls = read_indexes(Backend::Postgres, Some("calls"));
        assert!(
            calls.iter().all(|(n, _)| n != "calls_ts"),
            "retired by migration 7"
        );
        assert!(
            calls
                .iter()
                .any(|(n, c)| n == "calls_scan" && c.ends_with("(ts, call_id COLLATE \"C\")")),
            "{calls:?}"
        );
        assert!(
            tx[2].1.ends_with("WHERE device_id IS NOT NULL"),
            "{}",
            tx[2].1
        );
    }

    #[test]
    fn placeholders_are_all_filled() {
        for (_, sql) in MIGRATIONS {
            for b in [Backend::Sqlite, Backend::Postgres] {
                for stmt in render(sql, b) {
                    assert!(!stmt.contains("{{"), "{stmt}");
                }
            }
        }
    }
}
