//! `fanzha db stats|migrate|audit`.

use anyhow::Context as _;

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Row counts of every kind.
    Stats,
    /// Apply pending migrations.
    Migrate,
    /// Show the audit trail and verify its hash chain.
    Audit,
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
        Cmd::Audit => {
            let store = ctx.store().await?;
            let entries = store.audit_list().await?;
            let broken = fanzha_store::verify_audit_chain(&entries);
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "entries": entries, "chain_broken_at": broken })
                );
            } else {
                for e in &entries {
                    let at = fanzha_core::Instant::from_micros(e.at)
                        .map(|i| i.to_string())
                        .unwrap_or_default();
                    println!("#{} {} {} {} {}", e.id, at, e.actor, e.action, e.detail);
                }
                match broken {
                    None => println!("hash chain verified: {} entries", entries.len()),
                    Some(id) => println!("HASH CHAIN BROKEN at entry #{id}"),
                }
            }
            if broken.is_some() {
                return Ok(Outcome::Unusable);
            }
        }
    }
    Ok(Outcome::Clean)
}
