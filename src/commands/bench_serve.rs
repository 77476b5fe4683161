//! `fanzha bench serve`: the console under load. Simulates a district, loads it, starts the
//! server in this process, logs in N analysts, holds M idle keep-alive connections open, and
//! drives the dashboard and profile pages with N closed-loop users (no think time), after a
//! baseline phase on `/healthz` at the same concurrency: the ratio shows what the pages cost
//! over bare HTTP on this machine. Latencies are client-side, per request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use fanzha_core::schema::Kind;
use fanzha_core::vocab::Role;
use fanzha_ingest::IngestOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// small, district or city.
    #[arg(long, default_value = "district")]
    scale: fanzha_sim::Scale,
    /// Days to simulate (default: the scale's).
    #[arg(long)]
    days: Option<u32>,
    #[arg(long, default_value_t = 20_260_301)]
    seed: u64,
    /// Concurrent users, each logged in with its own session.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Idle keep-alive connections held open through the run.
    #[arg(long, default_value_t = 2_000)]
    connections: usize,
    /// Seconds of page load (the baseline phase runs a third as long).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// A district simulated before (`fanzha sim --out DIR`) to use instead of simulating one.
    #[arg(long, value_name = "DIR")]
    data: Option<std::path::PathBuf>,
    /// The store already holds that district: skip loading it (needs `--data`).
    #[arg(long, requires = "data")]
    loaded: bool,
}

/// One measured endpoint: latencies in microseconds and failures.
#[derive(Default)]
struct Series {
    micros: Vec<u32>,
    failures: u64,
}

#[derive(serde::Serialize)]
struct Summary {
    endpoint: String,
    requests: usize,
    failures: u64,
    per_sec: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Series {
    fn summary(mut self, endpoint: &str, seconds: f64) -> Summary {
        self.micros.sort_unstable();
        let q = |p: f64| -> f64 {
            if self.micros.is_empty() {
                return f64::NAN;
            }
            let i = ((self.micros.len() as f64 - 1.0) * p).round() as usize;
            f64::from(self.micros[i]) / 1000.0
        };
        Summary {
            endpoint: endpoint.to_owned(),
            requests: self.micros.len(),
            failures: self.failures,
            per_sec: self.micros.len() as f64 / seconds.max(1e-9),
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: q(1.0),
        }
    }
}

pub async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<Outcome> {
    if args.users == 0 {
        bail!("--users must be at least 1");
    }
    let store = ctx.store().await?;
    // The temporary folder lives as long as the run when the bench simulates its own data.
    let (data, _scratch) = district(args.data.as_deref(), args.seed, args.scale, args.days).await?;
    if !args.loaded {
        let started = Instant::now();
        load(&store, &data).await?;
        eprintln!("loaded in {:.1} s", started.elapsed().as_secs_f64());
    }
    let persons_csv = data.join("persons.csv");
    let persons = std::fs::read(&persons_csv)
        .with_context(|| format!("reading {}", persons_csv.display()))?
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    let person_ids = first_column(&persons_csv, 1_000)?;
    if person_ids.is_empty() {
        bail!("the simulated district has no persons");
    }

    // One hash for every bench user: hashing is the cost of adding users, not of serving.
    let password = fanzha_server::auth::random_password();
    let hash = fanzha_server::auth::hash_password(&password)?;
    let names: Vec<String> = (0..args.users)
        .map(|i| format!("bench_analyst_{i}"))
        .collect();
    for name in &names {
        let user = fanzha_store::NewUser {
            username: name,
            password_hash: &hash,
            role: Role::Analyst,
            institution_code: None,
            jurisdiction_code: None,
        };
        if store.user_add(&user).await?.is_none() {
            store.user_reset(&user).await?;
        }
    }

    let app = fanzha_server::Application::build(fanzha_server::Settings {
        listen: "127.0.0.1:0".parse()?,
        db: ctx.db.clone(),
    })
    .await?;
    let addr = app.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.users)
        .timeout(Duration::from_secs(30))
        .build()?;

