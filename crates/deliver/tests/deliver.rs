//! The deliverer against a real receiver over loopback HTTP and a real store, once per
//! backend. The PostgreSQL half fails, not skips, when the server is down.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fanzha_deliver::{Config, Deliverer};
use fanzha_store::testing::fresh_pg_target;
use fanzha_store::{
    Measure, NewWarning, OutboxItem, OutboxState, ReasonSource, RiskEntity, Score, Store,
    WarnedEntity, WarningLevel, WarningReason,
};
use support::receiver::{Behaviour, Receiver};

const SECRET_A: &str = "secret-of-bank-a-0123456789";
const SECRET_B: &str = "secret-of-bank-b-0123456789";

/// A store target and the temp directory that must outlive it.
struct Target {
    target: String,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    fn new(backend: Backend) -> Target {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let target = dir.path().join("fanzha.db").display().to_string();
                Target {
                    target,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => Target {
                target: fresh_pg_target("deliver"),
                _dir: None,
            },
        }
    }

    /// Opens the store; a second open is a restarted process.
    async fn open(&self) -> Arc<dyn Store> {
        fanzha_store::open(&self.target).await.unwrap_or_else(|e| {
            panic!(
                "cannot open {}: {e}",
                fanzha_store::redact_target(&self.target)
            )
        })
    }
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Queues one warning per account `0..n`, institutions taken in turn from `institutions`.
async fn enqueue(store: &Arc<dyn Store>, n: usize, institutions: &[&str]) -> Vec<String> {
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        let w = NewWarning {
            entity: WarnedEntity::new(RiskEntity::Account, format!("62220200000{i:08}")),
            institution_code: institutions[i % institutions.len()].to_owned(),
            score: Score::new(80).unwrap(),
            level: WarningLevel::Red,
            pattern: "mule".into(),
            reasons: vec![WarningReason {
                code: "pass_through".into(),
                source: ReasonSource::Rule,
                text_zh: "资金快进快出".into(),
                text_en: "money passes straight through".into(),
                contribution: 0.8,
            }],
            measure: Measure::DelaySettlement,
            model_version: None,
            rules_version: Some("test".into()),
            at: 1_772_000_000_000_000 + i as i64,
            first_warned_at: None,
        };
        let out = store.warning_upsert(&w).await.unwrap();
        keys.push(out.idempotency_key.unwrap());
    }
    keys
}

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("test.toml")).unwrap()
}

/// Settings that make retries quick; `extra` goes into `[delivery]`.
fn config_for(rx: &Receiver, institutions: &[(&str, &str)], extra: &str) -> Config {
    let mut text = format!(
        "[delivery]\nconcurrency = 8\nbatch = 16\nlease_secs = 30\npoll_ms = 5\n\
         backoff_base_ms = 1\nbackoff_cap_ms = 10\n{extra}\n"
    );
    for (code, secret) in institutions {
        text.push_str(&format!(
            "[institutions.{code}]\nwebhook = \"{}\"\nsecret = \"{secret}\"\ntimeout_ms = 5000\n",
            rx.url(code)
        ));
    }
    config(&text)
}

async fn rows(store: &Arc<dyn Store>, state: Option<OutboxState>) -> Vec<OutboxItem> {
    store.outbox_list(state, 1_000_000).await.unwrap()
}

