//! The risk tables and ordered event scans (issue 5), run against both backends. PostgreSQL
//! tests use `FANZHA_TEST_PG` and fail, never skip, when it is unreachable.

use std::collections::BTreeSet;
use std::sync::Arc;

use fanzha_core::schema::{ColType, Kind, Row, Value};
use fanzha_store::{
    AppealDecision, Batch, Item, Measure, NewFeedback, NewThresholdDecision, NewWarning, Origin,
    OutboxState, PrecisionBy, ReasonSource, RiskEntity, RiskModel, ScanCursor, ScanKind, Scope,
    Score, Store, Verdict, WarnedEntity, WarningFilter, WarningLevel, WarningReason, WarningStatus,
};

/// A fresh store, and how to reach its tables around it.
struct Fresh {
    store: Arc<dyn Store>,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Fresh {
    /// Runs SQL on the store's tables over a connection of its own.
    async fn raw(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Raw::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::raw_sql(&format!("SET search_path TO {schema}; {sql}"))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
    }
}

async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    Fresh {
        store,
        raw: Raw::Sqlite(path),
        _dir: Some(dir),
    }
}

async fn postgres() -> Fresh {
    let target = fanzha_store::testing::fresh_pg_target("rk");
    let store = fanzha_store::open(&target).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} is unreachable: {e}",
            fanzha_store::testing::test_pg_url()
        )
    });
    let (url, schema) = target.split_once("?schema=").unwrap();
    Fresh {
        store,
        raw: Raw::Postgres {
            url: url.to_owned(),
            schema: schema.to_owned(),
        },
        _dir: None,
    }
}

/// Declares one test per backend from one async body taking `Arc<Fresh>`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = Arc::new(super::sqlite().await);
                ($body)(f).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let f = Arc::new(super::postgres().await);
                ($body)(f).await;
            }
        }
    };
}

