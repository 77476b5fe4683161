//! `fanzha eval risk`: the stored warnings against ground-truth labels (the simulator's
//! `labels/`, or labels written for a public benchmark), per entity type at the operating
//! threshold, with the detection delay.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use fanzha_risk::eval::{self, EvalType, Labelled, Warned};
use fanzha_store::{RiskEntity, Scope, WarningFilter, WarningStatus};

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Score the stored warnings (run `fanzha risk run` first) against labels/entities.csv.
    Risk {
        /// The labels directory (entities.csv, flows.csv).
        #[arg(long, value_name = "DIR")]
        labels: PathBuf,
        /// The data directory the store was loaded from, for the first fraud use of each
        /// entity (transactions.csv, calls.csv); default: the labels directory's parent.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Trace every stored report by FIFO and compare the holdings with
    /// labels/holdings.csv (the simulator's FIFO replay), to the fen.
    Trace {
        /// The labels directory (holdings.csv).
        #[arg(long, value_name = "DIR")]
        labels: PathBuf,
    },
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let (labels, data) = match cmd {
        Cmd::Risk { labels, data } => (labels, data),
        Cmd::Trace { labels } => return super::trace::eval(ctx, &labels).await,
    };
    let data = match data {
        Some(d) => d,
        None => labels
            .parent()
            .map(Path::to_path_buf)
            .context("--labels has no parent directory; give --data")?,
    };
    let store = ctx.store().await?;
    let labelled = read_labels(&labels.join("entities.csv"))?;
    let warned = stored_warnings(&*store).await?;
    if warned.is_empty() {
        bail!("the store holds no warnings: run `fanzha risk run` first");
    }
    let first_use = first_fraud_use(&labels, &data, &labelled)?;
    let report = eval::evaluate(&labelled, &warned, &first_use);
    super::audit(
        &store,
        "cli.eval.risk",
        serde_json::json!({ "labels": labels, "warnings": warned.len() }),
    )
    .await?;
    if ctx.json {
        let by_type: serde_json::Map<String, serde_json::Value> = report
            .iter()
            .map(|(k, v)| Ok((k.as_str().to_owned(), serde_json::to_value(v)?)))
            .collect::<anyhow::Result<_>>()?;
        super::print_json(&by_type)?;
    } else {
        println!("| entity | positives | warned | TP | FP | other fraud | precision | recall | F1 | AUC-PR | median delay h |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (k, r) in &report {
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
                k.as_str(),
                r.positives,
                r.warned,
                r.true_positives,
                r.false_positives,
                r.other_fraud_warned,
                r.precision,
                r.recall,
                r.f1,
                r.average_precision,
                r.median_delay_hours
                    .map_or_else(|| "—".to_owned(), |h| format!("{h:.2}"))
            );
        }
        for (k, r) in &report {
            for (pattern, (n, right, other)) in &r.patterns {
                println!(
                    "{} {pattern}: {n} warnings, {right} on a target, {other} on another fraud role",
                    k.as_str()
                );
            }
        }
    }
    Ok(Outcome::Clean)
}

fn eval_type(s: &str) -> Option<EvalType> {
    match s {
        "account" => Some(EvalType::Account),
        "sim" => Some(EvalType::Sim),
        _ => None,
    }
}

/// Reads labels/entities.csv: the accounts and SIMs with their roles.
pub(crate) fn read_labels(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = r.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column {name}", path.display()))
    };
    let (t, id, role) = (col("entity_type")?, col("entity_id")?, col("role")?);
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let Some(kind) = rec.get(t).and_then(eval_type) else {
            continue;
        };
        out.push(Labelled {
            kind,
            id: rec.get(id).unwrap_or_default().to_owned(),
            role: rec.get(role).unwrap_or_default().to_owned(),
        });
    }
    Ok(out)
}

