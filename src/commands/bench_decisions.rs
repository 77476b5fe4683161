//! `fanzha bench decisions`: the decision API under load (issue 5, "Speed: Decision API").
//! Simulates a small district (or takes one), loads it and runs the batch risk run (so the
//! store holds warnings), starts the server in this process on loopback, waits for its live
//! risk state to be ready, then drives payment and call decisions from N closed-loop
//! workers, each on its own keep-alive HTTP/1.1 connection with an institution's API key,
//! after a baseline phase on `/healthz` at the same concurrency. Latencies are client-side,
//! per request; the load generator shares the machine's cores with the server.
//!
//! The client is a minimal HTTP/1.1 writer and reader over a `TcpStream` (requests
//! prebuilt, responses read to their `Content-Length`): a general client's per-request
//! work would be measured as much as the server's.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use fanzha_core::vocab::Role;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
pub struct DecisionArgs {
    /// small, district or city.
    #[arg(long, default_value = "small")]
    scale: fanzha_sim::Scale,
    #[arg(long, default_value_t = 20_260_301)]
    seed: u64,
    /// Concurrent closed-loop workers, one keep-alive connection each (16 keep two cores
    /// busy; more only queue).
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Seconds of decisions (the baseline phase runs a third as long).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Share of payment decisions; the rest are calls.
    #[arg(long, default_value_t = 0.7)]
    payment_share: f64,
    /// A district simulated before (`fanzha sim --out DIR`) to use instead of simulating one.
    #[arg(long, value_name = "DIR")]
    data: Option<std::path::PathBuf>,
    /// The store already holds that district (and its risk run): skip loading it.
    #[arg(long, requires = "data")]
    loaded: bool,
}

/// Latencies in microseconds and failures of one phase.
#[derive(Default)]
struct Series {
    micros: Vec<u32>,
    failures: u64,
    /// Answers by decision word, for decisions.
    answers: [u64; 4],
}

impl Series {
    fn absorb(&mut self, other: Series) {
        self.micros.extend(other.micros);
        self.failures += other.failures;
        for (a, b) in self.answers.iter_mut().zip(other.answers) {
            *a += b;
        }
    }
}