    let started = Instant::now();
    let mut sessions = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let cookie = login(&client, &base, name, &password).await?;
        let q = &person_ids[i % person_ids.len()];
        let handle = first_handle(&client, &base, &cookie, q).await?;
        sessions.push((cookie, handle));
    }
    eprintln!(
        "{} users logged in in {:.1} s",
        sessions.len(),
        started.elapsed().as_secs_f64()
    );

    let mut idle = hold_connections(addr, args.connections).await?;
    eprintln!("{} idle connections open", idle.len());

    let baseline_secs = (args.seconds / 3).max(1);
    let baseline = drive(&client, &base, &sessions, baseline_secs, |_, _| {
        vec![("healthz", "/healthz".to_owned())]
    })
    .await;
    let pages = drive(&client, &base, &sessions, args.seconds, |_, handle| {
        vec![
            ("console dashboard", "/console/dashboard".to_owned()),
            ("console profile", format!("/console/entity/{handle}")),
            ("api dashboard", "/api/v1/dashboard?days=30".to_owned()),
            ("api profile", format!("/api/v1/entities/{handle}")),
        ]
    })
    .await;
    let still_open = recheck(&mut idle).await;
    let _ = stop_tx.send(());
    drop(idle);
    server.await??;

    let mut rows: Vec<Summary> = vec![];
    for (name, s) in baseline {
        rows.push(s.summary(name, baseline_secs as f64));
    }
    for (name, s) in pages {
        rows.push(s.summary(name, args.seconds as f64));
    }
    let base_p99 = rows.first().map(|r| r.p99_ms).unwrap_or(f64::NAN);
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({ "machine": super::bench::machine(), "scale": args.scale.as_str(), "persons": persons,
                "store": super::shown_target(&ctx.db), "users": args.users,
                "connections": { "opened": args.connections, "answered_after_load": still_open },
                "endpoints": rows })
        );
    } else {
        println!("machine: {}", super::bench::machine());
        println!(
            "fanzha bench serve --scale {} on {}: {} persons, {} users (closed loop, no think time), \
             {} idle connections",
            args.scale,
            super::shown_target(&ctx.db),
            persons,
            args.users,
            args.connections
        );
        println!("| endpoint | requests | failures | req/s | p50 ms | p90 ms | p99 ms | max ms | p99 / healthz p99 |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &rows {
            println!(
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}× |",
                r.endpoint,
                r.requests,
                r.failures,
                r.per_sec,
                r.p50_ms,
                r.p90_ms,
                r.p99_ms,
                r.max_ms,
                r.p99_ms / base_p99
            );
        }
        println!(
            "idle connections still answering after the load: {still_open} of {}",
            args.connections
        );
    }
    Ok(Outcome::Clean)
}

/// The first `n` values of a CSV's first column, header skipped.
fn first_column(path: &std::path::Path, n: usize) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|s| !s.is_empty())
        .take(n)
        .map(str::to_owned)
        .collect())
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("logging in {username}: {}", res.status());
    }
    let cookie = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("the login set no cookie")?;
    Ok(cookie.to_owned())
}

/// The handle of the first search hit for `q`.
async fn first_handle(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    q: &str,
) -> anyhow::Result<String> {
    let res = client
        .get(format!("{base}/api/v1/search"))
        .query(&[("q", q)])
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("searching: {}", res.status());
    }
    let v: serde_json::Value = res.json().await?;
    find_handle(&v).context("the search found nothing to open")
}

fn find_handle(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Object(m) => m
            .get("handle")
            .and_then(|h| h.as_str().map(str::to_owned))
            .or_else(|| m.values().find_map(find_handle)),
        serde_json::Value::Array(a) => a.iter().find_map(find_handle),
        _ => None,
    }
}

