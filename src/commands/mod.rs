//! One module per subcommand; each opens the store, calls the libraries and prints.

pub mod audit;
pub mod bench;
mod bench_decisions;
mod bench_serve;
mod bench_trace;
pub mod convert;
pub mod db;
pub mod deliver;
pub mod demo;
pub mod eval;
pub mod freezes;
pub mod ingest;
pub mod key;
pub mod orders;
pub mod quarantine;
pub mod risk;
pub mod serve;
pub mod sim;
pub mod trace;
pub mod user;

use std::sync::Arc;

use anyhow::Context as _;
use fanzha_store::Store;

pub struct Context {
    pub db: String,
    pub json: bool,
}

impl Context {
    pub async fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        fanzha_store::open(&self.db)
            .await
            .with_context(|| format!("opening the store {}", shown_target(&self.db)))
    }
}

pub use fanzha_store::redact_target as shown_target;

/// Records a CLI run in the audit trail: the operator's tool prints raw identifiers, so
/// every run is on record.
pub async fn audit(
    store: &Arc<dyn Store>,
    action: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let argv: Vec<String> = std::env::args().collect();
    let detail = serde_json::json!({ "argv": argv, "result": detail });
    store
        .audit_append(&format!("cli:{user}"), action, &detail.to_string())
        .await
        .context("writing the audit trail")?;
    Ok(())
}

pub fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