#[derive(serde::Serialize)]
struct Summary {
    endpoint: &'static str,
    requests: usize,
    failures: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

fn summary(endpoint: &'static str, s: &mut Series, seconds: f64) -> Summary {
    s.micros.sort_unstable();
    let q = |p: f64| -> f64 {
        if s.micros.is_empty() {
            return f64::NAN;
        }
        let i = ((s.micros.len() as f64 - 1.0) * p).round() as usize;
        f64::from(s.micros[i]) / 1000.0
    };
    Summary {
        endpoint,
        requests: s.micros.len(),
        failures: s.failures,
        per_sec: s.micros.len() as f64 / seconds.max(1e-9),
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: q(1.0),
    }
}

pub async fn run(ctx: &Context, args: DecisionArgs) -> anyhow::Result<Outcome> {
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    let store = ctx.store().await?;
    let (data, _scratch) =
        super::bench_serve::district(args.data.as_deref(), args.seed, args.scale, None).await?;
    if !args.loaded {
        let started = Instant::now();
        super::bench_serve::load(&store, &data).await?;
        let rules = fanzha_risk::RuleSet::builtin().context("the built-in rule set")?;
        let risk = fanzha_risk::run::run(
            &store,
            &rules,
            None,
            fanzha_risk::FeatureConfig::default(),
            fanzha_risk::run::PAGE_ROWS,
        )
        .await?;
        eprintln!(
            "loaded and risk-run in {:.1} s ({} warnings)",
            started.elapsed().as_secs_f64(),
            risk.warned
        );
    }
    let bank = column(&data.join("institutions.csv"), "code", 1)?
        .into_iter()
        .next()
        .context("the district has no institutions")?;
    let accounts = column(&data.join("accounts.csv"), "account_id", 2_000)?;
    let numbers = column(&data.join("sims.csv"), "msisdn", 2_000)?;
    if accounts.len() < 2 || numbers.len() < 2 {
        bail!("the district has too few accounts or SIMs");
    }
    // Warned accounts and SIMs join the mix now and then, so hold and block answers (and
    // their reasons) are measured too.
    let warned = store
        .warning_list(
            &fanzha_store::Scope::All,
            &fanzha_store::WarningFilter::default(),
            500,
            0,
        )
        .await?;
    let flagged_accounts: Vec<String> = warned
        .iter()
        .filter(|w| w.entity.kind == fanzha_store::RiskEntity::Account)
        .map(|w| w.entity.id.clone())
        .collect();
    let flagged_numbers: Vec<String> = warned
        .iter()
        .filter(|w| w.entity.kind != fanzha_store::RiskEntity::Account)
        .map(|w| w.entity.id.clone())
        .collect();
    let (_, key) =
        fanzha_server::auth::add_api_key(&*store, &bank, Role::BankOperator, "bench decisions")
            .await?;

    let app = fanzha_server::Application::build(fanzha_server::Settings {
        listen: "127.0.0.1:0".parse()?,
        db: ctx.db.clone(),
    })
    .await?;
    let addr = app.local_addr();
    let live = app.live().context("the server has no live state")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    let started = Instant::now();
    while !live.is_ready() {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the live risk state was not ready after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (live_accounts, live_numbers) = live.entity_counts();
    let warm_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "live state ready in {warm_secs:.1} s: {} events, {live_accounts} accounts, {live_numbers} numbers",
        live.events()
    );

    let requests = decision_requests(
        &key,
        [&accounts, &flagged_accounts],
        [&numbers, &flagged_numbers],
        args.payment_share,
    );
    let healthz = vec![(
        false,
        b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n".to_vec(),
    )];
    // A short unmeasured run first: connections, caches and the allocator warm up.
    drive(addr, args.workers, 2, &requests).await?;
    let baseline_secs = (args.seconds / 3).max(1);
    let mut base = drive(addr, args.workers, baseline_secs, &healthz).await?;
    let mut dec = drive(addr, args.workers, args.seconds, &requests).await?;
    let _ = stop_tx.send(());
    server.await??;

    let rows = [
        summary("healthz (baseline)", &mut base, baseline_secs as f64),
        summary("decisions (payment + call)", &mut dec, args.seconds as f64),
    ];
    let answers = serde_json::json!({
        "allow": dec.answers[0], "warn": dec.answers[1], "hold": dec.answers[2], "block": dec.answers[3],
    });
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({ "machine": super::bench::machine(), "scale": args.scale.as_str(),
                "store": super::shown_target(&ctx.db), "workers": args.workers,
                "warm_seconds": warm_secs, "live_events": live.events(),
                "endpoints": rows, "answers": answers })
        );
    } else {
        println!("machine: {}", super::bench::machine());
        println!(
            "fanzha bench decisions --scale {} on {}: {} workers (closed loop, keep-alive), \
             {:.0}% payments; live state of {} events ready in {warm_secs:.1} s",
            args.scale,
            super::shown_target(&ctx.db),
            args.workers,
            args.payment_share * 100.0,
            live.events()
        );
        println!(
            "| endpoint | requests | failures | req/s | p50 ms | p99 ms | p99.9 ms | max ms |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for r in &rows {
            println!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} |",
                r.endpoint,
                r.requests,
                r.failures,
                r.per_sec,
                r.p50_ms,
                r.p99_ms,
                r.p999_ms,
                r.max_ms
            );
        }
        println!(
            "decisions: {} allow, {} warn, {} hold, {} block; ratio to the baseline: {:.2}× the requests/s",
            dec.answers[0],
            dec.answers[1],
            dec.answers[2],
            dec.answers[3],
            rows[1].per_sec / rows[0].per_sec.max(1e-9)
        );
    }
    Ok(Outcome::Clean)
}

/// Up to `n` values of the named column of a CSV file.
fn column(path: &Path, name: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let at = reader
        .headers()?
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{} has no column {name}", path.display()))?;
    let mut out = Vec::new();
    for record in reader.records().take(n) {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        if let Some(v) = record.get(at).filter(|v| !v.is_empty()) {
            out.push(v.to_owned());
        }
    }
    Ok(out)
}