/// `n` keep-alive connections, each having answered one request.
async fn hold_connections(
    addr: SocketAddr,
    n: usize,
) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("opening idle connection {i}"))?;
        if !healthz_on(&mut c).await {
            bail!("idle connection {i} got no answer");
        }
        conns.push(c);
    }
    Ok(conns)
}

/// How many of the held connections still answer.
async fn recheck(conns: &mut [tokio::net::TcpStream]) -> usize {
    let mut ok = 0;
    for c in conns.iter_mut() {
        if healthz_on(c).await {
            ok += 1;
        }
    }
    ok
}

/// One `/healthz` request on an open connection, read to the end of its body.
async fn healthz_on(c: &mut tokio::net::TcpStream) -> bool {
    let req = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n";
    if c.write_all(req).await.is_err() {
        return false;
    }
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let deadline = Duration::from_secs(10);
    loop {
        let n = match tokio::time::timeout(deadline, c.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return head.starts_with("http/1.1 200");
            }
        }
    }
}

/// Runs one closed-loop task per session for `seconds`, each cycling through the paths
/// `paths(i, handle)` gives it; latencies per endpoint name.
async fn drive<F>(
    client: &reqwest::Client,
    base: &str,
    sessions: &[(String, String)],
    seconds: u64,
    paths: F,
) -> BTreeMap<&'static str, Series>
where
    F: Fn(usize, &str) -> Vec<(&'static str, String)>,
{
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (cookie, handle)) in sessions.iter().enumerate() {
        let client = client.clone();
        let cookie = cookie.clone();
        let urls: Vec<(&'static str, String)> = paths(i, handle)
            .into_iter()
            .map(|(n, p)| (n, format!("{base}{p}")))
            .collect();
        tasks.spawn(async move {
            let mut mine: BTreeMap<&'static str, Series> = BTreeMap::new();
            // Users start at different pages, so the mix is even from the first second.
            let mut k = i;
            while Instant::now() < until {
                let (name, url) = &urls[k % urls.len()];
                k += 1;
                let t = Instant::now();
                let ok = match client
                    .get(url)
                    .header(reqwest::header::COOKIE, &cookie)
                    .send()
                    .await
                {
                    Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let s = mine.entry(name).or_default();
                if ok {
                    s.micros
                        .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    s.failures += 1;
                }
            }
            mine
        });
    }
    let mut all: BTreeMap<&'static str, Series> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(mine) = done {
            for (name, s) in mine {
                let e = all.entry(name).or_default();
                e.micros.extend(s.micros);
                e.failures += s.failures;
            }
        }
    }
    all
}

/// The district a bench loads: `data` as given, or one simulated now into a scratch
/// folder, returned with it (the folder lives as long as the guard).
pub(super) async fn district(
    data: Option<&std::path::Path>,
    seed: u64,
    scale: fanzha_sim::Scale,
    days: Option<u32>,
) -> anyhow::Result<(std::path::PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = data {
        return Ok((dir.to_path_buf(), None));
    }
    let tmp = tempfile::tempdir().context("creating a folder for the simulated district")?;
    let mut cfg = fanzha_sim::Config::new(seed, scale, fanzha_sim::Profile::Default);
    if let Some(d) = days {
        cfg.days = d;
    }
    let out = tmp.path().to_path_buf();
    let started = Instant::now();
    let sim = tokio::task::spawn_blocking(move || super::sim::generate(&cfg, &out)).await??;
    eprintln!(
        "simulated {} residents in {:.1} s",
        sim.residents,
        started.elapsed().as_secs_f64()
    );
    Ok((tmp.path().to_path_buf(), Some(tmp)))
}

/// Ingests every data file of `data`, reference data first.
pub(super) async fn load(
    store: &std::sync::Arc<dyn fanzha_store::Store>,
    data: &std::path::Path,
) -> anyhow::Result<()> {
    for kind in Kind::ALL {
        let path = data.join(format!("{}.csv", kind.as_str()));
        fanzha_ingest::ingest_file(store, &path, &IngestOptions::default()).await?;
    }
    Ok(())
}
