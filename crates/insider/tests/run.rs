//! `run` against both stores: flags are stored once per user, day and rule, each new flag
//! alerts the auditors through the audit trail, and a rerun raises nothing.
//!
//! PostgreSQL runs use `FANZHA_TEST_PG` (default: 127.0.0.1:5432, database `test`), each in
//! its own schema, and fail when the server is unreachable.

use std::sync::Arc;

use fanzha_core::vocab::Role;
use fanzha_insider::{rules, Rule};
use fanzha_store::{AuditFilter, NewUser, Store};

struct Fresh {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    Fresh {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Fresh {
    Fresh {
        store: fanzha_store::testing::fresh_pg_store("ins").await,
        _dir: None,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

async fn user(store: &dyn Store, name: &str, role: Role, jurisdiction: Option<&str>) {
    store
        .user_add(&NewUser {
            username: name,
            password_hash: "$argon2id$not-a-real-hash",
            role,
            institution_code: None,
            jurisdiction_code: jurisdiction,
        })
        .await
        .unwrap()
        .unwrap();
}

async fn lookups(store: &dyn Store, actor: &str, n: usize, in_scope: bool) {
    for i in 0..n {
        let detail = serde_json::json!({
            "id": format!("P{i}"),
            "community": "330199001001",
            "found": true,
            "in_scope": in_scope,
        });
        store
            .audit_append(actor, "lookup.person", &detail.to_string())
            .await
            .unwrap();
    }
}

/// Four analysts, one of whom looks up 4.5 times the others' median, and a station officer
/// who tries one person outside their jurisdiction; an API key's look-ups beside them. The
/// entries all fall on one Shanghai day unless the run straddles midnight, in which case it
/// is built again (in a fresh store) rather than judged on a split day.
async fn scenario(
    fresh: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Fresh>>>,
) -> Fresh {
    loop {
        let f = fresh().await;
        let s = &*f.store;
        for name in ["a0", "a1", "a2", "a3"] {
            user(s, name, Role::Analyst, None).await;
        }
        user(s, "o1", Role::StationOfficer, Some("330199001")).await;
        let start = now();
        for name in ["a1", "a2", "a3"] {
            lookups(s, &format!("user:{name}"), 10, true).await;
        }
        lookups(s, "user:a0", 45, true).await;
        lookups(s, "user:o1", 2, true).await;
        lookups(s, "user:o1", 1, false).await;
        lookups(s, "key:1:ICBC", 30, false).await;
        if rules::shanghai_day(start) == rules::shanghai_day(now()) {
            return f;
        }
    }
}

async fn flags_are_raised_once_and_alert_the_auditors(f: Fresh) {
    let s = &*f.store;
    let later = now() + 1_000_000;
    let raised = fanzha_insider::run(s, later).await.unwrap();
    let mut got: Vec<(String, Rule)> = raised
        .iter()
        .map(|r| (r.flag.username.clone(), r.flag.rule))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("a0".to_owned(), Rule::PeerVolume),
            ("o1".to_owned(), Rule::OutOfScope)
        ]
    );
    let stored = s.flag_list().await.unwrap();
    assert_eq!(stored.len(), 2);
    let peer = stored.iter().find(|f| f.rule == "peer_volume").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&peer.detail).unwrap();
    assert_eq!(
        (detail["lookups"].as_u64(), detail["peer_median"].as_f64()),
        (Some(45), Some(10.0))
    );
    assert_eq!(peer.day, rules::day_text(rules::shanghai_day(later)));

    let alerts = AuditFilter {
        action_prefix: Some(fanzha_insider::FLAG_ACTION.to_owned()),
        ..AuditFilter::default()
    };
    let (entries, total) = s.audit_page(&alerts, 10, 0).await.unwrap();
    assert_eq!(total, 2, "one alert per new flag");
    assert!(entries.iter().all(|e| e.actor == fanzha_insider::ACTOR));

    // A rerun, later the same day: nothing new, no second alert.
    let again = fanzha_insider::run(s, later + 1_000_000).await.unwrap();
    assert_eq!(again, vec![]);
    assert_eq!(s.flag_list().await.unwrap().len(), 2);
    assert_eq!(s.audit_page(&alerts, 10, 0).await.unwrap().1, 2);

    let (head, entries) = fanzha_store::audit_trail(s).await.unwrap();
    assert_eq!(
        fanzha_store::verify_audit_trail(head.as_ref(), &entries),
        Ok(())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_flags_once_and_alerts() {
    let f = scenario(|| Box::pin(sqlite())).await;
    flags_are_raised_once_and_alert_the_auditors(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_flags_once_and_alerts() {
    let f = scenario(|| Box::pin(postgres())).await;
    flags_are_raised_once_and_alert_the_auditors(f).await;
}
