//! The live state over a real (SQLite) store: replay, then a tail that picks up events stored
//! later and republishes the touched accounts; and rule reloads that refuse a broken file.

// Amounts are written as yuan_fen (`1_000_00` is 1,000 yuan).
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_risk::live::{LiveWriter, Space};
use fanzha_risk::{FeatureConfig, Reloader, RuleSet};
use fanzha_store::{Batch, Item, Origin, Store};

/// 2026-03-10T10:00:00+08:00.
const T0: i64 = 1_773_108_000_000_000;
const MIN: i64 = 60_000_000;
const DAY: i64 = 24 * 60 * MIN;

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

async fn write(store: &dyn Store, kind: Kind, rows: Vec<Vec<Value>>) {
    let mut batch = Batch::new(kind);
    for (i, values) in rows.into_iter().enumerate() {
        batch.items.push(Item {
            row: Row {
                values,
                extra: None,
            },
            origin: Origin {
                file: format!("{}.csv", kind.as_str()).into(),
                line: i as u64 + 2,
                original: Vec::new(),
            },
        });
    }
    let outcome = store.write_batch(batch).await.unwrap();
    assert_eq!(outcome.rejected, 0, "{kind:?}: {outcome:?}");
}

fn account(id: &str, holder: &str) -> Vec<Value> {
    vec![
        text(id),
        text("ICBC"),
        text(holder),
        Value::Int(T0 - 2 * DAY),
        text("II"),
        text("active"),
    ]
}

fn transfer(id: &str, ts: i64, from: &str, to: &str, fen: i64) -> Vec<Value> {
    vec![
        text(id),
        Value::Int(ts),
        text(from),
        text(to),
        Value::Int(fen),
        text("transfer"),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        text("card"),
        text("card"),
    ]
}

async fn store_in(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    fanzha_store::open(dir.path().join("risk.db").to_str().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn events_stored_after_the_replay_are_tailed_and_published() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    write(
        &*store,
        Kind::Accounts,
        vec![account("MULE", "p-mule"), account("BOSS", "p-boss")],
    )
    .await;
    let mut writer = LiveWriter::new(
        Arc::new(RuleSet::builtin().unwrap()),
        FeatureConfig::default(),
    );
    let live = writer.shared();
    assert_eq!(writer.catch_up(&*store, usize::MAX).await.unwrap(), 2);
    writer.mark_ready();
    assert!(live.is_ready());
    let clean = live.get(Space::Account, "MULE").expect("known once opened");
    assert_eq!(clean.score, 0.0);
    assert!(clean.level.is_none());
    assert!(live.get(Space::Account, "NOBODY").is_none());

    // Twelve payers pay the mule 1,000 yuan each within an hour; it forwards nearly all
    // of it to one account in three quick transfers.
    let mut rows = Vec::new();
    for i in 0..12 {
        rows.push(transfer(
            &format!("IN{i:02}"),
            T0 + i * 3 * MIN,
            &format!("VICTIM{i:02}"),
            "MULE",
            1_000_00,
        ));
    }
    for i in 0..3 {
        rows.push(transfer(
            &format!("OUT{i}"),
            T0 + 40 * MIN + i * MIN,
            "MULE",
            "BOSS",
            3_900_00,
        ));
    }
    write(&*store, Kind::Transactions, rows).await;
    assert_eq!(writer.catch_up(&*store, usize::MAX).await.unwrap(), 15);
    let risk = live.get(Space::Account, "MULE").unwrap();
    assert!(risk.score > 0.0, "{risk:?}");
    assert!(risk.level.is_some(), "{risk:?}");
    assert!(risk.pattern.is_some());
    assert!(!risk.reasons.is_empty());
    assert!(
        live.get(Space::Account, "VICTIM03").is_some(),
        "payers are known now"
    );
    assert_eq!(live.watermark(), Some(T0 + 42 * MIN));
    assert_eq!(live.events(), 17);
    // Nothing new: nothing applied, nothing changed.
    assert_eq!(writer.catch_up(&*store, usize::MAX).await.unwrap(), 0);
    let again = live.get(Space::Account, "MULE").unwrap();
    assert_eq!(again.score, risk.score);
}

#[tokio::test]
async fn a_rule_file_with_an_error_keeps_the_previous_set() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    for f in ["accounts.toml", "numbers.toml"] {
        std::fs::copy(repo.join(f), rules.join(f)).unwrap();
    }
    let mut writer = LiveWriter::new(
        Arc::new(RuleSet::builtin().unwrap()),
        FeatureConfig::default(),
    )
    .watching(Reloader::open(&rules).unwrap());
    let live = writer.shared();
    let before = live.rules_version();
    assert!(!writer.poll_rules().unwrap(), "nothing changed yet");

    // A broken expression: refused with its line and column, the set stays.
    let accounts = std::fs::read_to_string(rules.join("accounts.toml")).unwrap();
    let broken = accounts.replacen("expr = \"", "expr = \"in_yuan_24h >= && ", 1);
    std::fs::write(rules.join("accounts.toml"), &broken).unwrap();
    let err = writer.poll_rules().unwrap_err();
    assert!(err.position().is_some(), "{err}");
    assert!(err.to_string().contains("accounts.toml:"), "{err}");
    assert_eq!(live.rules_version(), before);

    // A good change is taken, and the version says so.
    let bumped = accounts.replacen("version = \"", "version = \"9-", 1);
    std::fs::write(rules.join("accounts.toml"), &bumped).unwrap();
    assert!(writer.poll_rules().unwrap());
    assert_ne!(live.rules_version(), before);
    assert!(live.rules_version().contains("accounts.toml@9-"));
}

