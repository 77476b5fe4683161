//! `fanzha bench trace`: the tracing engine's three figures (issue 6), each against a
//! baseline measured in the same run.
//!
//! - build: the time-ordered ledger from N generated transactions (default 50 million),
//!   against generating the same rows alone; bytes per transaction of the built graph.
//! - trace: every report of a simulated district traced by each rule, repeated to at least
//!   `--reports` traces; latency percentiles, against the target of 10 ms at p99 (FIFO).
//! - reach against PostgreSQL (`--pg`): the district loaded into a scratch schema, poison
//!   reach at depth ≤ 8 for `--pg-reports` reports by the recursive query an analyst would
//!   write, against the in-memory reach; the reached sets must be identical.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use fanzha_ingest::IngestOptions;
use fanzha_store::{ReportPayments, Scope, Store};
use fanzha_trace::graph::{Graph, GraphBuilder, NewTx, TxIx};
use fanzha_trace::load::{self, PAGE};
use fanzha_trace::{reach_within, trace, Rule};

use super::bench::{machine, peak_rss_kb, Rng};
use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
pub struct TraceArgs {
    /// Generated transactions for the build figure (0 skips it).
    #[arg(long, default_value_t = 50_000_000)]
    transactions: u64,
    /// Accounts they move between (default: one per 20 transactions).
    #[arg(long)]
    accounts: Option<u64>,
    /// A simulated district already written (`fanzha sim`); default: simulate one.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Scale of the district to simulate.
    #[arg(long, default_value = "district")]
    scale: fanzha_sim::Scale,
    /// Days of the district to simulate (15 days of a district are about 5 million
    /// transactions, the size the PostgreSQL comparison asks for).
    #[arg(long)]
    days: Option<u32>,
    #[arg(long, default_value_t = 20260301)]
    seed: u64,
    /// Traces per rule at least (reports are repeated when the district has fewer).
    #[arg(long, default_value_t = 1_000)]
    reports: usize,
    /// Also compare reach with PostgreSQL at this URL (a scratch schema, dropped after).
    #[arg(long)]
    pg: Option<String>,
    /// Reports for the PostgreSQL comparison.
    #[arg(long, default_value_t = 50)]
    pg_reports: usize,
    /// Depth of the compared reach.
    #[arg(long, default_value_t = 8)]
    depth: u32,
}

#[derive(serde::Serialize, Default)]
struct Figures {
    machine: String,
    build: Option<Build>,
    district: Option<District>,
    rules: Vec<Latency>,
    /// A report's whole stop plan as the server answers it with the ledger loaded: the
    /// report read from the store, traced by FIFO, ranked, each account's earlier stops read.
    stop_plan: Option<Latency>,
    postgres: Option<PgReach>,
    peak_rss_mb: Option<f64>,
}

#[derive(serde::Serialize)]
struct Build {
    transactions: u64,
    accounts: u64,
    generate_seconds: f64,
    generate_and_build_seconds: f64,
    build_tx_per_sec: f64,
    bytes_per_tx: f64,
}

#[derive(serde::Serialize)]
struct District {
    transactions: usize,
    accounts: usize,
    reports: usize,
    load_seconds: f64,
    load_tx_per_sec: f64,
    bytes_per_tx: f64,
}

#[derive(serde::Serialize)]
struct Latency {
    rule: &'static str,
    traces: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_accounts_held: f64,
}