/// A row of `kind` with the named columns set and every other one filled by its type.
fn row(kind: Kind, set: &[(&str, Value)]) -> Row {
    let values = kind
        .schema()
        .columns
        .iter()
        .map(|c| {
            set.iter()
                .find(|(n, _)| *n == c.name)
                .map(|(_, v)| v.clone())
                .unwrap_or(match c.ty {
                    ColType::Int => Value::Int(7),
                    ColType::Text => Value::Text(format!("{}-值", c.name)),
                })
        })
        .collect();
    Row {
        values,
        extra: Some(r#"{"备注":"x"}"#.to_owned()),
    }
}

async fn store_rows(s: &dyn Store, kind: Kind, rows: Vec<Row>) {
    let items = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| Item {
            row,
            origin: Origin {
                file: "f".into(),
                line: i as u64 + 2,
                original: vec![],
            },
        })
        .collect();
    let o = s
        .write_batch(Batch {
            kind,
            items,
            rejections: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(o.rejected, 0, "{o:?}");
}

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

both!(scans_follow_event_time_and_resume_on_ties, |f: Arc<
    Fresh,
>| async move {
    let s = &*f.store;
    // Ties on time are ordered by id in code points ("B" < "a10" < "a9" < "b" < "é"),
    // whatever the database's collation.
    let events: [(i64, &str); 7] = [
        (20, "b"),
        (10, "z"),
        (20, "a9"),
        (20, "é"),
        (20, "B"),
        (30, "a"),
        (20, "a10"),
    ];
    for kind in ScanKind::ALL {
        let rows: Vec<Row> = events
            .iter()
            .map(|(ts, id)| {
                row(
                    kind.kind(),
                    &[
                        (kind.time_column(), Value::Int(*ts)),
                        (kind.id_column(), t(id)),
                    ],
                )
            })
            .collect();
        store_rows(s, kind.kind(), rows.clone()).await;
        let mut want = rows;
        want.sort_by_key(|r| kind.cursor_of(r).unwrap());

        // Pages of two, each resumed from the last row of the one before.
        let mut got = Vec::new();
        let mut after: Option<ScanCursor> = None;
        loop {
            let page = s.scan_events(kind, after.as_ref(), 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(kind.cursor_of(last).unwrap());
            got.extend(page);
        }
        assert_eq!(got, want, "{kind:?}");
        let ids: Vec<String> = got.iter().map(|r| kind.cursor_of(r).unwrap().id).collect();
        assert_eq!(ids, ["z", "B", "a10", "a9", "b", "é", "a"], "{kind:?}");

        // Resuming in the middle of a tie returns the rest of the tie first.
        let mid = ScanCursor {
            ts: 20,
            id: "a9".into(),
        };
        let rest = s.scan_events(kind, Some(&mid), 10).await.unwrap();
        let rest: Vec<String> = rest.iter().map(|r| kind.cursor_of(r).unwrap().id).collect();
        assert_eq!(rest, ["b", "é", "a"], "{kind:?}");
        assert!(s
            .scan_events(
                kind,
                Some(&ScanCursor {
                    ts: 30,
                    id: "a".into()
                }),
                10
            )
            .await
            .unwrap()
            .is_empty());
    }
});

fn reason(code: &str, source: ReasonSource, contribution: f64) -> WarningReason {
    WarningReason {
        code: code.to_owned(),
        source,
        text_zh: format!("{code} 命中"),
        text_en: format!("{code} hit"),
        contribution,
    }
}

fn warning(kind: RiskEntity, id: &str, inst: &str, score: u8, at: i64) -> NewWarning {
    NewWarning {
        entity: WarnedEntity::new(kind, id),
        institution_code: inst.to_owned(),
        score: Score::new(score).unwrap(),
        level: if score >= 80 {
            WarningLevel::Red
        } else {
            WarningLevel::Orange
        },
        pattern: "mule".to_owned(),
        reasons: vec![
            reason("R_PASS_THROUGH", ReasonSource::Rule, 0.5),
            reason("fan_in_24h", ReasonSource::Feature, 0.25),
        ],
        measure: Measure::DelaySettlement,
        model_version: Some("m1".to_owned()),
        rules_version: Some("r1".to_owned()),
        at,
        first_warned_at: None,
    }
}

both!(
    warning_versions_move_only_with_evidence,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        let w = warning(RiskEntity::Account, "6222001", "ICBC", 85, 1_000);
        let first = s.warning_upsert(&w).await.unwrap();
        assert!(first.changed);
        assert_eq!(first.version, 1);
        let key1 = first.idempotency_key.clone().unwrap();

        // The same evidence later, with another measure and model: no new version.
        let mut same = w.clone();
        same.at = 2_000;
        same.measure = Measure::Suspend;
        same.model_version = Some("m2".to_owned());
        let again = s.warning_upsert(&same).await.unwrap();
        assert_eq!((again.changed, again.version), (false, 1));
        assert_eq!(again.idempotency_key, None);
        let stored = s
            .warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.measure, Measure::Suspend);
        assert_eq!(stored.model_version.as_deref(), Some("m2"));
        assert_eq!((stored.first_warned_at, stored.updated_at), (1_000, 1_000));
        assert_eq!(stored.reasons().unwrap(), w.reasons);
        assert_eq!(stored.status, WarningStatus::Open);

        // A changed reason is new evidence.
        let mut changed = w.clone();
        changed.at = 3_000;
        changed.reasons[1].contribution = 0.3;
        let second = s.warning_upsert(&changed).await.unwrap();
        assert_eq!((second.changed, second.version), (true, 2));
        let key2 = second.idempotency_key.unwrap();
        assert_ne!(key1, key2);
        let stored = s
            .warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.first_warned_at, stored.updated_at), (1_000, 3_000));

        let queued = s.outbox_list(None, 100).await.unwrap();
        assert_eq!(
            queued
                .iter()
                .map(|o| (o.warning_version, o.idempotency_key.as_str()))
                .collect::<Vec<_>>(),
            [(1, key1.as_str()), (2, key2.as_str())]
        );
        let payload: serde_json::Value = serde_json::from_str(&queued[1].payload).unwrap();
        assert_eq!(payload["idempotency_key"], key2.as_str());
        assert_eq!(payload["version"], 2);
        assert_eq!(payload["score"], 85);
        assert_eq!(payload["reasons"][0]["code"], "R_PASS_THROUGH");
        assert!(queued.iter().all(|o| o.state == OutboxState::Pending
            && o.institution_code == "ICBC"
            && o.attempts == 0));

        // A batch run stores a history's strongest evidence with the time the entity first
        // reached a level; later versions keep that first time.
        let mut batch = warning(RiskEntity::Sim, "13800138000", "china_mobile", 70, 9_000);
        batch.first_warned_at = Some(4_000);
        s.warning_upsert(&batch).await.unwrap();
        batch.score = Score::new(90).unwrap();
        batch.at = 9_500;
        batch.first_warned_at = Some(9_500);
        s.warning_upsert(&batch).await.unwrap();
        let stored = s
            .warning_get(&Scope::All, &batch.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (stored.version, stored.first_warned_at, stored.updated_at),
            (2, 4_000, 9_500)
        );

        // Refused before reaching the database.
        let mut bad = w.clone();
        bad.reasons[0].contribution = f64::NAN;
        assert!(s.warning_upsert(&bad).await.is_err());
        let mut bad = w.clone();
        bad.entity.id = "a\0b".into();
        assert!(s.warning_upsert(&bad).await.is_err());
    }
);

