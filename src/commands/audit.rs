//! `fanzha audit verify|list|insiders`: the tamper-evident audit trail and the insider flags,
//! for the operator (raw identifiers: the CLI runs on the database's own machine).

use fanzha_store::{AuditEntry, AuditFilter};

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Verify the hash chain and its recorded head; exit 1 naming the first broken entry if
    /// any entry was altered or deleted.
    Verify,
    /// The newest entries, raw.
    List {
        /// Only this actor (`user:NAME`, `key:ID:INSTITUTION`, `cli:USER`, `system:insider`).
        #[arg(long)]
        actor: Option<String>,
        /// Only actions starting with this (`lookup.`, `api.login`, `cli.`…).
        #[arg(long)]
        action: Option<String>,
        /// How many entries, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Run insider detection now (the server also runs it periodically) and show the flags.
    Insiders,
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        Cmd::Verify => {
            let (head, entries) = fanzha_store::audit_trail(&*store).await?;
            let verdict = fanzha_store::verify_audit_trail(head.as_ref(), &entries);
            let broken = verdict.as_ref().err();
            // Recorded after reading, so this run's own entry is checked by the next one.
            super::audit(
                &store,
                "cli.audit.verify",
                serde_json::json!({ "entries": entries.len(), "broken": broken }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "entries": entries.len(),
                        "head": head,
                        "verified": broken.is_none(),
                        "broken": broken,
                        "first_broken_id": broken.map(|b| b.id()),
                    })
                );
            } else {
                match broken {
                    None => println!(
                        "audit trail verified: {} entries, head #{}",
                        entries.len(),
                        head.map_or(0, |h| h.last_id)
                    ),
                    Some(b) => println!("AUDIT TRAIL BROKEN at entry #{}: {b}", b.id()),
                }
            }
            if broken.is_some() {
                return Ok(Outcome::Rejected);
            }
        }
        Cmd::List {
            actor,
            action,
            limit,
        } => {
            let filter = AuditFilter {
                actor: actor.clone(),
                action_prefix: action.clone(),
                from: None,
                to: None,
            };
            let (entries, total) = store.audit_page(&filter, limit, 0).await?;
            super::audit(
                &store,
                "cli.audit.list",
                serde_json::json!({ "actor": actor, "action": action, "limit": limit }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "entries": entries, "total": total })
                );
            } else {
                for e in &entries {
                    println!("{}", line(e));
                }
                println!(
                    "{} of {total} matching entries, newest first",
                    entries.len()
                );
            }
        }
        Cmd::Insiders => {
            let raised = fanzha_insider::run(&*store, now_micros()).await?;
            let flags = store.flag_list().await?;
            super::audit(
                &store,
                "cli.audit.insiders",
                serde_json::json!({ "raised": raised.len(), "flags": flags.len() }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "raised": raised, "flags": flags })
                );
            } else {
                println!("{} new flags", raised.len());
                for f in &flags {
                    let state = match &f.reviewed_by {
                        Some(a) => format!("reviewed by {a}"),
                        None => "open".to_owned(),
                    };
                    println!(
                        "#{} {} {} {} {} {}",
                        f.id, f.day, f.username, f.rule, state, f.detail
                    );
                }
            }
        }
    }
    Ok(Outcome::Clean)
}

fn line(e: &AuditEntry) -> String {
    let at = fanzha_core::Instant::from_micros(e.at)
        .map(|i| i.to_string())
        .unwrap_or_default();
    format!("#{} {at} {} {} {}", e.id, e.actor, e.action, e.detail)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