#[tokio::test]
async fn stored_warnings_count_while_they_stand() {
    use fanzha_store::{
        Measure, NewWarning, ReasonSource, RiskEntity, Score, WarnedEntity, WarningLevel,
        WarningReason,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    write(&*store, Kind::Accounts, vec![account("BOSS", "p-boss")]).await;
    let mut writer = LiveWriter::new(
        Arc::new(RuleSet::builtin().unwrap()),
        FeatureConfig::default(),
    );
    let live = writer.shared();
    writer.catch_up(&*store, usize::MAX).await.unwrap();
    let warning = |id: &str| NewWarning {
        entity: WarnedEntity::new(RiskEntity::Account, id),
        institution_code: "ICBC".to_owned(),
        score: Score::new(91).unwrap(),
        level: WarningLevel::Red,
        pattern: "mule".to_owned(),
        reasons: vec![WarningReason {
            code: "ACC-PASS-24H".to_owned(),
            source: ReasonSource::Rule,
            text_zh: "过账".to_owned(),
            text_en: "pass-through".to_owned(),
            contribution: 91.0,
        }],
        measure: Measure::LimitNonCounter,
        model_version: None,
        rules_version: None,
        at: T0,
        first_warned_at: Some(T0),
    };
    for id in ["BOSS", "GHOST"] {
        store.warning_upsert(&warning(id)).await.unwrap();
    }
    assert_eq!(writer.load_warnings(&*store).await.unwrap(), 2);
    for id in ["BOSS", "GHOST"] {
        let r = live.get(Space::Account, id).unwrap();
        assert_eq!(r.score, 91.0);
        assert_eq!(r.reasons[0].code.as_ref(), "ACC-PASS-24H");
    }
    for id in ["BOSS", "GHOST"] {
        let entity = WarnedEntity::new(RiskEntity::Account, id);
        store.warning_withdraw(&entity, T0 + DAY).await.unwrap();
    }
    assert_eq!(writer.load_warnings(&*store).await.unwrap(), 0);
    assert_eq!(live.get(Space::Account, "BOSS").unwrap().score, 0.0);
    assert!(live.get(Space::Account, "GHOST").is_none());
}

#[tokio::test]
async fn rows_stored_behind_the_tail_are_found_and_a_rebuild_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    write(
        &*store,
        Kind::Accounts,
        vec![account("A", "p-a"), account("B", "p-b")],
    )
    .await;
    write(
        &*store,
        Kind::Transactions,
        vec![transfer("T1", T0 + 60 * MIN, "A", "B", 100_00)],
    )
    .await;
    let new_writer = || {
        LiveWriter::new(
            Arc::new(RuleSet::builtin().unwrap()),
            FeatureConfig::default(),
        )
    };
    let mut writer = new_writer();
    let live = writer.shared();
    writer.catch_up(&*store, usize::MAX).await.unwrap();
    writer.mark_ready();
    let counts = store.counts().await.unwrap();
    assert_eq!(writer.missed_rows(&counts), 0);

    // A late file: a transfer an hour before the tail's position, from an unseen account.
    write(
        &*store,
        Kind::Transactions,
        vec![transfer("T0", T0, "LATE", "A", 50_00)],
    )
    .await;
    let counts = store.counts().await.unwrap();
    assert_eq!(writer.catch_up(&*store, usize::MAX).await.unwrap(), 0);
    assert_eq!(writer.missed_rows(&counts), 1);
    assert!(live.get(Space::Account, "LATE").is_none());

    let mut fresh = new_writer();
    fresh.catch_up(&*store, usize::MAX).await.unwrap();
    writer.replace_with(fresh);
    // The handlers' read side is the same one, now with the late row, still ready.
    assert!(live.get(Space::Account, "LATE").is_some());
    assert!(live.is_ready());
    assert_eq!(live.events(), 4);
    let counts = store.counts().await.unwrap();
    assert_eq!(writer.missed_rows(&counts), 0);
    // And the tail goes on from the fresh position.
    write(
        &*store,
        Kind::Transactions,
        vec![transfer("T2", T0 + 90 * MIN, "B", "NEWCOMER", 10_00)],
    )
    .await;
    assert_eq!(writer.catch_up(&*store, usize::MAX).await.unwrap(), 1);
    assert!(live.get(Space::Account, "NEWCOMER").is_some());
}