both!(
    warnings_list_by_filter_and_scope,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        // Town T1 holds community C1; P1 lives in C1 and holds account A1 and SIM 138.
        store_rows(
            s,
            Kind::Jurisdictions,
            vec![
                row(
                    Kind::Jurisdictions,
                    &[("code", t("T1")), ("parent_code", Value::Null)],
                ),
                row(
                    Kind::Jurisdictions,
                    &[("code", t("C1")), ("parent_code", t("T1"))],
                ),
            ],
        )
        .await;
        store_rows(
            s,
            Kind::Persons,
            vec![row(
                Kind::Persons,
                &[("person_id", t("P1")), ("community_code", t("C1"))],
            )],
        )
        .await;
        store_rows(
            s,
            Kind::Accounts,
            vec![row(
                Kind::Accounts,
                &[
                    ("account_id", t("A1")),
                    ("holder_id", t("P1")),
                    ("bank_code", t("ICBC")),
                ],
            )],
        )
        .await;
        store_rows(
            s,
            Kind::Sims,
            vec![row(
                Kind::Sims,
                &[
                    ("msisdn", t("13800000001")),
                    ("holder_id", t("P1")),
                    ("carrier", t("CMCC")),
                    ("deactivated_at", Value::Null),
                ],
            )],
        )
        .await;
        let mut sim = warning(RiskEntity::Sim, "13800000001", "CMCC", 60, 20);
        sim.pattern = "scam_caller".into();
        for w in [
            warning(RiskEntity::Account, "A1", "ICBC", 90, 10),
            sim,
            warning(RiskEntity::Account, "A2", "ABC", 70, 30),
            warning(RiskEntity::Number, "+85290000000", "CMCC", 95, 40),
            warning(RiskEntity::Person, "P1", "ICBC", 81, 50),
        ] {
            assert!(s.warning_upsert(&w).await.unwrap().changed);
        }
        let ids = |ws: Vec<fanzha_store::Warning>| -> Vec<String> {
            ws.into_iter().map(|w| w.entity.id).collect()
        };
        let all = WarningFilter::default();
        assert_eq!(
            ids(s.warning_list(&Scope::All, &all, 10, 0).await.unwrap()),
            ["P1", "+85290000000", "A2", "13800000001", "A1"],
            "newest evidence first"
        );
        assert_eq!(
            ids(s.warning_list(&Scope::All, &all, 2, 1).await.unwrap()),
            ["+85290000000", "A2"]
        );
        let red = WarningFilter {
            level: Some(WarningLevel::Red),
            ..Default::default()
        };
        assert_eq!(
            ids(s.warning_list(&Scope::All, &red, 10, 0).await.unwrap()),
            ["P1", "+85290000000", "A1"]
        );
        let caller = WarningFilter {
            pattern: Some("scam_caller".into()),
            entity_type: Some(RiskEntity::Sim),
            status: Some(WarningStatus::Open),
            ..Default::default()
        };
        assert_eq!(
            ids(s.warning_list(&Scope::All, &caller, 10, 0).await.unwrap()),
            ["13800000001"]
        );
        let icbc = Scope::Institution("ICBC".into());
        assert_eq!(
            ids(s.warning_list(&icbc, &all, 10, 0).await.unwrap()),
            ["P1", "A1"]
        );
        let a2 = WarnedEntity::new(RiskEntity::Account, "A2");
        assert!(s.warning_get(&icbc, &a2).await.unwrap().is_none());
        assert!(s
            .warning_get(&Scope::Institution("ABC".into()), &a2)
            .await
            .unwrap()
            .is_some());
        // The town sees its resident's account, SIM and person; not A2 (no stored holder) nor
        // the foreign number.
        let town = Scope::Jurisdiction("T1".into());
        assert_eq!(
            ids(s.warning_list(&town, &all, 10, 0).await.unwrap()),
            ["P1", "13800000001", "A1"]
        );
        assert!(s
            .warning_list(&Scope::Jurisdiction("T9".into()), &all, 10, 0)
            .await
            .unwrap()
            .is_empty());
    }
);

both!(a_version_and_its_delivery_are_stored_together, |f: Arc<
    Fresh,
>| async move {
    let s = f.store.clone();
    let w = warning(RiskEntity::Account, "6222002", "ICBC", 85, 1_000);
    s.warning_upsert(&w).await.unwrap();

    // With the outbox unwritable, a new version fails and leaves the warning as it was.
    f.raw("ALTER TABLE warning_outbox RENAME TO warning_outbox_away")
        .await;
    let mut changed = w.clone();
    changed.score = Score::new(99).unwrap();
    assert!(s.warning_upsert(&changed).await.is_err());
    let new = warning(RiskEntity::Account, "6222003", "ICBC", 85, 1_000);
    assert!(s.warning_upsert(&new).await.is_err());
    f.raw("ALTER TABLE warning_outbox_away RENAME TO warning_outbox")
        .await;
    let stored = s
        .warning_get(&Scope::All, &w.entity)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.version, stored.score.get()), (1, 85));
    assert!(s
        .warning_get(&Scope::All, &new.entity)
        .await
        .unwrap()
        .is_none());

    // Concurrent writers of one entity: each version is made once and queued once.
    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let s = s.clone();
            let mut w = w.clone();
            tokio::spawn(async move {
                let mut changed = 0;
                for j in 0..5u8 {
                    w.score = Score::new(10 + i * 10 + j).unwrap();
                    if s.warning_upsert(&w).await.unwrap().changed {
                        changed += 1;
                    }
                }
                changed
            })
        })
        .collect();
    let mut changes = 1;
    for t in tasks {
        changes += t.await.unwrap();
    }
    let stored = s
        .warning_get(&Scope::All, &w.entity)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, changes);
    let versions: Vec<i64> = s
        .outbox_list(None, 1_000)
        .await
        .unwrap()
        .iter()
        .map(|o| o.warning_version)
        .collect();
    assert_eq!(versions, (1..=changes).collect::<Vec<_>>());
});

