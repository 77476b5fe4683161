//! `fanzha deliver`: drain the warning outbox into each institution's webhook (issue 5,
//! delivery), and `fanzha deliver status`: what waits and what died, per institution.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use fanzha_deliver::{Config, Deliverer};
use fanzha_store::OutboxState;

use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// The delivery configuration (TOML): each institution's webhook and secret, retries.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// One pass over what is due now, then exit (default: run until Ctrl-C or SIGTERM).
    #[arg(long)]
    once: bool,
    /// Requests in flight at once (overrides the file's `delivery.concurrency`).
    #[arg(long, value_name = "N")]
    concurrency: Option<NonZeroUsize>,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Pending and dead deliveries per institution.
    Status {
        /// Also say which institutions have a webhook in this configuration.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Rows read per state at most.
        #[arg(long, default_value_t = 1_000_000)]
        limit: u32,
    },
    /// Put dead-lettered deliveries back in the queue, due now, attempts reset: each keeps
    /// its idempotency key and payload, so an institution that did apply one applies it
    /// no more. The next `fanzha deliver` run posts them.
    Resend {
        /// Re-queue every dead delivery (the only selection so far; required so the
        /// command says what it does).
        #[arg(long, required = true)]
        dead: bool,
    },
}

/// Exit 0 when nothing went dead during the run, 1 when some delivery did, 2 when the
/// configuration or the store is unusable.
pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    match args.cmd {
        Some(Cmd::Status { config, limit }) => return status(ctx, config, limit).await,
        Some(Cmd::Resend { dead: _ }) => return resend_dead(ctx).await,
        None => {}
    }
    let Some(path) = args.config else {
        anyhow::bail!("--config FILE is required: the institutions' webhooks and secrets");
    };
    let mut config = Config::load(&path)?;
    if let Some(n) = args.concurrency {
        config = config.with_concurrency(n);
    }
    let institutions: Vec<String> = config.institutions().map(str::to_owned).collect();
    let store = ctx.store().await?;
    let deliverer = Deliverer::new(store.clone(), config)?;
    let started = Instant::now();
    let report = if args.once {
        deliverer.run_once().await?
    } else {
        eprintln!(
            "delivering to {} institutions ({}); Ctrl-C to stop",
            institutions.len(),
            institutions.join(", ")
        );
        deliverer.run_until(stop_signal()).await?
    };
    let secs = started.elapsed().as_secs_f64();
    super::audit(
        &store,
        "cli.deliver",
        serde_json::json!({ "report": &report, "config": path, "once": args.once }),
    )
    .await?;
    if ctx.json {
        super::print_json(&serde_json::json!({ "report": &report, "seconds": secs }))?;
    } else {
        println!(
            "delivered {}, failed and retrying {}, dead {} in {secs:.1} s ({} claimed)",
            report.delivered, report.retried, report.dead, report.claimed
        );
        if report.unrouted > 0 {
            println!(
                "{} deliveries wait for a webhook: no [institutions.CODE] for {}",
                report.unrouted,
                report.unrouted_institutions.join(", ")
            );
        }
        if report.unrecorded + report.unsent > 0 {
            println!(
                "{} not recorded or not sent: they are sent again when their lease ends",
                report.unrecorded + report.unsent
            );
        }
        if report.dead > 0 {
            println!("see: fanzha deliver status");
        }
    }
    Ok(if report.dead > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    })
}

/// Ctrl-C or SIGTERM; if the handlers cannot be installed, never (the process can still be
/// killed, and the leases bring its rows back).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("stopping: finishing the requests in flight");
}

#[derive(Default, serde::Serialize)]
struct Line {
    institution: String,
    pending: u64,
    /// Pending rows that have failed at least once.
    retrying: u64,
    dead: u64,
    /// Whether the configuration given has a webhook for it (`None`: none given).
    webhook: Option<bool>,
    last_error: Option<String>,
}

async fn status(ctx: &Context, config: Option<PathBuf>, limit: u32) -> anyhow::Result<Outcome> {
    let config = config.as_deref().map(Config::load).transpose()?;
    let store = ctx.store().await?;
    let mut lines: BTreeMap<String, Line> = BTreeMap::new();
    let mut truncated = false;
    for state in [OutboxState::Pending, OutboxState::Dead] {
        let rows = store.outbox_list(Some(state), limit).await?;
        truncated |= rows.len() == limit as usize;
        for row in rows {
            let line = lines
                .entry(row.institution_code.clone())
                .or_insert_with(|| Line {
                    institution: row.institution_code.clone(),
                    webhook: config
                        .as_ref()
                        .map(|c| c.endpoint(&row.institution_code).is_some()),
                    ..Line::default()
                });
            match state {
                OutboxState::Dead => {
                    line.dead += 1;
                    line.last_error = row.last_error;
                }
                _ => {
                    line.pending += 1;
                    line.retrying += u64::from(row.attempts > 0);
                }
            }
        }
    }
    let lines: Vec<Line> = lines.into_values().collect();
    super::audit(
        &store,
        "cli.deliver.status",
        serde_json::json!({ "institutions": lines.len() }),
    )
    .await?;
    if ctx.json {
        super::print_json(&lines)?;
    } else {
        println!(
            "institution     pending  retrying     dead  webhook  last error of a dead delivery"
        );
        for l in &lines {
            println!(
                "{:<14} {:>8} {:>9} {:>8}  {:<7}  {}",
                l.institution,
                l.pending,
                l.retrying,
                l.dead,
                match l.webhook {
                    Some(true) => "yes",
                    Some(false) => "NONE",
                    None => "-",
                },
                l.last_error.as_deref().unwrap_or("")
            );
        }
        if truncated {
            println!("(at least: --limit {limit} rows read per state)");
        }
    }
    Ok(Outcome::Clean)
}

async fn resend_dead(ctx: &Context) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let requeued = store.outbox_resend_dead(now).await?;
    super::audit(
        &store,
        "cli.deliver.resend",
        serde_json::json!({ "requeued": requeued }),
    )
    .await?;
    if ctx.json {
        super::print_json(&serde_json::json!({ "requeued": requeued }))?;
    } else {
        println!("{requeued} dead deliveries re-queued; next: fanzha deliver --config FILE");
    }
    Ok(Outcome::Clean)
}
