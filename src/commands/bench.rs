//! `fanzha bench ingest`: ingest throughput on generated transactions, measured against
//! plain bulk loads of the same file in the same run (`sqlite3 .import`, `psql \copy`),
//! so the figures are ratios on this machine, not absolute claims.
//!
//! `fanzha bench sim`: the simulator's wall time, rows and bytes per kind and peak memory.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use fanzha_ingest::{IngestOptions, Target};
use fanzha_store::Store;

use super::Context;
use crate::progress::Bar;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Generated transaction CSV into SQLite (and PostgreSQL with --pg).
    Ingest(IngestArgs),
    /// The simulator: a whole district written to disk.
    Sim(SimArgs),
    /// The server under load: dashboard and profile pages at N concurrent users, M idle
    /// connections held, against a `/healthz` baseline in the same run.
    Serve(super::bench_serve::ServeArgs),
    /// The decision API under load: payment and call decisions from N closed-loop
    /// keep-alive connections, against a `/healthz` baseline in the same run.
    Decisions(super::bench_decisions::DecisionArgs),
    /// Fund tracing: building the ledger (50 million generated transactions), tracing a
    /// district's reports by every rule, and reach against a PostgreSQL recursive query.
    Trace(super::bench_trace::TraceArgs),
}

#[derive(clap::Args)]
pub struct SimArgs {
    /// small, district or city.
    #[arg(long, default_value = "district")]
    scale: fanzha_sim::Scale,
    /// Days (default: the scale's).
    #[arg(long)]
    days: Option<u32>,
    #[arg(long, default_value_t = 20_260_301)]
    seed: u64,
    /// default or hard.
    #[arg(long, default_value = "default")]
    profile: fanzha_sim::Profile,
    /// Where to write (default: a temp dir, removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Transactions to generate.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Also measure PostgreSQL at this URL (a scratch schema is created and dropped).
    #[arg(long)]
    pg: Option<String>,
    /// Where to write the generated file and the scratch databases (default: a temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Records per committed batch.
    #[arg(long, default_value_t = 50_000)]
    batch_size: usize,
}

#[derive(serde::Serialize)]
struct Measure {
    what: String,
    rows: u64,
    seconds: f64,
    rows_per_sec: f64,
}

impl Measure {
    fn new(what: &str, rows: u64, seconds: f64) -> Self {
        Measure {
            what: what.to_owned(),
            rows,
            seconds,
            rows_per_sec: rows as f64 / seconds.max(1e-9),
        }
    }
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    match cmd {
        Cmd::Ingest(args) => ingest_bench(ctx, args).await,
        Cmd::Sim(args) => sim_bench(ctx, args).await,
        Cmd::Serve(args) => super::bench_serve::run(ctx, args).await,
        Cmd::Decisions(args) => super::bench_decisions::run(ctx, args).await,
        Cmd::Trace(args) => super::bench_trace::run(ctx, args).await,
    }
}

/// `fanzha bench sim`: the simulator's wall time, rows per kind, throughput, bytes and peak
/// memory, for the figures in docs/benchmarks.md.
async fn sim_bench(ctx: &Context, args: SimArgs) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| tmp.path().join("district"));
    let mut cfg = fanzha_sim::Config::new(args.seed, args.scale, args.profile);
    if let Some(d) = args.days {
        cfg.days = d;
    }
    let threads = cfg.threads;
    let out = dir.clone();
    let summary = tokio::task::spawn_blocking(move || super::sim::generate(&cfg, &out)).await??;
    let secs = summary.elapsed.as_secs_f64();
    let rows: u64 = summary.files.iter().map(|f| f.rows).sum();
    let peak_rss_mb = peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    if ctx.json {
        let kinds = super::sim::files_json(&summary);
        println!(
            "{}",
            serde_json::json!({ "machine": machine(), "scale": args.scale.as_str(), "threads": threads,
                "seconds": secs, "rows": rows, "rows_per_sec": rows as f64 / secs.max(1e-9),
                "bytes": summary.bytes(), "peak_rss_mb": peak_rss_mb, "files": kinds })
        );
    } else {
        println!("machine: {}", machine());
        println!(
            "fanzha sim --scale {} --seed {} --profile {}: {} residents, {} threads",
            args.scale,
            args.seed,
            args.profile.as_str(),
            summary.residents,
            threads
        );
        println!("| file | rows | MB |");
        println!("|---|---:|---:|");
        for f in summary.files.iter().chain(&summary.labels) {
            println!("| {} | {} | {:.1} |", f.name, f.rows, f.bytes as f64 / 1e6);
        }
        println!(
            "total: {rows} rows, {:.0} MB in {secs:.1} s ({:.0} rows/s, {:.0} MB/s)",
            summary.bytes() as f64 / 1e6,
            rows as f64 / secs.max(1e-9),
            summary.bytes() as f64 / 1e6 / secs.max(1e-9)
        );
        if let Some(mb) = peak_rss_mb {
            println!("peak RSS of the process: {mb:.0} MB");
        }
    }
    Ok(Outcome::Clean)
}