both!(
    claims_never_hand_a_row_to_two_workers,
    |f: Arc<Fresh>| async move {
        let s = f.store.clone();
        const N: usize = 120;
        for i in 0..N {
            let w = warning(RiskEntity::Sim, &format!("1390000{i:04}"), "CMCC", 70, 5);
            s.warning_upsert(&w).await.unwrap();
        }
        let now = i64::MAX / 4;
        let lease = 60_000_000;
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = s.outbox_claim_due(now, 7, lease).await.unwrap();
                        if got.is_empty() {
                            break mine;
                        }
                        assert!(got.len() <= 7, "a claim keeps to its limit: {}", got.len());
                        for o in got {
                            assert_eq!(o.leased_until, Some(now + lease));
                            mine.push(o.id);
                        }
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        let distinct: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), N, "every row claimed");
        assert_eq!(distinct.len(), N, "no row claimed twice");

        // Leased rows come back only when the lease has run out.
        assert!(s
            .outbox_claim_due(now + lease - 1, 1_000, lease)
            .await
            .unwrap()
            .is_empty());
        let one = s.outbox_claim_due(now + lease, 1, lease).await.unwrap();
        assert_eq!(one.len(), 1, "a claim of one takes one");
        let again = s.outbox_claim_due(now + lease, 1_000, lease).await.unwrap();
        assert_eq!(again.len(), N - 1);
        assert!(again.windows(2).all(|p| p[0].id < p[1].id));
    }
);

both!(retries_back_off_then_die, |f: Arc<Fresh>| async move {
    let s = &*f.store;
    for id in ["A", "B"] {
        s.warning_upsert(&warning(RiskEntity::Account, id, "ICBC", 90, 1))
            .await
            .unwrap();
    }
    // Past any wall-clock enqueue time (2096).
    let t0 = 4_000_000_000_000_000;
    let lease = 30_000_000;
    let claimed = s.outbox_claim_due(t0, 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let (a, b) = (claimed[0].id, claimed[1].id);

    assert!(s.outbox_delivered(a, t0 + 1).await.unwrap());
    assert!(!s.outbox_delivered(a, t0 + 2).await.unwrap(), "once");
    assert_eq!(s.outbox_failed(a, "late", t0, 3).await.unwrap(), None);

    // B fails twice with the caller's backoff, then dies on the third failure.
    let mut retry = t0;
    for (attempt, backoff) in [(1, 1_000_000), (2, 4_000_000)] {
        retry += backoff;
        let state = s
            .outbox_failed(b, &format!("HTTP 503 #{attempt}"), retry, 3)
            .await
            .unwrap();
        assert_eq!(state, Some(OutboxState::Pending));
        assert!(s
            .outbox_claim_due(retry - 1, 10, lease)
            .await
            .unwrap()
            .is_empty());
        let due = s.outbox_claim_due(retry, 10, lease).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].attempts, attempt);
        assert_eq!(
            due[0].last_error.as_deref(),
            Some(format!("HTTP 503 #{attempt}").as_str())
        );
    }
    assert_eq!(
        s.outbox_failed(b, "HTTP 500", retry + 1, 3).await.unwrap(),
        Some(OutboxState::Dead)
    );
    assert!(s
        .outbox_claim_due(i64::MAX / 2, 10, lease)
        .await
        .unwrap()
        .is_empty());
    let dead = s.outbox_list(Some(OutboxState::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id, dead[0].attempts), (b, 3));
    let delivered = s
        .outbox_list(Some(OutboxState::Delivered), 10)
        .await
        .unwrap();
    assert_eq!(delivered[0].delivered_at, Some(t0 + 1));
    assert_eq!(delivered[0].leased_until, None);
});

