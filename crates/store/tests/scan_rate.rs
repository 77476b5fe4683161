//! How fast a full ordered scan of a generated transactions table streams, on each backend.
//! A measurement, not a test: ignored by default, it prints rows per second and asserts
//! nothing about time. Run it optimised, with the row count in `FANZHA_SCAN_ROWS`
//! (default 1,000,000):
//!
//! ```text
//! FANZHA_SCAN_ROWS=1000000 cargo test --release -p fanzha-store --test scan_rate -- --ignored --nocapture
//! ```

use std::sync::Arc;
use std::time::Instant;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_store::{Batch, Item, Origin, ScanCursor, ScanKind, Store};

fn rows() -> usize {
    std::env::var("FANZHA_SCAN_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

/// A transfer a second, with ties: every tenth shares its time with the one before.
fn transfer(i: usize) -> Row {
    let ts = 1_772_294_400_000_000 + (i - i / 10) as i64 * 1_000_000;
    let t = |s: String| Value::Text(s);
    Row {
        values: vec![
            t(format!("TX{:010}", (i * 7_919) % 10_000_000_019)),
            Value::Int(ts),
            t(format!("62220{:08}", i % 50_000)),
            t(format!("62220{:08}", (i * 31) % 50_000)),
            Value::Int(10_000 + (i % 997) as i64 * 100),
            t("transfer".into()),
            Value::Null,
            t(format!("dev{}", i % 9_000)),
            t(format!("10.0.{}.{}", i % 250, i % 200)),
            t(format!("cell{}", i % 400)),
            t("card".into()),
            t("card".into()),
        ],
        extra: None,
    }
}

async fn fill(s: &dyn Store, n: usize) {
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 50_000).min(n);
        let items = (i..end)
            .map(|k| Item {
                row: transfer(k),
                origin: Origin {
                    file: "gen".into(),
                    line: k as u64 + 2,
                    original: Vec::new(),
                },
            })
            .collect();
        s.write_batch(Batch {
            kind: Kind::Transactions,
            items,
            rejections: Vec::new(),
        })
        .await
        .unwrap();
        i = end;
    }
    println!("  generated {n} rows in {:.1?}", started.elapsed());
}

async fn measure(name: &str, s: Arc<dyn Store>, n: usize) {
    println!("{name}:");
    fill(&*s, n).await;
    for page in [1_000u32, 10_000] {
        let started = Instant::now();
        let mut after: Option<ScanCursor> = None;
        let mut seen = 0usize;
        loop {
            let rows = s
                .scan_events(ScanKind::Transactions, after.as_ref(), page)
                .await
                .unwrap();
            let Some(last) = rows.last() else { break };
            after = ScanKind::Transactions.cursor_of(last);
            seen += rows.len();
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(seen, n, "a full scan sees every row once");
        println!(
            "  pages of {page:>6}: {seen} rows in {secs:.2} s = {:.0} rows/s",
            seen as f64 / secs
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn full_scan_rate() {
    let n = rows();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.db");
    let sqlite = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    measure("SQLite", sqlite, n).await;
    let target = fanzha_store::testing::fresh_pg_target("scan");
    let pg = fanzha_store::open(&target)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is unreachable: {e}"));
    measure("PostgreSQL", pg, n).await;
    // A million rows are not left behind in the test database.
    if let Some((url, schema)) = target.split_once("?schema=") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
    }
}
