//! Cases and orders (issue 6) on both backends. PostgreSQL uses `FANZHA_TEST_PG` and fails,
//! never skips, when it is unreachable.

use std::sync::Arc;

use fanzha_store::{NewCase, NewOrder, NewRound, OrderChange, OrderFilter, Scope, Store};

async fn cases_and_orders_round_trip_and_moves_are_compare_and_set(store: Arc<dyn Store>) {
    let case = NewCase {
        case_id: "C2026-0001".into(),
        filing_no: "立〔2026〕1号".into(),
        filed_at: 1_000,
        major: true,
        report_ids: vec!["R1".into(), "R2".into()],
        filed_by: "cli:wang".into(),
        created_at: 1_001,
    };
    assert!(store.case_file(&case).await.unwrap());
    assert!(!store.case_file(&case).await.unwrap(), "filed once");
    assert_eq!(
        store.case_get("C2026-0001").await.unwrap(),
        Some(case.clone())
    );
    assert_eq!(store.cases().await.unwrap(), [case]);
    assert_eq!(store.case_get("nope").await.unwrap(), None);

    let order = NewOrder {
        kind: "freeze".into(),
        account_id: "6217000000000000001".into(),
        report_id: Some("R1".into()),
        case_id: Some("C2026-0001".into()),
        amount_fen: 123_456,
        basis: "traced_holding".into(),
        reason: None,
        level: "prefecture".into(),
        created_by: "cli:wang".into(),
        created_at: 2_000,
        round_id: None,
    };
    let id = store.order_add(&order).await.unwrap();
    let other = store
        .order_add(&NewOrder {
            account_id: "6217000000000000002".into(),
            ..order.clone()
        })
        .await
        .unwrap();
    assert_ne!(id, other);
    let got = store
        .orders(&Scope::All, &OrderFilter::id(id))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].new.clone(), got[0].status.as_str()),
        (order.clone(), "draft")
    );
    let on = store
        .orders(&Scope::All, &OrderFilter::account("6217000000000000001"))
        .await
        .unwrap();
    assert_eq!(on.iter().map(|o| o.id).collect::<Vec<_>>(), [id]);

    let approve = OrderChange {
        status: "approved".into(),
        document_no: Some(format!("冻结〔2026〕{id}号")),
        approved_by: Some("cli:li".into()),
        approved_at: Some(3_000),
        at: 3_000,
        ..OrderChange::default()
    };
    assert!(store.order_change(id, "draft", &approve).await.unwrap());
    assert!(
        !store.order_change(id, "draft", &approve).await.unwrap(),
        "a change against a status that moved on is refused"
    );
    assert!(!store
        .order_change(999_999, "draft", &approve)
        .await
        .unwrap());
    let o = &store
        .orders(&Scope::All, &OrderFilter::id(id))
        .await
        .unwrap()[0];
    assert_eq!(o.status, "approved");
    assert_eq!(
        o.document_no.as_deref(),
        Some(format!("冻结〔2026〕{id}号").as_str())
    );
    assert_eq!(
        (o.approved_at, o.updated_at, o.held_fen),
        (Some(3_000), 3_000, None)
    );
    let all = OrderFilter::default();
    assert_eq!(store.orders(&Scope::All, &all).await.unwrap().len(), 2);
    let in_case = store
        .orders(&Scope::All, &OrderFilter::case("C2026-0001"))
        .await
        .unwrap();
    assert_eq!(
        in_case.iter().map(|o| o.id).collect::<Vec<_>>(),
        [id, other]
    );
    let approved = OrderFilter {
        status: Some("approved".into()),
        ..OrderFilter::default()
    };
    let got = store.orders(&Scope::All, &approved).await.unwrap();
    assert_eq!(got.iter().map(|o| o.id).collect::<Vec<_>>(), [id]);
    // A bank sees orders on its own stored accounts only: these accounts are not stored.
    let bank = Scope::Institution("ICBC".into());
    assert!(store.orders(&bank, &all).await.unwrap().is_empty());
    // A screening is recorded on the order, its status unchanged.
    let screened = OrderChange {
        status: "approved".into(),
        disposed_at: Some(7_000),
        disposition: Some(r#"{"finding":"related"}"#.into()),
        at: 7_000,
        ..OrderChange::default()
    };
    assert!(store.order_change(id, "approved", &screened).await.unwrap());
    let o = &store
        .orders(&Scope::All, &OrderFilter::id(id))
        .await
        .unwrap()[0];
    assert_eq!(
        (o.status.as_str(), o.disposed_at, o.disposition.as_deref()),
        ("approved", Some(7_000), Some(r#"{"finding":"related"}"#))
    );
    // Return rounds: one per (account, round); decided once.
    let round = NewRound {
        account_id: "6217000000000000001".into(),
        case_id: "C2026-0001".into(),
        round: 1,
        funds_fen: 99_000,
        plan: r#"[{"report":"R1","amount_fen":99000,"basis":"intact"}]"#.into(),
        status: "noticed".into(),
        opened_by: "cli:wang".into(),
        opened_at: 4_000,
        objections_until: 5_000,
    };
    let rid = store.round_open(&round).await.unwrap().expect("opened");
    assert_eq!(
        store.round_open(&round).await.unwrap(),
        None,
        "round 1 once"
    );
    let ret = store
        .order_add(&NewOrder {
            kind: "return".into(),
            round_id: Some(rid),
            ..order.clone()
        })
        .await
        .unwrap();
    let got = &store
        .orders(&Scope::All, &OrderFilter::id(ret))
        .await
        .unwrap()[0];
    assert_eq!(got.new.round_id, Some(rid));
    assert!(store
        .round_decide(rid, "cli:li", 6_000, "返还〔2026〕1号")
        .await
        .unwrap());
    assert!(
        !store.round_decide(rid, "cli:li", 6_001, "x").await.unwrap(),
        "decided once"
    );
    let rounds = store.rounds(Some("6217000000000000001")).await.unwrap();
    assert_eq!(rounds.len(), 1);
    assert_eq!(rounds[0].new.status, "decided");
    assert_eq!(
        (rounds[0].decided_at, rounds[0].decision_no.as_deref()),
        (Some(6_000), Some("返还〔2026〕1号"))
    );
    assert_eq!(rounds[0].new.plan, round.plan);
    assert!(store.rounds(Some("other")).await.unwrap().is_empty());
    let bad = NewOrder {
        reason: Some("nul\0".into()),
        ..order
    };
    assert!(
        store.order_add(&bad).await.is_err(),
        "a NUL is refused, not stored cut short"
    );
}

#[tokio::test]
async fn sqlite_cases_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let store = fanzha_store::open(dir.path().join("o.db").to_str().unwrap())
        .await
        .unwrap();
    cases_and_orders_round_trip_and_moves_are_compare_and_set(store).await;
}

#[tokio::test]
async fn postgres_cases_and_orders() {
    let store = fanzha_store::testing::fresh_pg_store("or").await;
    cases_and_orders_round_trip_and_moves_are_compare_and_set(store).await;
}