async fn stored_warnings(store: &dyn fanzha_store::Store) -> anyhow::Result<Vec<Warned>> {
    const PAGE: u32 = 10_000;
    let mut out = Vec::new();
    loop {
        let page = store
            .warning_list(
                &Scope::All,
                &WarningFilter::default(),
                PAGE,
                out.len() as u64,
            )
            .await?;
        let n = page.len();
        // A withdrawn warning no longer stands: it is not scored.
        out.extend(
            page.into_iter()
                .filter(|w| w.status != WarningStatus::Withdrawn)
                .filter_map(|w| {
                    let kind = match w.entity.kind {
                        RiskEntity::Account => EvalType::Account,
                        RiskEntity::Sim | RiskEntity::Number => EvalType::Sim,
                        RiskEntity::Person => return None,
                    };
                    Some(Warned {
                        kind,
                        id: w.entity.id,
                        pattern: w.pattern,
                        score: w.score.get(),
                        first_warned_at: w.first_warned_at,
                    })
                }),
        );
        if n < PAGE as usize {
            return Ok(out);
        }
    }
}

/// Each labelled account's first labelled fraud flow, and each labelled SIM's first call,
/// read from the data files (streamed: a district's files are gigabytes).
fn first_fraud_use(
    labels: &Path,
    data: &Path,
    labelled: &[Labelled],
) -> anyhow::Result<HashMap<(EvalType, String), i64>> {
    let mut first: HashMap<(EvalType, String), i64> = HashMap::new();
    let accounts: HashSet<&str> = labelled
        .iter()
        .filter(|l| l.kind == EvalType::Account && l.role != "victim")
        .map(|l| l.id.as_str())
        .collect();
    let sims: HashSet<&str> = labelled
        .iter()
        .filter(|l| l.kind == EvalType::Sim)
        .map(|l| l.id.as_str())
        .collect();
    let mut keep = |kind: EvalType, id: &str, ts: i64| {
        let e = first.entry((kind, id.to_owned())).or_insert(ts);
        *e = (*e).min(ts);
    };

    let flows_path = labels.join("flows.csv");
    let mut fraud_tx: HashSet<String> = HashSet::new();
    if flows_path.is_file() {
        each_row(&flows_path, &["tx_id"], |v| {
            fraud_tx.insert(v[0].to_owned());
        })?;
    }
    let tx_path = data.join("transactions.csv");
    if tx_path.is_file() && !fraud_tx.is_empty() {
        each_row(
            &tx_path,
            &["tx_id", "ts", "from_account", "to_account"],
            |v| {
                if !fraud_tx.contains(v[0]) {
                    return;
                }
                let Ok(ts) = fanzha_core::Instant::parse_rfc3339(v[1]) else {
                    return;
                };
                for account in [v[2], v[3]] {
                    if accounts.contains(account) {
                        keep(EvalType::Account, account, ts.micros());
                    }
                }
            },
        )?;
    }
    let calls_path = data.join("calls.csv");
    if calls_path.is_file() && !sims.is_empty() {
        each_row(&calls_path, &["ts", "caller"], |v| {
            if !sims.contains(v[1]) {
                return;
            }
            if let Ok(ts) = fanzha_core::Instant::parse_rfc3339(v[0]) {
                keep(EvalType::Sim, v[1], ts.micros());
            }
        })?;
    }
    Ok(first)
}

/// Calls `f` with the named columns of every record of a CSV file.
fn each_row(path: &Path, columns: &[&str], mut f: impl FnMut(&[&str])) -> anyhow::Result<()> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = r.headers()?.clone();
    let idx = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .with_context(|| format!("{}: no column {c}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while r
        .read_record(&mut rec)
        .with_context(|| format!("{}: line {}", path.display(), line + 1))?
    {
        line += 1;
        let values: Vec<&str> = idx
            .iter()
            .map(|&i| rec.get(i).unwrap_or_default())
            .collect();
        f(&values);
    }
    Ok(())
}
