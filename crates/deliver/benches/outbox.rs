//! The outbox target of issue 5: 10,000 warnings to a slow webhook that fails 20% of the
//! time; every warning is delivered and the receiver applies each exactly once.
//!
//! `cargo bench -p fanzha-deliver --bench outbox [-- --pg] [--warnings N] [--concurrency N]`
//!
//! Queues the warnings through `warning_upsert` (distinct accounts over four banks) in a
//! fresh store (SQLite in a temp directory, or a fresh PostgreSQL schema with `--pg`), starts
//! the test receiver in-process on loopback (20–50 ms per request; 10% answer 500 before
//! applying, 10% apply and answer 503, an acknowledgement lost), and runs one deliverer until
//! nothing is pending. Then it checks, and exits non-zero unless: every queued key applied
//! exactly once, no warning version applied under two keys, every row delivered, none dead,
//! no bad signature, and the store's attempt counts equal the requests the receiver saw.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fanzha_deliver::{Config, Deliverer};
use fanzha_store::{
    Measure, NewWarning, OutboxState, ReasonSource, RiskEntity, Score, WarnedEntity, WarningLevel,
    WarningReason,
};
use support::receiver::{Behaviour, Receiver};

const BANKS: [&str; 4] = ["B0001", "B0002", "B0003", "B0004"];

struct Args {
    pg: bool,
    warnings: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut a = Args {
        pg: false,
        warnings: 10_000,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |what: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match arg.as_str() {
            "--pg" => a.pg = true,
            "--warnings" => a.warnings = number("--warnings"),
            "--concurrency" => a.concurrency = number("--concurrency"),
            // cargo bench passes --bench; anything else is a mistake worth hearing about.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn warning(i: usize) -> NewWarning {
    NewWarning {
        entity: WarnedEntity::new(RiskEntity::Account, format!("62220300{i:011}")),
        institution_code: BANKS[i % BANKS.len()].to_owned(),
        score: Score::new(70 + (i % 30) as u8).expect("below 100"),
        level: WarningLevel::Orange,
        pattern: "mule".into(),
        reasons: vec![WarningReason {
            code: "pass_through".into(),
            source: ReasonSource::Rule,
            text_zh: "资金快进快出".into(),
            text_en: "money passes straight through".into(),
            contribution: 0.7,
        }],
        measure: Measure::DelaySettlement,
        model_version: None,
        rules_version: Some("bench".into()),
        at: 1_772_000_000_000_000 + i as i64,
        first_warned_at: None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let a = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = if a.pg {
        fanzha_store::testing::fresh_pg_target("bench_deliver")
    } else {
        dir.path().join("fanzha.db").display().to_string()
    };
    let store = fanzha_store::open(&target).await.expect("open the store");

    let started = Instant::now();
    let mut keys = Vec::with_capacity(a.warnings);
    // A few writers at once: PostgreSQL overlaps them, SQLite takes them in turn.
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        let n = a.warnings;
        writers.spawn(async move {
            let mut keys = Vec::new();
            for i in (w..n).step_by(8) {
                let out = store.warning_upsert(&warning(i)).await.expect("upsert");
                keys.push(out.idempotency_key.expect("a new version is queued"));
            }
            keys
        });
    }
    while let Some(k) = writers.join_next().await {
        keys.extend(k.expect("writer"));
    }
    let enqueue_secs = started.elapsed().as_secs_f64();

    let secrets: Vec<(String, String)> = BANKS
        .iter()
        .map(|b| (b.to_string(), format!("bench-secret-{b}-0123456789")))
        .collect();
    let pairs: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(b, s)| (b.as_str(), s.as_str()))
        .collect();
    let rx = Receiver::start(
        &pairs,
        Behaviour {
            delay: (Duration::from_millis(20), Duration::from_millis(50)),
            fail_rate: 0.2,
            seed: 42,
            ..Behaviour::default()
        },
    )
    .await;
    let mut text = format!(
        "[delivery]\nconcurrency = {}\nbatch = {}\nlease_secs = 30\npoll_ms = 20\n\
         timeout_ms = 5000\nbackoff_base_ms = 50\nbackoff_cap_ms = 2000\nmax_attempts = 20\n",
        a.concurrency, a.concurrency
    );
    for (b, s) in &pairs {
        text.push_str(&format!(
            "[institutions.{b}]\nwebhook = \"{}\"\nsecret = \"{s}\"\n",
            rx.url(b)
        ));
    }
    let config = Config::parse(&text, Path::new("bench.toml")).expect("bench config");
    let deliverer = Deliverer::new(Arc::clone(&store), config).expect("deliverer");

    let watch = Arc::clone(&store);
    let all_done = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            match watch.outbox_list(Some(OutboxState::Pending), 1).await {
                Ok(rows) if rows.is_empty() => return,
                _ => {}
            }
        }
    };
    let started = Instant::now();
    let report = deliverer.run_until(all_done).await.expect("delivery run");
    let secs = started.elapsed().as_secs_f64();

    let seen = rx.seen();
    let rows = store
        .outbox_list(None, u32::MAX)
        .await
        .expect("outbox rows");
    let delivered = rows
        .iter()
        .filter(|r| r.state == OutboxState::Delivered)
        .count();
    let dead = rows.iter().filter(|r| r.state == OutboxState::Dead).count();
    let store_attempts: i64 = rows.iter().map(|r| r.attempts).sum();
    let max_attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0);
    let applied: BTreeSet<&String> = seen.applied.keys().collect();
    let queued: BTreeSet<&String> = keys.iter().collect();
    let checks = [
        ("every queued key applied", applied == queued),
        (
            "each key applied once",
            seen.applied.values().all(|&n| n == 1),
        ),
        (
            "no version under two keys",
            seen.versions.len() == keys.len() && seen.versions.values().all(|&n| n == 1),
        ),
        ("every row delivered", delivered == keys.len() && dead == 0),
        ("no bad signature", seen.bad_signatures == 0),
        (
            "store attempts = requests",
            u64::try_from(store_attempts).ok() == Some(seen.requests),
        ),
    ];

    println!("store: {}", if a.pg { "postgresql" } else { "sqlite" });
    println!(
        "enqueued {} warnings in {enqueue_secs:.2} s ({:.0}/s)",
        keys.len(),
        keys.len() as f64 / enqueue_secs
    );
    println!(
        "delivered {delivered} in {secs:.2} s: {:.0} deliveries/s, concurrency {}",
        delivered as f64 / secs,
        a.concurrency
    );
    // The baseline: the receiver's own delays spread perfectly over the slots, with no
    // store, no backoff and no HTTP cost. No deliverer at this concurrency can be faster.
    let floor = seen.slept.as_secs_f64() / a.concurrency as f64;
    println!(
        "receiver-bound floor {floor:.2} s ({:.0} deliveries/s): the run took {:.1}x the floor",
        delivered as f64 / floor,
        secs / floor
    );
    println!(
        "requests {} (store attempts {store_attempts}, most for one row {max_attempts}); \
         injected failures {}, repeats answered 200 {}, dead {dead}, unsent {}",
        seen.requests, seen.injected, seen.repeats, report.unsent
    );
    let mut ok = true;
    for (what, passed) in checks {
        println!("  {} {what}", if passed { "ok  " } else { "FAIL" });
        ok &= passed;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