both!(feedback_sets_status_and_counts_precision, |f: Arc<
    Fresh,
>| async move {
    let s = &*f.store;
    let mut caller = warning(RiskEntity::Sim, "13900000001", "CMCC", 90, 1);
    caller.pattern = "scam_caller".into();
    caller.reasons = vec![
        reason("R_SHORT_CALLS", ReasonSource::Rule, 0.6),
        reason("R_STRANGERS", ReasonSource::Rule, 0.3),
    ];
    let a = warning(RiskEntity::Account, "A", "ICBC", 90, 1);
    let b = warning(RiskEntity::Account, "B", "ABC", 90, 1);
    for w in [&caller, &a, &b] {
        s.warning_upsert(w).await.unwrap();
    }
    let fb = |w: &NewWarning, version: i64, verdict: Verdict| NewFeedback {
        entity: w.entity.clone(),
        version,
        institution_code: w.institution_code.clone(),
        verdict,
        note: Some("核实".into()),
        at: 100,
        actor: "bank:ops".into(),
    };
    assert!(s
        .feedback_record(&fb(&caller, 1, Verdict::Confirmed))
        .await
        .unwrap());
    assert!(s
        .feedback_record(&fb(&a, 1, Verdict::ActionTaken))
        .await
        .unwrap());
    assert!(s
        .feedback_record(&fb(&b, 1, Verdict::Confirmed))
        .await
        .unwrap());
    // A change of mind replaces the first answer.
    assert!(s
        .feedback_record(&fb(&b, 1, Verdict::FalseAlarm))
        .await
        .unwrap());
    assert!(!s
        .feedback_record(&fb(&b, 2, Verdict::Confirmed))
        .await
        .unwrap());
    let ghost = warning(RiskEntity::Account, "ghost", "ICBC", 90, 1);
    assert!(!s
        .feedback_record(&fb(&ghost, 1, Verdict::Confirmed))
        .await
        .unwrap());

    let status = |w: NewWarning| async move {
        s.warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status(caller.clone()).await, WarningStatus::Confirmed);
    assert_eq!(status(a.clone()).await, WarningStatus::ActionTaken);
    assert_eq!(status(b.clone()).await, WarningStatus::FalseAlarm);

    // New evidence reopens; an answer to the old version counts but moves nothing.
    let mut a2 = a.clone();
    a2.score = Score::new(95).unwrap();
    s.warning_upsert(&a2).await.unwrap();
    assert_eq!(status(a.clone()).await, WarningStatus::Open);
    assert!(s
        .feedback_record(&fb(&a, 1, Verdict::Confirmed))
        .await
        .unwrap());
    assert_eq!(status(a.clone()).await, WarningStatus::Open);

    let rows = |v: Vec<fanzha_store::PrecisionRow>| -> Vec<(String, u64, u64, u64)> {
        v.into_iter()
            .map(|r| (r.key, r.confirmed, r.false_alarm, r.action_taken))
            .collect()
    };
    assert_eq!(
        rows(s.precision(PrecisionBy::Pattern).await.unwrap()),
        [("mule".into(), 1, 1, 0), ("scam_caller".into(), 1, 0, 0)]
    );
    assert_eq!(
        rows(s.precision(PrecisionBy::Institution).await.unwrap()),
        [
            ("ABC".into(), 0, 1, 0),
            ("CMCC".into(), 1, 0, 0),
            ("ICBC".into(), 1, 0, 0)
        ]
    );
    // Feature reasons are not rules; only rule hits are counted per rule.
    assert_eq!(
        rows(s.precision(PrecisionBy::Rule).await.unwrap()),
        [
            ("R_PASS_THROUGH".into(), 1, 1, 0),
            ("R_SHORT_CALLS".into(), 1, 0, 0),
            ("R_STRANGERS".into(), 1, 0, 0)
        ]
    );
});

both!(appeals_lift_or_uphold, |f: Arc<Fresh>| async move {
    let s = &*f.store;
    let w = warning(RiskEntity::Account, "A", "ICBC", 90, 1);
    s.warning_upsert(&w).await.unwrap();
    let status = || async {
        s.warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    s.feedback_record(&NewFeedback {
        entity: w.entity.clone(),
        version: 1,
        institution_code: "ICBC".into(),
        verdict: Verdict::ActionTaken,
        note: None,
        at: 2,
        actor: "bank:ops".into(),
    })
    .await
    .unwrap();

    let first = s
        .appeal_file(&w.entity, "P1", "工资卡，非出借", 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status().await, WarningStatus::Appealed);
    assert_eq!(
        s.appeal_file(&w.entity, "P1", "again", 11).await.unwrap(),
        None,
        "one pending appeal at a time"
    );
    let ghost = WarnedEntity::new(RiskEntity::Account, "none");
    assert_eq!(s.appeal_file(&ghost, "P1", "x", 11).await.unwrap(), None);

    // New evidence while the appeal is pending keeps it pending.
    let mut more = w.clone();
    more.score = Score::new(92).unwrap();
    assert!(s.warning_upsert(&more).await.unwrap().changed);
    assert_eq!(status().await, WarningStatus::Appealed);

    assert!(s
        .appeal_decide(
            first,
            AppealDecision::Upheld,
            "approver:li",
            "流水异常属实",
            20
        )
        .await
        .unwrap());
    assert_eq!(status().await, WarningStatus::ActionTaken);
    assert!(!s
        .appeal_decide(first, AppealDecision::Lifted, "approver:li", "x", 21)
        .await
        .unwrap());

    let second = s
        .appeal_file(&w.entity, "P1", "补充材料", 30)
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .appeal_decide(
            second,
            AppealDecision::Lifted,
            "approver:wang",
            "已核实工资流水",
            40
        )
        .await
        .unwrap());
    assert_eq!(status().await, WarningStatus::Lifted);

    let appeals = s.appeal_list(Some(&w.entity)).await.unwrap();
    assert_eq!(appeals.len(), 2);
    assert_eq!(appeals[0].status, fanzha_store::AppealStatus::Upheld);
    assert_eq!(appeals[1].status, fanzha_store::AppealStatus::Lifted);
    assert_eq!(appeals[1].decided_by.as_deref(), Some("approver:wang"));
    assert_eq!(
        appeals[1].decision_reason.as_deref(),
        Some("已核实工资流水")
    );
    assert_eq!(appeals[1].decided_at, Some(40));
    assert_eq!(appeals[1].reason, "补充材料");
    assert!(s.appeal_list(Some(&ghost)).await.unwrap().is_empty());
    assert_eq!(s.appeal_list(None).await.unwrap().len(), 2);
});