#[derive(serde::Serialize)]
struct PgReach {
    reports: usize,
    depth: u32,
    identical: usize,
    query_total_seconds: f64,
    query_p50_ms: f64,
    fanzha_total_seconds: f64,
    fanzha_p50_ms: f64,
    ratio: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

pub async fn run(ctx: &Context, args: TraceArgs) -> anyhow::Result<Outcome> {
    let mut fig = Figures {
        machine: machine(),
        ..Figures::default()
    };
    if args.transactions > 0 {
        let (n, accounts) = (
            args.transactions,
            args.accounts.unwrap_or(args.transactions / 20),
        );
        fig.build = Some(tokio::task::spawn_blocking(move || build(n, accounts.max(2))).await??);
        eprintln!("build measured");
    }
    let (dir, _tmp) =
        super::bench_serve::district(args.data.as_deref(), args.seed, args.scale, args.days)
            .await?;
    let sqlite_dir = tempfile::tempdir()?;
    let store = fanzha_store::open(
        sqlite_dir
            .path()
            .join("trace.db")
            .to_str()
            .context("temp path")?,
    )
    .await?;
    load_kinds(&store, &dir).await?;
    let started = Instant::now();
    let g = load::graph(&*store, PAGE, &mut |_| {}).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    let reports = store.report_payments(&Scope::All, None).await?;
    let traced: Vec<(&ReportPayments, Vec<TxIx>)> = reports
        .iter()
        .filter_map(|r| Some((r, load::payments(&g, r).ok()?)))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if traced.is_empty() {
        bail!("the district has no traceable reports");
    }
    fig.district = Some(District {
        transactions: g.len(),
        accounts: g.accounts(),
        reports: traced.len(),
        load_seconds,
        load_tx_per_sec: g.len() as f64 / load_seconds.max(1e-9),
        bytes_per_tx: g.heap_bytes() as f64 / g.len().max(1) as f64,
    });
    eprintln!("district loaded: {} transactions", g.len());
    let as_of = g.latest().unwrap_or(0);
    for rule in Rule::ALL {
        fig.rules
            .push(latencies(&g, &traced, rule, as_of, args.reports));
    }
    fig.stop_plan = Some(stop_plans(&*store, &g, &traced, as_of).await?);
    if let Some(url) = &args.pg {
        fig.postgres = Some(pg_reach(url, &dir, &g, &traced, as_of, &args).await?);
    }
    fig.peak_rss_mb = peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    if ctx.json {
        super::print_json(&fig)?;
    } else {
        print!("{}", table(&fig));
    }
    Ok(Outcome::Clean)
}

async fn load_kinds(store: &Arc<dyn Store>, dir: &std::path::Path) -> anyhow::Result<()> {
    for kind in load::KINDS {
        let path = dir.join(format!("{kind}.csv"));
        fanzha_ingest::ingest_file(store, &path, &IngestOptions::default())
            .await
            .with_context(|| format!("loading {}", path.display()))?;
    }
    Ok(())
}

/// Generates `n` transactions in ledger order into the builder, against generating them
/// alone: ids shaped like the simulator's (17 bytes), 16-digit account numbers.
fn build(n: u64, accounts: u64) -> anyhow::Result<Build> {
    let gen = |rng: &mut Rng, i: u64, id: &mut String, from: &mut String, to: &mut String| {
        id.clear();
        from.clear();
        to.clear();
        let _ = write!(id, "T{i:016}");
        let _ = write!(from, "{:016}", rng.below(accounts));
        let _ = write!(to, "{:016}", rng.below(accounts));
        (i as i64 * 1_000, 100 + rng.below(1_000_000) as i64)
    };
    let (mut id, mut from, mut to) = (String::new(), String::new(), String::new());
    let started = Instant::now();
    let mut rng = Rng(7);
    let mut check = 0u64;
    for i in 0..n {
        let (ts, amount) = gen(&mut rng, i, &mut id, &mut from, &mut to);
        check = check.wrapping_add(
            (ts + amount) as u64 + id.len() as u64 + from.len() as u64 + to.len() as u64,
        );
    }
    std::hint::black_box(check);
    let generate_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut rng = Rng(7);
    let mut b = GraphBuilder::with_capacity(n as usize);
    for a in 0..accounts {
        b.account(&format!("{a:016}"))?;
    }
    for i in 0..n {
        let (ts, amount) = gen(&mut rng, i, &mut id, &mut from, &mut to);
        let channel = if amount % 50 == 0 {
            "atm_withdrawal"
        } else {
            "transfer"
        };
        b.tx(NewTx {
            tx_id: &id,
            ts,
            from: Some(&from),
            to: (channel == "transfer").then_some(to.as_str()),
            amount_fen: amount,
            channel,
        })?;
    }
    let g = b.finish()?;
    let total = started.elapsed().as_secs_f64();
    Ok(Build {
        transactions: n,
        accounts,
        generate_seconds,
        generate_and_build_seconds: total,
        build_tx_per_sec: n as f64 / (total - generate_seconds).max(1e-9),
        bytes_per_tx: g.heap_bytes() as f64 / n.max(1) as f64,
    })
}

fn latencies(
    g: &Graph,
    traced: &[(&ReportPayments, Vec<TxIx>)],
    rule: Rule,
    as_of: i64,
    at_least: usize,
) -> Latency {
    let mut ms = Vec::with_capacity(at_least.max(traced.len()));
    let mut held = 0usize;
    while ms.len() < at_least.max(traced.len()) {
        for (_, pays) in traced {
            let started = Instant::now();
            let t = trace(g, pays, rule, as_of);
            ms.push(started.elapsed().as_secs_f64() * 1e3);
            held += t.holdings.len();
        }
    }
    let n = ms.len();
    ms.sort_by(f64::total_cmp);
    Latency {
        rule: rule.as_str(),
        traces: n,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        mean_accounts_held: held as f64 / n.max(1) as f64,
    }
}

/// Plans measured per report, up to this many reports.
const PLANS: usize = 500;

async fn stop_plans(
    store: &dyn Store,
    g: &Graph,
    traced: &[(&ReportPayments, Vec<TxIx>)],
    as_of: i64,
) -> anyhow::Result<Latency> {
    let desk = fanzha_trace::desk::Desk::new(store);
    let by = fanzha_trace::desk::By {
        actor: "bench",
        at: as_of,
    };
    let mut ms = Vec::new();
    let mut held = 0usize;
    for (r, _) in traced.iter().take(PLANS) {
        let started = Instant::now();
        let report = desk.report(&r.report_id).await?;
        let pays = load::payments(g, &report)?;
        let t = trace(g, &pays, Rule::Fifo, as_of);
        let plan = desk.stop_plan(by, g, &report, &t, None, false).await?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        held += plan.orders.len();
    }
    let n = ms.len();
    ms.sort_by(f64::total_cmp);
    Ok(Latency {
        rule: "fifo stop plan",
        traces: n,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        mean_accounts_held: held as f64 / n.max(1) as f64,
    })
}

async fn pg_reach(
    url: &str,
    dir: &std::path::Path,
    g: &Graph,
    traced: &[(&ReportPayments, Vec<TxIx>)],
    as_of: i64,
    args: &TraceArgs,
) -> anyhow::Result<PgReach> {
    let schema = format!("fz_trace_{}", std::process::id());
    let store: Arc<dyn Store> =
        Arc::new(fanzha_store::postgres::PgStore::connect_in_schema(url, &schema).await?);
    store.migrate().await?;
    let result = async {
        load_kinds(&store, dir).await?;
        eprintln!("district loaded into PostgreSQL");
        let (mut q_ms, mut f_ms) = (Vec::new(), Vec::new());
        let mut identical = 0;
        for (r, pays) in traced.iter().take(args.pg_reports) {
            let started = Instant::now();
            let mut want = store
                .reach_by_query(&r.report_id, as_of, args.depth)
                .await?;
            q_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let started = Instant::now();
            let got = reach_within(g, pays, as_of, args.depth);
            f_ms.push(started.elapsed().as_secs_f64() * 1e3);
            let mut got: Vec<&str> = got.into_iter().map(|a| g.name(a)).collect();
            got.sort_unstable();
            want.sort_unstable();
            if got == want {
                identical += 1;
            } else {
                eprintln!(
                    "reach of {} differs: query {} accounts, fanzha {}",
                    r.report_id,
                    want.len(),
                    got.len()
                );
            }
        }
        let (qt, ft): (f64, f64) = (
            q_ms.iter().sum::<f64>() / 1e3,
            f_ms.iter().sum::<f64>() / 1e3,
        );
        q_ms.sort_by(f64::total_cmp);
        f_ms.sort_by(f64::total_cmp);
        anyhow::Ok(PgReach {
            reports: q_ms.len(),
            depth: args.depth,
            identical,
            query_total_seconds: qt,
            query_p50_ms: percentile(&q_ms, 0.5),
            fanzha_total_seconds: ft,
            fanzha_p50_ms: percentile(&f_ms, 0.5),
            ratio: qt / ft.max(1e-9),
        })
    }
    .await;
    if let Err(e) = fanzha_store::baseline::pg_drop_schema(url, &schema) {
        eprintln!("could not drop the scratch schema {schema}: {e}");
    }
    result
}

fn table(f: &Figures) -> String {
    let mut s = format!("machine: {}\n", f.machine);
    if let Some(b) = &f.build {
        let _ = writeln!(
            s,
            "build: {} transactions, {} accounts: generate alone {:.1} s, generate + build {:.1} s → {:.2} M transactions/s built; {:.1} bytes per transaction",
            b.transactions, b.accounts, b.generate_seconds, b.generate_and_build_seconds,
            b.build_tx_per_sec / 1e6, b.bytes_per_tx
        );
    }
    if let Some(d) = &f.district {
        let _ = writeln!(
            s,
            "district: {} transactions, {} accounts, {} reports; loaded from SQLite in {:.1} s ({:.0} transactions/s); {:.1} bytes per transaction",
            d.transactions, d.accounts, d.reports, d.load_seconds, d.load_tx_per_sec, d.bytes_per_tx
        );
    }
    s.push_str("| rule | traces | p50 ms | p99 ms | max ms | accounts held (mean) |\n|---|---:|---:|---:|---:|---:|\n");
    for l in f.rules.iter().chain(&f.stop_plan) {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.1} |",
            l.rule, l.traces, l.p50_ms, l.p99_ms, l.max_ms, l.mean_accounts_held
        );
    }
    if let Some(p) = &f.postgres {
        let _ = writeln!(
            s,
            "reach at depth ≤ {}: {} reports, {} identical; PostgreSQL recursive query {:.2} s in all (p50 {:.1} ms), fanzha {:.4} s (p50 {:.3} ms): {:.0}× faster",
            p.depth, p.reports, p.identical, p.query_total_seconds, p.query_p50_ms,
            p.fanzha_total_seconds, p.fanzha_p50_ms, p.ratio
        );
    }
    if let Some(m) = f.peak_rss_mb {
        let _ = writeln!(s, "peak memory: {m:.0} MB");
    }
    s
}
