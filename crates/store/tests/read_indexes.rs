//! The read indexes (migrations 5 and 7) in each backend's catalog: a first bulk load drops them and
//! builds them at its end, and a store opened after a load that was killed in between builds
//! them again.

use fanzha_core::schema::Kind;

const TX_INDEXES: [&str; 4] = [
    "transactions_from",
    "transactions_to",
    "transactions_device",
    "transactions_scan",
];

fn sqlite_indexes(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions' ORDER BY name")
        .unwrap();
    let names = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<String>>>()
        .unwrap();
    names
}

fn has_all(names: &[String]) -> bool {
    TX_INDEXES.iter().all(|i| names.iter().any(|n| n == i))
}

fn has_none(names: &[String]) -> bool {
    !TX_INDEXES.iter().any(|i| names.iter().any(|n| n == i))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_drops_builds_and_heals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    assert!(has_all(&sqlite_indexes(&path)));
    assert!(s.defer_read_indexes(Kind::Transactions).await.unwrap());
    let during = sqlite_indexes(&path);
    assert!(has_none(&during), "{during:?}");
    s.build_read_indexes(Kind::Transactions).await.unwrap();
    let built = sqlite_indexes(&path);
    assert!(has_all(&built));
    assert!(
        !built.iter().any(|n| n == "transactions_ts"),
        "an index retired by a later migration is not built again: {built:?}"
    );

    // A load killed after deferring: the next open builds them.
    assert!(s.defer_read_indexes(Kind::Transactions).await.unwrap());
    drop(s);
    let _s = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    assert!(has_all(&sqlite_indexes(&path)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_drops_builds_and_heals() {
    let url = std::env::var("FANZHA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("ri_{}_{nanos}", std::process::id());
    let target = format!("{url}?schema={schema}");
    let s = fanzha_store::open(&target)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable: {e}"));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let indexes = || {
        let (pool, schema) = (pool.clone(), schema.clone());
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'transactions'",
            )
            .bind(schema)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert!(has_all(&indexes().await));
    assert!(s.defer_read_indexes(Kind::Transactions).await.unwrap());
    assert!(has_none(&indexes().await));
    s.build_read_indexes(Kind::Transactions).await.unwrap();
    assert!(has_all(&indexes().await));

    assert!(s.defer_read_indexes(Kind::Transactions).await.unwrap());
    drop(s);
    let _s = fanzha_store::open(&target).await.unwrap();
    assert!(has_all(&indexes().await));
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}