both!(models_and_threshold_decisions_round_trip, |f: Arc<
    Fresh,
>| async move {
    let s = &*f.store;
    let artefact: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let m = RiskModel {
        version: "gbdt-2026-03-01".into(),
        created_at: 5,
        artefact,
        card: r#"{"auc_pr":0.93}"#.into(),
    };
    assert!(s.model_put(&m).await.unwrap());
    let mut other = m.clone();
    other.card = "{}".into();
    assert!(
        !s.model_put(&other).await.unwrap(),
        "versions are immutable"
    );
    assert_eq!(s.model_get(&m.version).await.unwrap(), Some(m.clone()));
    assert_eq!(s.model_get("nope").await.unwrap(), None);
    let cards = s.model_list().await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].version.as_str(), cards[0].card.as_str()),
        (m.version.as_str(), m.card.as_str())
    );

    let d = NewThresholdDecision {
        at: 9,
        actor: "commander:zhao".into(),
        pattern: "mule".into(),
        old_threshold: Some(70),
        new_threshold: 75,
        reason: "误报偏高".into(),
        evaluation: r#"{"precision":0.92,"recall":0.86}"#.into(),
        level: WarningLevel::Orange,
        effective_at: 100,
    };
    let id = s.threshold_decision_add(&d).await.unwrap();
    let first = NewThresholdDecision {
        old_threshold: None,
        ..d.clone()
    };
    s.threshold_decision_add(&first).await.unwrap();
    let log = s.threshold_decisions().await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].id, id);
    assert_eq!(
        (
            log[0].old_threshold,
            log[0].new_threshold,
            log[0].reason.as_str()
        ),
        (Some(70), 75, "误报偏高")
    );
    assert_eq!(
        (log[0].level, log[0].effective_at),
        (WarningLevel::Orange, 100)
    );
    assert_eq!(log[1].old_threshold, None);
    // A decision recorded before levels were named reads as the yellow cut-off, in effect
    // when recorded.
    f.raw("UPDATE risk_decisions_log SET level = NULL, effective_at = NULL")
        .await;
    let log = s.threshold_decisions().await.unwrap();
    assert_eq!(
        (log[0].level, log[0].effective_at),
        (WarningLevel::Yellow, 9)
    );
});

both!(
    a_warning_without_evidence_is_withdrawn_and_its_owner_told,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        let w = warning(RiskEntity::Account, "6222009", "ICBC", 85, 1_000);
        s.warning_upsert(&w).await.unwrap();
        let out = s.warning_withdraw(&w.entity, 5_000).await.unwrap().unwrap();
        assert_eq!((out.changed, out.version), (true, 2));
        let stored = s
            .warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                stored.status,
                stored.version,
                stored.updated_at,
                stored.first_warned_at
            ),
            (WarningStatus::Withdrawn, 2, 5_000, 1_000)
        );
        let queued = s.outbox_list(None, 100).await.unwrap();
        assert_eq!(queued.len(), 2);
        let payload: serde_json::Value = serde_json::from_str(&queued[1].payload).unwrap();
        assert_eq!(payload["status"], "withdrawn");
        assert_eq!(payload["version"], 2);
        assert_eq!(
            payload["idempotency_key"],
            out.idempotency_key.unwrap().as_str()
        );
        assert_eq!(payload["reasons"][0]["code"], "R_PASS_THROUGH");
        // Only an open warning is withdrawn, once.
        assert!(s
            .warning_withdraw(&w.entity, 6_000)
            .await
            .unwrap()
            .is_none());
        let missing = WarnedEntity::new(RiskEntity::Account, "nobody");
        assert!(s.warning_withdraw(&missing, 6_000).await.unwrap().is_none());
        // The same evidence again is news to the owner: a new version, open.
        let back = s.warning_upsert(&w).await.unwrap();
        assert_eq!((back.changed, back.version), (true, 3));
        let stored = s
            .warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, WarningStatus::Open);
        // An answered warning keeps the institution's word.
        let answered = warning(RiskEntity::Account, "6222010", "ICBC", 85, 1_000);
        s.warning_upsert(&answered).await.unwrap();
        assert!(s
            .feedback_record(&NewFeedback {
                entity: answered.entity.clone(),
                version: 1,
                institution_code: "ICBC".to_owned(),
                verdict: Verdict::Confirmed,
                note: None,
                actor: "user:bank".to_owned(),
                at: 2_000,
            })
            .await
            .unwrap());
        assert!(s
            .warning_withdraw(&answered.entity, 6_000)
            .await
            .unwrap()
            .is_none());
    }
);