/// Prebuilt decision requests, (is a decision, bytes): payments between district accounts
/// with amounts from small to large and round, at all hours; calls from district SIMs and
/// now and then an international or virtual number; one in sixteen to or from a warned
/// account or SIM (`[all, warned]`).
fn decision_requests(
    key: &str,
    [all_accounts, flagged_accounts]: [&[String]; 2],
    [all_numbers, flagged_numbers]: [&[String]; 2],
    payment_share: f64,
) -> Vec<(bool, Vec<u8>)> {
    let n = 1_024;
    let payments = ((n as f64) * payment_share.clamp(0.0, 1.0)).round() as usize;
    let mut out = Vec::with_capacity(n);
    // A fixed multiplicative walk: varied, and the same on every run.
    let pick = |i: usize, salt: usize, len: usize| (i.wrapping_mul(2_654_435_761) ^ salt) % len;
    for i in 0..n {
        let flagged = i % 16 == 5;
        let accounts = if flagged && !flagged_accounts.is_empty() {
            flagged_accounts
        } else {
            all_accounts
        };
        let numbers = if flagged && !flagged_numbers.is_empty() {
            flagged_numbers
        } else {
            all_numbers
        };
        let (path, body) = if i < payments {
            let payer = &all_accounts[pick(i, 17, all_accounts.len())];
            let payee = &accounts[pick(i, 91, accounts.len())];
            let amount: i64 = match i % 5 {
                0 => 12_345,
                1 => 500_000,
                2 => 2_000_000,
                3 => 4_950_000,
                _ => 88_800,
            };
            let hour = i % 24;
            (
                "/api/v1/decisions/payment",
                format!(
                    "{{\"payer_account\":\"{payer}\",\"payee_account\":\"{payee}\",\"amount_fen\":{amount},\
                     \"channel\":\"transfer\",\"ts\":\"2026-03-05T{hour:02}:15:00+08:00\"}}"
                ),
            )
        } else {
            let caller = match i % 10 {
                0 => "+63 917 555 0101".to_owned(),
                1 => "17012345678".to_owned(),
                _ => numbers[pick(i, 33, numbers.len())].clone(),
            };
            let callee = &all_numbers[pick(i, 57, all_numbers.len())];
            (
                "/api/v1/decisions/call",
                format!("{{\"caller\":\"{caller}\",\"callee\":\"{callee}\"}}"),
            )
        };
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        out.push((true, req.into_bytes()));
    }
    out
}

/// Runs `workers` closed-loop connections for `seconds`, each cycling through `requests`
/// from its own offset.
async fn drive(
    addr: SocketAddr,
    workers: usize,
    seconds: u64,
    requests: &[(bool, Vec<u8>)],
) -> anyhow::Result<Series> {
    let requests = std::sync::Arc::new(requests.to_vec());
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let requests = std::sync::Arc::clone(&requests);
        let mut conn = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting worker {w}"))?;
        conn.set_nodelay(true)?;
        tasks.spawn(async move {
            let mut s = Series::default();
            let mut buf = Vec::with_capacity(8 * 1024);
            let mut k = w * 7;
            while Instant::now() < until {
                let (decision, req) = &requests[k % requests.len()];
                k += 1;
                let t = Instant::now();
                match exchange(&mut conn, req, &mut buf).await {
                    Some(body_at) => {
                        s.micros
                            .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                        if *decision {
                            if let Some(i) = answer_of(&buf[body_at..]) {
                                s.answers[i] += 1;
                            }
                        }
                    }
                    None => {
                        s.failures += 1;
                        // The connection may be unusable: open a new one.
                        match TcpStream::connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            s
        });
    }
    let mut all = Series::default();
    while let Some(done) = tasks.join_next().await {
        if let Ok(s) = done {
            all.absorb(s);
        }
    }
    Ok(all)
}

/// Which decision word a response body carries (its first letter says which).
fn answer_of(body: &[u8]) -> Option<usize> {
    const KEY: &[u8] = b"\"decision\":\"";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    match body.get(at)? {
        b'a' => Some(0),
        b'w' => Some(1),
        b'h' => Some(2),
        b'b' => Some(3),
        _ => None,
    }
}

/// Sends one request and reads its response into `buf`; the body's offset when the answer
/// was a 200.
async fn exchange(conn: &mut TcpStream, req: &[u8], buf: &mut Vec<u8>) -> Option<usize> {
    conn.write_all(req).await.ok()?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = &buf[..end];
        let len = content_length(head)?;
        if buf.len() >= end + 4 + len {
            return head.starts_with(b"HTTP/1.1 200").then_some(end + 4);
        }
    }
}

fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}