/// Passes until nothing is pending that a pass could deliver (or `rounds` passes).
async fn drain(d: &Deliverer, store: &Arc<dyn Store>, rounds: usize) {
    for _ in 0..rounds {
        d.run_once().await.unwrap();
        let pending = rows(store, Some(OutboxState::Pending)).await;
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("still pending after {rounds} passes");
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

both_backends!(
    every_warning_reaches_a_flaky_receiver_and_is_applied_once,
    a_wrong_secret_is_refused_and_dies_after_the_rejection_limit,
    a_failing_receiver_makes_deliveries_dead_after_max_attempts,
    a_failure_schedules_its_retry_by_the_backoff,
    an_institution_without_a_webhook_keeps_its_rows_pending,
    a_killed_worker_s_rows_are_delivered_by_the_next_after_the_lease,
    a_stopped_worker_finishes_what_it_has_in_flight,
);

/// Every key applied once, and no warning version applied under two keys.
fn assert_applied_once(rx: &Receiver, keys: &[String]) {
    let seen = rx.seen();
    let applied: BTreeSet<&String> = seen.applied.keys().collect();
    let expected: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(
        applied, expected,
        "the receiver applied exactly the queued keys"
    );
    assert!(seen.applied.values().all(|&n| n == 1));
    assert_eq!(seen.versions.len(), keys.len());
    assert!(
        seen.versions.values().all(|&n| n == 1),
        "a warning version was applied twice"
    );
    assert_eq!(seen.bad_signatures, 0);
}

async fn every_warning_reaches_a_flaky_receiver_and_is_applied_once(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    let keys = enqueue(&store, 120, &["BANKA", "BANKB"]).await;
    let rx = Receiver::start(
        &[("BANKA", SECRET_A), ("BANKB", SECRET_B)],
        Behaviour {
            delay: (Duration::ZERO, Duration::from_millis(3)),
            fail_rate: 0.3,
            seed: 7,
            ..Behaviour::default()
        },
    )
    .await;
    let d = Deliverer::new(
        store.clone(),
        config_for(
            &rx,
            &[("BANKA", SECRET_A), ("BANKB", SECRET_B)],
            "max_attempts = 40",
        ),
    )
    .unwrap();
    drain(&d, &store, 500).await;

    assert_applied_once(&rx, &keys);
    let delivered = rows(&store, Some(OutboxState::Delivered)).await;
    assert_eq!(delivered.len(), keys.len());
    // Each went to its own institution's route.
    let seen = rx.seen();
    for row in &delivered {
        assert_eq!(seen.routes[&row.idempotency_key], row.institution_code);
    }
    // Every request is one recorded attempt: attempts in the store add up to the requests.
    let attempts: i64 = delivered.iter().map(|r| r.attempts).sum();
    assert_eq!(attempts as u64, seen.requests);
    assert!(seen.injected > 0, "the receiver failed some requests");
}

async fn a_wrong_secret_is_refused_and_dies_after_the_rejection_limit(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    enqueue(&store, 5, &["BANKA"]).await;
    let rx = Receiver::start(&[("BANKA", SECRET_A)], Behaviour::default()).await;
    // Our side holds another secret: every signature is wrong.
    let d = Deliverer::new(
        store.clone(),
        config_for(&rx, &[("BANKA", SECRET_B)], "rejected_max_attempts = 2"),
    )
    .unwrap();
    drain(&d, &store, 100).await;

    let seen = rx.seen();
    assert!(seen.applied.is_empty());
    assert_eq!(seen.bad_signatures, 10, "two attempts each, both refused");
    let dead = rows(&store, Some(OutboxState::Dead)).await;
    assert_eq!(dead.len(), 5);
    assert!(dead
        .iter()
        .all(|r| r.attempts == 2 && r.last_error.as_deref() == Some("HTTP 401")));
}

async fn a_failing_receiver_makes_deliveries_dead_after_max_attempts(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    enqueue(&store, 4, &["BANKA"]).await;
    let rx = Receiver::start(
        &[("BANKA", SECRET_A)],
        Behaviour {
            always: Some(503),
            ..Behaviour::default()
        },
    )
    .await;
    let d = Deliverer::new(
        store.clone(),
        config_for(&rx, &[("BANKA", SECRET_A)], "max_attempts = 3"),
    )
    .unwrap();
    let mut dead = 0;
    for _ in 0..200 {
        dead += d.run_once().await.unwrap().dead;
        if rows(&store, Some(OutboxState::Pending)).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(dead, 4);
    let rows = rows(&store, Some(OutboxState::Dead)).await;
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .all(|r| r.attempts == 3 && r.last_error.as_deref() == Some("HTTP 503")));
    assert_eq!(rx.seen().requests, 12);
    // Dead rows are not claimed again.
    let again = d.run_once().await.unwrap();
    assert_eq!(again.claimed, 0);
}

async fn a_failure_schedules_its_retry_by_the_backoff(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    enqueue(&store, 3, &["BANKA"]).await;
    let rx = Receiver::start(
        &[("BANKA", SECRET_A)],
        Behaviour {
            always: Some(500),
            ..Behaviour::default()
        },
    )
    .await;
    let mut text = format!(
        "[delivery]\nbackoff_base_ms = 60000\nbackoff_cap_ms = 600000\n\
         [institutions.BANKA]\nwebhook = \"{}\"\nsecret = \"{SECRET_A}\"\n",
        rx.url("BANKA")
    );
    let backoff = config(&text).settings().backoff();
    let before = now_micros();
    let report = Deliverer::new(store.clone(), config(&text))
        .unwrap()
        .run_once()
        .await
        .unwrap();
    let after = now_micros();
    assert_eq!((report.claimed, report.retried), (3, 3));
    for row in rows(&store, Some(OutboxState::Pending)).await {
        assert_eq!(row.attempts, 1);
        assert_eq!(row.leased_until, None);
        let delay = backoff.delay(1, &row.idempotency_key).as_micros() as i64;
        assert!(
            row.next_attempt_at >= before + delay && row.next_attempt_at <= after + delay,
            "retry at {} not {delay} µs after the attempt",
            row.next_attempt_at
        );
        // Within the first step of the schedule: 30–60 s.
        assert!((30_000_000..=60_000_000).contains(&delay));
    }
    // A second pass finds nothing due.
    text.push('\n');
    let again = Deliverer::new(store.clone(), config(&text))
        .unwrap()
        .run_once()
        .await
        .unwrap();
    assert_eq!(again.claimed, 0);
}

async fn an_institution_without_a_webhook_keeps_its_rows_pending(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    enqueue(&store, 10, &["BANKA", "CARRIERX"]).await;
    let rx = Receiver::start(&[("BANKA", SECRET_A)], Behaviour::default()).await;
    let d = Deliverer::new(store.clone(), config_for(&rx, &[("BANKA", SECRET_A)], "")).unwrap();
    let report = d.run_once().await.unwrap();
    assert_eq!(report.delivered, 5);
    assert_eq!(report.unrouted, 5);
    assert_eq!(report.unrouted_institutions, ["CARRIERX"]);
    assert_eq!(report.dead + report.retried, 0);
    let pending = rows(&store, Some(OutboxState::Pending)).await;
    assert_eq!(pending.len(), 5);
    assert!(pending
        .iter()
        .all(|r| r.institution_code == "CARRIERX" && r.attempts == 0 && r.last_error.is_none()));
    assert_eq!(rows(&store, Some(OutboxState::Dead)).await.len(), 0);
}

async fn a_killed_worker_s_rows_are_delivered_by_the_next_after_the_lease(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    let keys = enqueue(&store, 40, &["BANKA"]).await;
    // After 10 keys the receiver applies, then hangs: the 4 requests in flight when the
    // worker dies are applied but never acknowledged.
    let rx = Receiver::start(
        &[("BANKA", SECRET_A)],
        Behaviour {
            hang_after: Some(10),
            ..Behaviour::default()
        },
    )
    .await;
    let first_config = format!(
        "[delivery]\nconcurrency = 4\nbatch = 4\nlease_secs = 2\npoll_ms = 5\n\
         [institutions.BANKA]\nwebhook = \"{}\"\nsecret = \"{SECRET_A}\"\ntimeout_ms = 1000\n",
        rx.url("BANKA")
    );
    let first = Deliverer::new(store.clone(), config(&first_config)).unwrap();
    let worker = tokio::spawn(async move { first.run_until(std::future::pending()).await });
    while rx.seen().applied.len() < 14 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.abort();
    let _ = worker.await;
    drop(store);
    rx.release();

    let store = t.open().await;
    let delivered = rows(&store, Some(OutboxState::Delivered)).await.len();
    assert_eq!(delivered, 10, "the 4 hung deliveries are not recorded");
    let second = Deliverer::new(store.clone(), config(&first_config)).unwrap();
    drain(&second, &store, 2_000).await;

    assert_applied_once(&rx, &keys);
    assert_eq!(
        rx.seen().repeats,
        4,
        "the unacknowledged 4 came back under their keys"
    );
    assert_eq!(rows(&store, Some(OutboxState::Delivered)).await.len(), 40);
}

async fn a_stopped_worker_finishes_what_it_has_in_flight(backend: Backend) {
    let t = Target::new(backend);
    let store = t.open().await;
    enqueue(&store, 200, &["BANKA"]).await;
    let rx = Arc::new(
        Receiver::start(
            &[("BANKA", SECRET_A)],
            Behaviour {
                delay: (Duration::from_millis(5), Duration::from_millis(20)),
                ..Behaviour::default()
            },
        )
        .await,
    );
    let d = Deliverer::new(store.clone(), config_for(&rx, &[("BANKA", SECRET_A)], "")).unwrap();
    let watcher = Arc::clone(&rx);
    let stop = async move {
        while watcher.seen().applied.len() < 20 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let report = d.run_until(stop).await.unwrap();
    // Every row it sent is recorded; only rows it never sent are left leased.
    assert_eq!(report.claimed, report.delivered + report.unsent);
    let all = rows(&store, None).await;
    let leased = all.iter().filter(|r| r.leased_until.is_some()).count();
    assert_eq!(leased as u64, report.unsent);
    let delivered = all
        .iter()
        .filter(|r| r.state == OutboxState::Delivered)
        .count();
    assert_eq!(delivered as u64, report.delivered);
    assert_eq!(rx.seen().applied.len() as u64, report.delivered);
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}
