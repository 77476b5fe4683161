//! For the test suites of every crate that run against PostgreSQL: the one place that names
//! the test server and makes each test a fresh schema. Not for production use.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::Store;

/// The test server unless `FANZHA_TEST_PG` names another: this machine's PostgreSQL,
/// database `test`.
pub const DEFAULT_TEST_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL.
pub fn test_pg_url() -> String {
    std::env::var("FANZHA_TEST_PG").unwrap_or_else(|_| DEFAULT_TEST_PG.to_owned())
}

/// A store target in a schema no other test uses (created on open): `prefix`, the process,
/// a counter and the clock, so parallel tests and reruns never meet.
pub fn fresh_pg_target(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let url = test_pg_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}schema={prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A migrated store in a fresh schema. Panics, naming the server, when it is unreachable:
/// the PostgreSQL half of a suite fails rather than skips.
pub async fn fresh_pg_store(prefix: &str) -> Arc<dyn Store> {
    let target = fresh_pg_target(prefix);
    crate::open(&target).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} is unreachable: {e}",
            crate::redact_target(&test_pg_url())
        )
    })
}