both!(
    a_lifted_appeal_is_a_new_version_queued_to_the_owner,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        let w = warning(RiskEntity::Account, "L1", "ICBC", 90, 1);
        s.warning_upsert(&w).await.unwrap();
        let id = s
            .appeal_file(&w.entity, "P1", "工资卡", 10)
            .await
            .unwrap()
            .unwrap();
        let open = s
            .appeals_by_status(Some(fanzha_store::AppealStatus::Open))
            .await
            .unwrap();
        assert_eq!(open.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
        assert_eq!(s.appeal_get(id).await.unwrap().unwrap().reason, "工资卡");
        assert_eq!(s.appeal_get(id + 100).await.unwrap(), None);
        assert!(s
            .appeal_decide(id, AppealDecision::Lifted, "approver:li", "核实无误", 20)
            .await
            .unwrap());
        assert!(s
            .appeals_by_status(Some(fanzha_store::AppealStatus::Open))
            .await
            .unwrap()
            .is_empty());
        let now = s
            .warning_get(&Scope::All, &w.entity)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (now.status, now.version, now.updated_at),
            (WarningStatus::Lifted, 2, 20)
        );
        let queued = s.outbox_list(None, 10).await.unwrap();
        assert_eq!(queued.len(), 2, "the first version and the lift");
        let lift = &queued[1];
        assert_eq!(
            (lift.warning_version, lift.state),
            (2, OutboxState::Pending)
        );
        let payload: serde_json::Value = serde_json::from_str(&lift.payload).unwrap();
        assert_eq!(payload["status"], "lifted");
        assert_eq!(payload["idempotency_key"], lift.idempotency_key.as_str());
        assert_ne!(lift.idempotency_key, queued[0].idempotency_key);
        // The timeline holds both versions.
        let history = s.warning_versions(&w.entity).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|v| (v.version, v.status, v.score.get()))
                .collect::<Vec<_>>(),
            [(1, WarningStatus::Open, 90), (2, WarningStatus::Lifted, 90)]
        );
    }
);

both!(
    the_timeline_keeps_every_version,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        let w = warning(RiskEntity::Account, "V1", "ICBC", 70, 1_000);
        s.warning_upsert(&w).await.unwrap();
        s.warning_upsert(&w).await.unwrap();
        let mut more = w.clone();
        more.score = Score::new(88).unwrap();
        more.level = WarningLevel::Red;
        more.at = 2_000;
        s.warning_upsert(&more).await.unwrap();
        s.warning_withdraw(&w.entity, 3_000).await.unwrap().unwrap();
        let history = s.warning_versions(&w.entity).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|v| (v.version, v.score.get(), v.level, v.status, v.at))
                .collect::<Vec<_>>(),
            [
                (1, 70, WarningLevel::Orange, WarningStatus::Open, 1_000),
                (2, 88, WarningLevel::Red, WarningStatus::Open, 2_000),
                (3, 88, WarningLevel::Red, WarningStatus::Withdrawn, 3_000),
            ]
        );
        assert_eq!(history[0].model_version.as_deref(), Some("m1"));
        assert_eq!(history[1].reasons().unwrap().len(), 2);
        let ghost = WarnedEntity::new(RiskEntity::Account, "none");
        assert!(s.warning_versions(&ghost).await.unwrap().is_empty());
        // Score deciles per model version, withdrawals left out.
        let bins = s.score_bins().await.unwrap();
        assert_eq!(
            bins.iter()
                .map(|b| (b.model_version.as_deref(), b.bin, b.count))
                .collect::<Vec<_>>(),
            [(Some("m1"), 7, 1), (Some("m1"), 8, 1)]
        );
    }
);