async fn ingest_bench(ctx: &Context, args: IngestArgs) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("transactions.csv");
    let t = Instant::now();
    generate(&csv, args.rows)?;
    let gen_secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&csv)?.len();
    eprintln!(
        "generated {} rows ({:.0} MB) in {gen_secs:.1}s",
        args.rows,
        bytes as f64 / 1e6
    );

    let mut results = Vec::new();
    let sqlite_path = dir.join("bench.db");
    remove_db(&sqlite_path);
    let store = fanzha_store::open(&sqlite_path.display().to_string()).await?;
    let (ours, indexes) = ingest(&store, &csv, args.batch_size, args.rows, false).await?;
    let peak_rss_mb = peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    push_first_load(&mut results, "SQLite", args.rows, ours, indexes);
    let (again, _) = ingest(&store, &csv, args.batch_size, args.rows, true).await?;
    results.push(Measure::new(
        "fanzha re-ingest → SQLite (all unchanged)",
        args.rows,
        again,
    ));

    let plain = dir.join("plain.db");
    remove_db(&plain);
    let baseline = fanzha_store::baseline::sqlite_import(&csv, &plain)?;
    results.push(Measure::new(
        "sqlite3 .import (baseline)",
        args.rows,
        baseline.as_secs_f64(),
    ));
    remove_db(&plain);
    remove_db(&sqlite_path);

    if let Some(url) = &args.pg {
        let schema = format!("fz_bench_{}", std::process::id());
        let store: Arc<dyn Store> =
            Arc::new(fanzha_store::postgres::PgStore::connect_in_schema(url, &schema).await?);
        store.migrate().await?;
        let (secs, indexes) = ingest(&store, &csv, args.batch_size, args.rows, false).await?;
        push_first_load(&mut results, "PostgreSQL (COPY)", args.rows, secs, indexes);
        let (again, _) = ingest(&store, &csv, args.batch_size, args.rows, true).await?;
        results.push(Measure::new(
            "fanzha re-ingest → PostgreSQL (all unchanged)",
            args.rows,
            again,
        ));
        match fanzha_store::baseline::pg_copy(url, &schema, &csv) {
            Ok(d) => results.push(Measure::new(
                "psql \\copy (baseline)",
                args.rows,
                d.as_secs_f64(),
            )),
            Err(e) => {
                eprintln!("psql \\copy baseline failed ({e}); PostgreSQL figure reported alone")
            }
        }
        if let Err(e) = fanzha_store::baseline::pg_drop_schema(url, &schema) {
            eprintln!("could not drop the scratch schema {schema}: {e}");
        }
    }

    if ctx.json {
        println!(
            "{}",
            serde_json::json!({ "machine": machine(), "file_bytes": bytes, "peak_rss_mb": peak_rss_mb, "results": results })
        );
    } else {
        println!("machine: {}", machine());
        println!("file: {} rows, {:.0} MB", args.rows, bytes as f64 / 1e6);
        println!("| what | rows | seconds | rows/s | ratio to baseline |");
        println!("|---|---:|---:|---:|---:|");
        let base_sqlite = results
            .iter()
            .find(|m| m.what.starts_with("sqlite3"))
            .map(|m| m.rows_per_sec);
        let base_pg = results
            .iter()
            .find(|m| m.what.starts_with("psql"))
            .map(|m| m.rows_per_sec);
        for m in &results {
            let base = if m.what.contains("PostgreSQL") || m.what.starts_with("psql") {
                base_pg
            } else {
                base_sqlite
            };
            let ratio = base
                .map(|b| format!("{:.2}", m.rows_per_sec / b))
                .unwrap_or_else(|| "—".into());
            println!(
                "| {} | {} | {:.2} | {:.0} | {ratio} |",
                m.what, m.rows, m.seconds, m.rows_per_sec
            );
        }
        if let Some(mb) = peak_rss_mb {
            println!("peak RSS of the process after the SQLite ingest: {mb:.0} MB");
        }
    }
    Ok(Outcome::Clean)
}

