//! `fanzha ingest FILE…`: load data files, quarantining bad records.

use std::path::PathBuf;
use std::sync::Arc;

use fanzha_ingest::{Encoding, FileReport, IngestOptions, Target};

use super::Context;
use crate::progress::Bar;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Files (CSV, JSON lines, XLSX) or directories of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// What the files hold: a kind (transactions, persons, …) or `statement`.
    #[arg(long)]
    pub kind: Option<Target>,
    /// CSV encoding (utf-8 or gbk); detected by default.
    #[arg(long)]
    pub encoding: Option<Encoding>,
    /// Statement profile: a bundled name or a TOML file.
    #[arg(long)]
    pub profile: Option<String>,
    /// Records per committed batch.
    #[arg(long, default_value_t = 50_000)]
    pub batch_size: usize,
}

#[derive(serde::Serialize)]
struct Summary {
    files: Vec<FileReport>,
    unusable: Vec<Unusable>,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    rejected: u64,
}

#[derive(serde::Serialize)]
struct Unusable {
    file: String,
    error: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let opts = IngestOptions {
        target: args.kind,
        encoding: args.encoding,
        batch_size: args.batch_size,
        profile: args.profile,
        progress: Arc::new(Bar::new()),
    };
    let mut summary = Summary {
        files: Vec::new(),
        unusable: Vec::new(),
        inserted: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
    };
    for path in fanzha_ingest::expand_paths(&args.files) {
        match fanzha_ingest::ingest_file(&store, &path, &opts).await {
            Ok(r) => {
                summary.inserted += r.inserted;
                summary.updated += r.updated;
                summary.unchanged += r.unchanged;
                summary.rejected += r.rejected;
                if !ctx.json {
                    print_file(&r);
                }
                summary.files.push(r);
            }
            Err(e) => {
                if !ctx.json {
                    eprintln!("error: {e}");
                }
                summary.unusable.push(Unusable {
                    file: path.display().to_string(),
                    error: e.to_string(),
                });
            }
        }
    }
    let outcome = if !summary.unusable.is_empty() {
        Outcome::Unusable
    } else if summary.rejected > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    };
    super::audit(
        &store,
        "cli.ingest",
        serde_json::json!({
            "files": summary.files.len() + summary.unusable.len(),
            "inserted": summary.inserted, "updated": summary.updated,
            "unchanged": summary.unchanged, "rejected": summary.rejected,
            "unusable": summary.unusable.len(),
        }),
    )
    .await?;
    if ctx.json {
        super::print_json(&summary)?;
    } else {
        println!(
            "total: {} inserted, {} updated, {} unchanged, {} rejected{}",
            summary.inserted,
            summary.updated,
            summary.unchanged,
            summary.rejected,
            if summary.unusable.is_empty() {
                String::new()
            } else {
                format!(", {} file(s) unusable", summary.unusable.len())
            }
        );
        if summary.rejected > 0 {
            println!("rejected records are in the quarantine: fanzha quarantine list");
        }
    }
    Ok(outcome)
}

fn print_file(r: &FileReport) {
    println!(
        "{} ({}): {} inserted, {} updated, {} unchanged, {} rejected",
        r.file, r.kind, r.inserted, r.updated, r.unchanged, r.rejected
    );
    for rej in &r.first_rejections {
        let field = rej
            .field
            .as_deref()
            .map(|f| format!(" field `{f}`:"))
            .unwrap_or_default();
        println!("  line {}:{} {}", rej.origin.line, field, rej.reason);
    }
    if r.rejected > r.first_rejections.len() as u64 {
        println!(
            "  … and {} more",
            r.rejected - r.first_rejections.len() as u64
        );
    }
}