both!(counts_and_dead_letters_resent_with_their_keys, |f: Arc<
    Fresh,
>| async move {
    let s = &*f.store;
    for id in ["A", "B", "C"] {
        s.warning_upsert(&warning(RiskEntity::Account, id, "ICBC", 90, 1))
            .await
            .unwrap();
    }
    s.warning_upsert(&warning(RiskEntity::Sim, "138", "CMCC", 60, 1))
        .await
        .unwrap();
    s.feedback_record(&NewFeedback {
        entity: WarnedEntity::new(RiskEntity::Account, "A"),
        version: 1,
        institution_code: "ICBC".into(),
        verdict: Verdict::FalseAlarm,
        note: None,
        at: 2,
        actor: "bank:ops".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        s.warning_status_counts(&Scope::All).await.unwrap(),
        [(WarningStatus::FalseAlarm, 1), (WarningStatus::Open, 3)]
    );
    assert_eq!(
        s.warning_status_counts(&Scope::Institution("CMCC".into()))
            .await
            .unwrap(),
        [(WarningStatus::Open, 1)]
    );
    let inst = s.institution_feedback().await.unwrap();
    assert_eq!(
        inst.iter()
            .map(|r| (
                r.institution_code.as_str(),
                r.warnings,
                r.answered,
                r.false_alarm,
                r.confirmed
            ))
            .collect::<Vec<_>>(),
        [("CMCC", 1, 0, 0, 0), ("ICBC", 3, 1, 1, 0)]
    );

    let t0 = 4_000_000_000_000_000;
    let claimed = s.outbox_claim_due(t0, 10, 1).await.unwrap();
    assert_eq!(claimed.len(), 4);
    s.outbox_delivered(claimed[0].id, t0).await.unwrap();
    for item in &claimed[1..3] {
        assert_eq!(
            s.outbox_failed(item.id, "HTTP 500", t0, 1).await.unwrap(),
            Some(OutboxState::Dead)
        );
    }
    assert_eq!(
        s.outbox_state_counts().await.unwrap(),
        [
            (OutboxState::Dead, 2),
            (OutboxState::Delivered, 1),
            (OutboxState::Pending, 1)
        ]
    );
    assert_eq!(s.outbox_resend_dead(t0 + 5).await.unwrap(), 2);
    assert_eq!(s.outbox_resend_dead(t0 + 6).await.unwrap(), 0);
    let again = s.outbox_claim_due(t0 + 5, 10, 1).await.unwrap();
    let mut keys: Vec<&str> = again.iter().map(|o| o.idempotency_key.as_str()).collect();
    keys.sort();
    let mut want: Vec<&str> = claimed[1..4]
        .iter()
        .map(|o| o.idempotency_key.as_str())
        .collect();
    want.sort();
    assert_eq!(keys, want, "the same keys, and the pending one");
    assert!(again
        .iter()
        .all(|o| o.attempts == 0 && o.state == OutboxState::Pending));
});

both!(
    false_alarms_by_the_holders_age,
    |f: Arc<Fresh>| async move {
        let s = &*f.store;
        let person = |id: &str, born: Value| {
            row(
                Kind::Persons,
                &[
                    ("person_id", t(id)),
                    ("community_code", t("C1")),
                    ("birth_date", born),
                ],
            )
        };
        store_rows(
            s,
            Kind::Persons,
            vec![
                person("OLD", t("1950-02-03")),
                person("YOUNG", t("2004-06-07")),
                person("NODATE", Value::Null),
            ],
        )
        .await;
        let account = |id: &str, holder: &str| {
            row(
                Kind::Accounts,
                &[
                    ("account_id", t(id)),
                    ("holder_id", t(holder)),
                    ("bank_code", t("ICBC")),
                ],
            )
        };
        store_rows(
            s,
            Kind::Accounts,
            vec![
                account("AO", "OLD"),
                account("AY", "YOUNG"),
                account("AN", "NODATE"),
            ],
        )
        .await;
        store_rows(
            s,
            Kind::Sims,
            vec![row(
                Kind::Sims,
                &[
                    ("msisdn", t("13900000002")),
                    ("holder_id", t("OLD")),
                    ("carrier", t("CMCC")),
                    ("deactivated_at", Value::Null),
                ],
            )],
        )
        .await;
        for (kind, id, inst, verdict) in [
            (RiskEntity::Account, "AO", "ICBC", Verdict::FalseAlarm),
            (RiskEntity::Sim, "13900000002", "CMCC", Verdict::FalseAlarm),
            (RiskEntity::Account, "AY", "ICBC", Verdict::Confirmed),
            (RiskEntity::Account, "AN", "ICBC", Verdict::ActionTaken),
            (RiskEntity::Account, "NOHOLDER", "ICBC", Verdict::FalseAlarm),
        ] {
            s.warning_upsert(&warning(kind, id, inst, 90, 1))
                .await
                .unwrap();
            assert!(s
                .feedback_record(&NewFeedback {
                    entity: WarnedEntity::new(kind, id),
                    version: 1,
                    institution_code: inst.into(),
                    verdict,
                    note: None,
                    at: 2,
                    actor: "ops".into(),
                })
                .await
                .unwrap());
        }
        // The same answers by stored score, for one pattern (all are `mule` here).
        let scored = s.answered_scores("mule").await.unwrap();
        assert_eq!(
            scored
                .iter()
                .map(|a| (a.score, a.verdict, a.count))
                .collect::<Vec<_>>(),
            [
                (90, Verdict::ActionTaken, 1),
                (90, Verdict::Confirmed, 1),
                (90, Verdict::FalseAlarm, 3)
            ]
        );
        assert!(s.answered_scores("runner").await.unwrap().is_empty());
        let rows = s
            .precision(PrecisionBy::AgeGroup { year: 2026 })
            .await
            .unwrap();
        let got: Vec<(&str, u64, u64, u64)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.confirmed, r.false_alarm, r.action_taken))
            .collect();
        assert_eq!(
            got,
            [
                ("60_plus", 0, 2, 0),
                ("under_25", 1, 0, 0),
                ("unknown", 0, 1, 1)
            ]
        );
    }
);