/// A first load's rows: the whole file, and when the read indexes were built at its end,
/// the rows committed alone (what the baseline, which builds no index, compares with).
fn push_first_load(
    results: &mut Vec<Measure>,
    store: &str,
    rows: u64,
    secs: f64,
    indexes: Option<f64>,
) {
    match indexes {
        Some(ix) => {
            results.push(Measure::new(
                &format!("fanzha ingest → {store}: rows committed"),
                rows,
                secs - ix,
            ));
            results.push(Measure::new(
                &format!("fanzha ingest → {store}: with the read indexes built ({ix:.1} s)"),
                rows,
                secs,
            ));
        }
        None => results.push(Measure::new(
            &format!("fanzha ingest → {store}"),
            rows,
            secs,
        )),
    }
}

/// Ingests the file and checks it stored `rows` new records (`unchanged` ones on a rerun);
/// the seconds it took, and of them those spent building read indexes after a first load.
async fn ingest(
    store: &Arc<dyn Store>,
    csv: &Path,
    batch_size: usize,
    rows: u64,
    rerun: bool,
) -> anyhow::Result<(f64, Option<f64>)> {
    let opts = IngestOptions {
        target: Some(Target::Kind(fanzha_core::schema::Kind::Transactions)),
        batch_size,
        progress: Arc::new(Bar::new()),
        ..IngestOptions::default()
    };
    let t = Instant::now();
    let report = fanzha_ingest::ingest_file(store, csv, &opts).await?;
    let secs = t.elapsed().as_secs_f64();
    let got = if rerun {
        report.unchanged
    } else {
        report.inserted
    };
    if got != rows {
        bail!(
            "expected {rows} rows, got {got} ({} rejected)",
            report.rejected
        );
    }
    Ok((secs, report.read_indexes_secs))
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

pub(super) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

pub(super) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} memory")
}

/// splitmix64: a tiny deterministic generator, enough for benchmark data.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A Luhn-valid 19-digit card number for account `n`.
fn card(n: u64) -> String {
    let body = format!("622202{n:012}");
    let check = fanzha_core::luhn_digit_for(&body).unwrap_or('0');
    format!("{body}{check}")
}

/// Writes `rows` transactions of plausible shape: a pool of accounts, heavy-tailed amounts,
/// a mix of channels including cash in and out.
fn generate(path: &Path, rows: u64) -> anyhow::Result<()> {
    let accounts: Vec<String> = (0..200_000).map(card).collect();
    let mut rng = Rng(20_260_301);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "tx_id,ts,from_account,to_account,amount_fen,channel,memo,device_id,ip,cell_id"
    )?;
    // 2026-03-01T00:00:00+08:00
    let mut t: i64 = 1_772_294_400;
    for i in 0..rows {
        t += rng.below(3) as i64;
        let ts = chrono::DateTime::from_timestamp(t + 8 * 3600, 0)
            .unwrap_or_default()
            .naive_utc();
        let roll = rng.below(100);
        let channel = match roll {
            0..=49 => "transfer",
            50..=74 => "online_pay",
            75..=89 => "pos",
            90..=94 => "merchant",
            95..=97 => "atm_withdrawal",
            _ => "cash_deposit",
        };
        let from = if channel == "cash_deposit" {
            ""
        } else {
            &accounts[rng.below(accounts.len() as u64) as usize]
        };
        let to = if channel == "atm_withdrawal" {
            ""
        } else {
            &accounts[rng.below(accounts.len() as u64) as usize]
        };
        // Heavy tail: most payments are small, a few are large.
        let amount = 100
            + rng.below(10_000)
                * (1 + rng.below(4).pow(4))
                * (1 + u64::from(rng.below(50) == 0) * 99);
        let memo = if rng.below(10) == 0 { "红包" } else { "" };
        writeln!(
            w,
            "T{i:010},{}+08:00,{from},{to},{amount},{channel},{memo},D{:06},10.{}.{}.{},C{:04}",
            ts.format("%Y-%m-%dT%H:%M:%S"),
            rng.below(500_000),
            rng.below(256),
            rng.below(256),
            rng.below(256),
            rng.below(2000)
        )?;
    }
    w.flush()?;
    Ok(())
}
