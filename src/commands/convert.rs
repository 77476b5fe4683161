//! `fanzha convert`: public AML benchmark files into a directory `fanzha ingest` loads, plus
//! their ground truth in `labels/`. Thin: the adapters live in `fanzha_ingest::adapters`.

use std::path::PathBuf;

use anyhow::Context as _;
use fanzha_ingest::adapters::{amlsim, amlworld, values, ConvertReport, Rates};

use super::Context;
use crate::progress::Bar;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// IBM AMLworld: a `*_Trans.csv` (and its `*_Patterns.txt` beside it, for rings).
    Amlworld(AmlworldArgs),
    /// IBM AMLSim: an output directory (accounts.csv, transactions.csv, alert_accounts.csv).
    Amlsim(AmlsimArgs),
}

#[derive(clap::Args)]
pub struct Common {
    /// The output directory (created if missing; files in it are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// The zone of times written without one.
    #[arg(long, default_value = "+00:00", value_parser = values::parse_offset)]
    pub tz: chrono::FixedOffset,
    /// A CSV `currency,yuan_per_unit` adding to or replacing the default rates.
    #[arg(long)]
    pub rates: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct AmlworldArgs {
    /// The transaction CSV.
    pub file: PathBuf,
    /// The patterns file (default: `X_Patterns.txt` beside `X_Trans.csv`, when present).
    #[arg(long, conflicts_with = "no_patterns")]
    pub patterns: Option<PathBuf>,
    /// Read no patterns file: laundering transactions get no ring.
    #[arg(long)]
    pub no_patterns: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args)]
pub struct AmlsimArgs {
    /// AMLSim's output directory.
    pub dir: PathBuf,
    /// Day 0 of the simulation, for times written as day numbers.
    #[arg(long, default_value = "2017-01-01")]
    pub base_date: chrono::NaiveDate,
    /// The currency of AMLSim's amounts.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    #[command(flatten)]
    pub common: Common,
}

fn rates(common: &Common) -> anyhow::Result<Rates> {
    Ok(match &common.rates {
        Some(p) => Rates::with_overrides(p)?,
        None => Rates::default(),
    })
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let (action, converted) = match cmd {
        Cmd::Amlworld(a) => {
            let patterns = match (a.patterns, a.no_patterns) {
                (Some(p), _) => Some(p),
                (None, true) => None,
                (None, false) => amlworld::patterns_beside(&a.file),
            };
            let opts = amlworld::Options {
                trans: a.file,
                patterns,
                out: a.common.out.clone(),
                tz: a.common.tz,
                rates: rates(&a.common)?,
            };
            let r = tokio::task::spawn_blocking(move || amlworld::convert(&opts, &Bar::new()))
                .await
                .context("the conversion stopped")?;
            ("cli.convert.amlworld", r)
        }
        Cmd::Amlsim(a) => {
            let opts = amlsim::Options {
                dir: a.dir,
                out: a.common.out.clone(),
                tz: a.common.tz,
                base_date: a.base_date,
                currency: a.currency,
                rates: rates(&a.common)?,
            };
            let r = tokio::task::spawn_blocking(move || amlsim::convert(&opts, &Bar::new()))
                .await
                .context("the conversion stopped")?;
            ("cli.convert.amlsim", r)
        }
    };
    let report = match converted {
        Ok(r) => r,
        Err(e) => {
            super::audit(
                &store,
                action,
                serde_json::json!({ "error": e.to_string() }),
            )
            .await?;
            return Err(e.into());
        }
    };
    super::audit(
        &store,
        action,
        serde_json::json!({
            "input": report.input, "out": report.out, "read": report.read,
            "rejected": report.rejected, "laundering": report.laundering, "rings": report.rings,
        }),
    )
    .await?;
    if ctx.json {
        super::print_json(&report)?;
    } else {
        print(&report);
    }
    Ok(if report.rejected > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    })
}

fn print(r: &ConvertReport) {
    println!(
        "converted {} ({}) into {} in {:.1}s: {} read, {} rejected",
        r.input, r.format, r.out, r.seconds, r.read, r.rejected
    );
    for f in &r.files {
        println!("  {:<24} {:>12} rows", f.name, f.rows);
    }
    println!(
        "{} laundering transactions, {} rings, {} in no ring{}",
        r.laundering,
        r.rings,
        r.unattributed,
        if r.unmatched_pattern_lines > 0 {
            format!(
                ", {} pattern lines matched no transaction",
                r.unmatched_pattern_lines
            )
        } else {
            String::new()
        }
    );
    for e in &r.first_rejections {
        println!("  {e}");
    }
    if r.rejected > r.first_rejections.len() as u64 {
        println!(
            "  … and {} more, all in {}/convert/rejections.csv",
            r.rejected - r.first_rejections.len() as u64,
            r.out
        );
    }
}
