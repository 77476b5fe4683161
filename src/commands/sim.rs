//! `fanzha sim`: writes a seeded district (every data kind of DATA.md plus `labels/`) into a
//! directory. Thin: the simulator lives in `fanzha-sim`.

use std::path::PathBuf;

use anyhow::Context as _;
use fanzha_core::Money;
use fanzha_sim::{Config, Format, Profile, Scale};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// The seed: the same seed, scale and profile give byte-identical files.
    #[arg(long, default_value_t = 20_260_301)]
    pub seed: u64,
    /// small (≈5,000 residents), district (200,000) or city (1,000,000).
    #[arg(long, default_value = "small")]
    pub scale: Scale,
    /// Days from 2026-03-01 (default: 7 for small, 30 otherwise).
    #[arg(long)]
    pub days: Option<u32>,
    /// default, or hard (heavier camouflage, slower laundering, more look-alikes).
    #[arg(long, default_value = "default")]
    pub profile: Profile,
    /// The output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// csv or jsonl (labels are always CSV).
    #[arg(long, default_value = "csv")]
    pub format: Format,
}

impl Args {
    pub fn config(&self) -> Config {
        let mut cfg = Config::new(self.seed, self.scale, self.profile);
        if let Some(d) = self.days {
            cfg.days = d;
        }
        cfg.format = self.format;
        cfg
    }
}

/// Rows and bytes of every file written, data and labels, by file name.
pub fn files_json(summary: &fanzha_sim::Summary) -> serde_json::Map<String, serde_json::Value> {
    summary
        .files
        .iter()
        .chain(&summary.labels)
        .map(|f| {
            (
                f.name.clone(),
                serde_json::json!({ "rows": f.rows, "bytes": f.bytes }),
            )
        })
        .collect()
}

/// Runs the simulator with a progress bar on a terminal.
pub fn generate(cfg: &Config, out: &std::path::Path) -> anyhow::Result<fanzha_sim::Summary> {
    let bar =
        ProgressBar::with_draw_target(Some(u64::from(cfg.days)), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("simulating {msg} [{bar:30}] day {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(cfg.scale.to_string());
    let summary =
        fanzha_sim::run_with_progress(cfg, out, &mut |done, _| bar.set_position(u64::from(done)))
            .with_context(|| format!("simulating into {}", out.display()))?;
    bar.finish_and_clear();
    Ok(summary)
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let cfg = args.config();
    let out = args.out.clone();
    let summary = tokio::task::spawn_blocking(move || generate(&cfg, &out)).await??;
    if ctx.json {
        let files = files_json(&summary);
        super::print_json(&serde_json::json!({
            "out": args.out.display().to_string(),
            "seed": args.seed,
            "scale": args.scale.as_str(),
            "profile": args.profile.as_str(),
            "residents": summary.residents,
            "rings": summary.rings,
            "victims": summary.victims,
            "reported": summary.reported,
            "loss_fen": summary.loss_fen,
            "seconds": summary.elapsed.as_secs_f64(),
            "files": files,
        }))?;
    } else {
        println!(
            "simulated {} residents ({} scale, {} profile, seed {}) into {} in {:.1}s",
            summary.residents,
            args.scale,
            args.profile.as_str(),
            args.seed,
            args.out.display(),
            summary.elapsed.as_secs_f64()
        );
        for f in summary.files.iter().chain(&summary.labels) {
            println!(
                "  {:<24} {:>12} rows {:>10.1} MB",
                f.name,
                f.rows,
                f.bytes as f64 / 1e6
            );
        }
        println!(
            "{} rings, {} victims ({} reported), total loss {}",
            summary.rings,
            summary.victims,
            summary.reported,
            Money::from_fen(summary.loss_fen)
        );
    }
    Ok(Outcome::Clean)
}
