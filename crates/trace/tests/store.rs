//! Tracing over a simulated district loaded into each backend: the FIFO holdings match the
//! simulator's own FIFO replay (labels/holdings.csv) to the fen, and the in-memory reach
//! matches the store's recursive query account for account. PostgreSQL uses
//! `FANZHA_TEST_PG` and fails, never skips, when it is unreachable.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use fanzha_ingest::IngestOptions;
use fanzha_store::{Scope, Store};
use fanzha_trace::load::{self, PAGE};
use fanzha_trace::{reach_within, trace, trace_with, Edge, Rule};

/// Simulates a small district once per test process.
fn district() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cfg =
            fanzha_sim::Config::new(21, fanzha_sim::Scale::Small, fanzha_sim::Profile::Default);
        fanzha_sim::run(&cfg, dir.path()).unwrap();
        dir
    })
    .path()
}

async fn load_district(store: &Arc<dyn Store>) {
    for kind in load::KINDS {
        let path = district().join(format!("{kind}.csv"));
        let r = fanzha_ingest::ingest_file(store, &path, &IngestOptions::default())
            .await
            .unwrap();
        assert_eq!(r.rejected, 0, "{kind}");
    }
}

fn labelled_holdings() -> Vec<(String, String, i64)> {
    let mut r = csv::Reader::from_path(district().join("labels/holdings.csv")).unwrap();
    r.deserialize().map(|x| x.unwrap()).collect()
}

async fn traces_match_the_labels_and_the_query(store: Arc<dyn Store>) {
    load_district(&store).await;
    let g = load::graph(&*store, PAGE, &mut |_| {}).await.unwrap();
    let reports = store.report_payments(&Scope::All, None).await.unwrap();
    assert!(reports.len() >= 5, "the district has reports to trace");
    let as_of = g.latest().unwrap();
    let mut traces = Vec::new();
    for rep in &reports {
        let pays = load::payments(&g, rep).unwrap();
        let t = trace(&g, &pays, Rule::Fifo, as_of);
        assert_eq!(
            t.held_fen() + t.exited_fen(),
            t.paid_fen,
            "{}",
            rep.report_id
        );
        traces.push((rep.report_id.clone(), t));

        let mut want: Vec<String> = store
            .reach_by_query(&rep.report_id, as_of, 4)
            .await
            .unwrap();
        want.sort();
        let got: BTreeSet<&str> = reach_within(&g, &pays, as_of, 4)
            .into_iter()
            .map(|a| g.name(a))
            .collect();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            want,
            "reach of {}",
            rep.report_id
        );
    }
    // The product stops at outside accounts; on this district no money came back in, so the
    // holdings on district accounts match the labels exactly.
    let ev = fanzha_trace::eval::evaluate(&g, &labelled_holdings(), &traces, 0, false);
    assert!(
        ev.expected > 0,
        "the labels hold money on district accounts"
    );
    assert_eq!(
        (ev.exact, ev.differ, ev.extra),
        (ev.expected, 0, 0),
        "{ev:?}"
    );

    // Following outside accounts as the labels do, and every payment the victim made (a
    // report may name fewer), every holding matches, theirs included.
    let mut victims = csv::Reader::from_path(district().join("labels/victims.csv")).unwrap();
    let mut following = Vec::new();
    for rec in victims.records() {
        let rec = rec.unwrap();
        if rec[0].is_empty() {
            continue;
        }
        let ids: Vec<String> = rec[6].split('|').map(str::to_owned).collect();
        let pays: Vec<_> = store
            .transfers_by_id(&ids)
            .await
            .unwrap()
            .iter()
            .map(|t| g.find(t.ts, &t.tx_id).unwrap())
            .collect();
        let t = trace_with(&g, &pays, Rule::Fifo, as_of, Edge::Follow);
        following.push((rec[0].to_owned(), t));
    }
    let ev = fanzha_trace::eval::evaluate(&g, &labelled_holdings(), &following, 0, true);
    assert!(ev.outside > 0, "the labels hold money on outside accounts");
    assert_eq!(
        (ev.exact, ev.differ, ev.extra),
        (ev.expected, 0, 0),
        "{ev:?}"
    );
}

#[tokio::test]
async fn sqlite_traces_match() {
    let dir = tempfile::tempdir().unwrap();
    let store = fanzha_store::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    traces_match_the_labels_and_the_query(store).await;
}

#[tokio::test]
async fn postgres_traces_match() {
    let store = fanzha_store::testing::fresh_pg_store("tr").await;
    traces_match_the_labels_and_the_query(store).await;
}
