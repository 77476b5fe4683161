//! `fanzha db stats|migrate|backup|restore`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Row counts of every kind.
    Stats,
    /// Apply pending migrations.
    Migrate,
    /// Back the store up to FILE while it is in use: SQLite's online backup (a running
    /// `fanzha serve` keeps working), or pg_dump of the store's schema for PostgreSQL.
    Backup {
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup made by `db backup` into the store (stop any server on it first).
    /// Refuses a store that holds data unless --force, and a file that is not a Fanzha
    /// backup.
    Restore {
        file: PathBuf,
        /// Replace a store that holds data.
        #[arg(long)]
        force: bool,
    },
}

fn is_postgres(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
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
        Cmd::Backup { file, force } => {
            // Opening a SQLite path creates the file: a mistyped --db would back up an empty
            // new database and look like success.
            if !is_postgres(&ctx.db) && !Path::new(&ctx.db).is_file() {
                bail!("no database at {}", ctx.db);
            }
            let store = ctx.store().await?;
            let report = fanzha_store::backup::backup(&ctx.db, &file, force)
                .await
                .with_context(|| format!("backing up to {}", file.display()))?;
            super::audit(
                &store,
                "cli.db.backup",
                serde_json::json!({ "file": file, "report": report }),
            )
            .await?;
            if ctx.json {
                println!("{}", serde_json::json!({ "file": file, "report": report }));
            } else {
                println!(
                    "backed up {} to {} ({} bytes)",
                    super::shown_target(&ctx.db),
                    file.display(),
                    report.bytes
                );
            }
        }
        Cmd::Restore { file, force } => {
            let report = fanzha_store::backup::restore(&file, &ctx.db, force)
                .await
                .with_context(|| format!("restoring {}", file.display()))?;
            // Opening migrates a backup made by an older build forward.
            let store = ctx.store().await?;
            let (head, entries) = fanzha_store::audit_trail(&*store).await?;
            let verdict = fanzha_store::verify_audit_trail(head.as_ref(), &entries);
            let broken = verdict.as_ref().err();
            super::audit(
                &store,
                "cli.db.restore",
                serde_json::json!({
                    "file": file,
                    "report": report,
                    "force": force,
                    "audit_broken": broken,
                }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "file": file,
                        "report": report,
                        "audit_entries": entries.len(),
                        "audit_broken": broken,
                    })
                );
            } else {
                println!(
                    "restored {} into {}",
                    file.display(),
                    super::shown_target(&ctx.db)
                );
                match broken {
                    None => println!("audit trail verified: {} entries", entries.len()),
                    Some(b) => println!("AUDIT TRAIL BROKEN at entry #{}: {b}", b.id()),
                }
            }
            if broken.is_some() {
                return Ok(Outcome::Rejected);
            }
        }
    }
    Ok(Outcome::Clean)
}
