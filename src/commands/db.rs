//! `fanzha db stats|migrate|backup|restore`.

use anyhow::Context as _;

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Row counts of every kind.
    Stats,
    /// Apply pending migrations.
    Migrate,
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    match cmd {
        Cmd::Stats => {
            let store = ctx.store().await?;
            let counts = store.counts().await?;
            super::audit(&store, "cli.db.stats", serde_json::json!({})).await?;
            if ctx.json {
                println!("{}", serde_json::to_string(&counts)?);
            } else {
                println!("{}", super::shown_target(&ctx.db));
                for (kind, n) in &counts {
                    println!("  {kind:<18} {n:>12}");
                }
            }
        }
        Cmd::Migrate => {
            let store = fanzha_store::open_unmigrated(&ctx.db)
                .await
                .with_context(|| format!("opening the store {}", super::shown_target(&ctx.db)))?;
            let applied = store.migrate().await?;
            let versions: Vec<u32> = fanzha_store::MIGRATIONS.iter().map(|(v, _)| *v).collect();
            super::audit(
                &store,
                "cli.db.migrate",
                serde_json::json!({ "schema_versions": versions }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "schema_versions": versions, "applied_now": applied })
                );
            } else {
                println!(
                    "schema is at version {}",
                    versions.last().copied().unwrap_or(0)
                );
            }
        }
    }
    Ok(Outcome::Clean)
}
