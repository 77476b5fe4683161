//! `fanzha risk run|warnings`: two-card risk warnings (M1) over the store, for the operator
//! (raw identifiers: the CLI runs on the database's own machine).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use fanzha_risk::{FeatureConfig, RuleSet};
use fanzha_store::{RiskEntity, Scope, Warning, WarningFilter, WarningLevel, WarningReason};

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Run the feature engine and the rules over every event in the store, in event-time
    /// order, and store one warning per warned account or SIM (queued for its owner).
    Run {
        /// A directory of rule files (*.toml); default: the rule set built into Fanzha.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Rows read per page of each event table.
        #[arg(long, default_value_t = fanzha_risk::run::PAGE_ROWS)]
        page: u32,
    },
    /// The stored warnings, strongest first.
    Warnings {
        /// Only this level: red, orange or yellow.
        #[arg(long)]
        level: Option<WarningLevel>,
        /// Only this pattern: mule, runner, sold_card, scam_caller_sim, sim_box.
        #[arg(long)]
        pattern: Option<String>,
        /// How many at most.
        #[arg(long, default_value_t = 1_000)]
        limit: u32,
    },
}

/// A warning as `risk warnings --json` prints it.
#[derive(serde::Serialize)]
struct Shown {
    entity_type: RiskEntity,
    entity_id: String,
    institution: String,
    score: u8,
    level: WarningLevel,
    pattern: String,
    measure: &'static str,
    reasons: Vec<WarningReason>,
    /// RFC 3339, Beijing time.
    first_warned_at: String,
    updated_at: String,
    version: i64,
    status: &'static str,
}

fn shanghai(micros: i64) -> String {
    fanzha_core::Instant::from_micros(micros)
        .map_or_else(|| micros.to_string(), |i| i.to_rfc3339_shanghai())
}

impl Shown {
    fn new(w: Warning) -> anyhow::Result<Shown> {
        Ok(Shown {
            reasons: w.reasons()?,
            entity_type: w.entity.kind,
            entity_id: w.entity.id,
            institution: w.institution_code,
            score: w.score.get(),
            level: w.level,
            pattern: w.pattern,
            measure: w.measure.as_str(),
            first_warned_at: shanghai(w.first_warned_at),
            updated_at: shanghai(w.updated_at),
            version: w.version,
            status: w.status.as_str(),
        })
    }
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        Cmd::Run { rules, page } => {
            let set = match &rules {
                Some(dir) => RuleSet::load_dir(dir)?,
                None => RuleSet::builtin().context("the built-in rule set")?,
            };
            let started = Instant::now();
            let report =
                fanzha_risk::run::run(&store, &set, FeatureConfig::default(), page).await?;
            let secs = started.elapsed().as_secs_f64();
            super::audit(
                &store,
                "cli.risk.run",
                serde_json::json!({ "report": &report, "rules": rules }),
            )
            .await?;
            if ctx.json {
                super::print_json(&serde_json::json!({ "report": report, "seconds": secs }))?;
            } else {
                let events: u64 = report.events.values().sum();
                println!(
                    "{events} events in {secs:.1} s ({:.0}/s); rules {}",
                    events as f64 / secs.max(1e-9),
                    report.rules_version
                );
                for (kind, n) in &report.events {
                    println!("  {kind:<14} {n}");
                }
                println!(
                    "scored {} accounts and numbers; {} reached a warning level: {} new warning versions queued, {} unchanged, {} with no owner in the data (not stored); {} earlier warnings withdrawn",
                    report.scored, report.warned, report.new_versions, report.unchanged, report.unowned, report.withdrawn
                );
                println!("next: fanzha risk warnings [--level red] [--json]");
            }
        }
        Cmd::Warnings {
            level,
            pattern,
            limit,
        } => {
            let filter = WarningFilter {
                level,
                pattern,
                ..WarningFilter::default()
            };
            let mut warnings = store.warning_list(&Scope::All, &filter, limit, 0).await?;
            warnings
                .sort_by(|a, b| (b.score.get(), &a.entity.id).cmp(&(a.score.get(), &b.entity.id)));
            super::audit(
                &store,
                "cli.risk.warnings",
                serde_json::json!({ "shown": warnings.len() }),
            )
            .await?;
            let shown = warnings
                .into_iter()
                .map(Shown::new)
                .collect::<anyhow::Result<Vec<_>>>()?;
            if ctx.json {
                super::print_json(&shown)?;
            } else {
                println!("score level   pattern          entity                     owner     first warned (Beijing)");
                for w in &shown {
                    let reasons: Vec<&str> = w.reasons.iter().map(|r| r.text_zh.as_str()).collect();
                    println!(
                        "{:>5} {:<7} {:<16} {:<7} {:<19} {:<9} {}\n      {}",
                        w.score,
                        w.level.as_str(),
                        w.pattern,
                        w.entity_type.as_str(),
                        w.entity_id,
                        w.institution,
                        w.first_warned_at,
                        reasons.join("；")
                    );
                }
                println!("{} warnings", shown.len());
            }
        }
    }
    Ok(Outcome::Clean)
}
