//! Scoring FIFO traces against ground truth: the simulator's `labels/holdings.csv` is a
//! FIFO replay of the whole ledger by the same conventions, so every (account, report)
//! holding on a district account should match to the fen.
//!
//! The labels follow money through outside accounts, where the product's trace stops (money
//! paid out of the district is an exit): so the engine is scored twice, under the labels'
//! convention ([`Edge::Follow`], which must match to the fen, outside accounts included) and
//! under the product's ([`Edge::Stop`], which differs exactly where money left the district
//! and came back).
//!
//! [`Edge::Follow`]: crate::trace::Edge::Follow
//! [`Edge::Stop`]: crate::trace::Edge::Stop

use std::collections::BTreeMap;

use serde::Serialize;

use crate::graph::Graph;
use crate::trace::Trace;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TraceEval {
    /// Reports traced, and those that could not be (a payment missing from the ledger).
    pub reports: usize,
    pub untraceable: usize,
    /// (account, report) holdings on district accounts in the labels.
    pub expected: usize,
    /// ... of which the trace gives the same amount to the fen.
    pub exact: usize,
    /// ... of which the trace gives another amount, or none.
    pub differ: usize,
    /// Holdings the trace gives that the labels do not have.
    pub extra: usize,
    /// Label holdings on outside accounts: compared only when following them.
    pub outside: usize,
    pub expected_fen: i64,
    /// Σ min(expected, traced) over the expected holdings.
    pub matched_fen: i64,
    /// Reports whose every holding matches.
    pub exact_reports: usize,
    /// The first differences: (account, report, labelled fen, traced fen).
    pub first_differences: Vec<(String, String, i64, i64)>,
}

impl TraceEval {
    pub fn exact_share(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.exact as f64 / self.expected as f64
        }
    }
}

/// `labels`: (account, report, amount_fen) rows of holdings.csv; `traces`: each traced
/// report's FIFO trace; `outside_too`: compare the labels' holdings on outside accounts
/// as well (when the traces followed them).
pub fn evaluate(
    g: &Graph,
    labels: &[(String, String, i64)],
    traces: &[(String, Trace)],
    untraceable: usize,
    outside_too: bool,
) -> TraceEval {
    let mut ev = TraceEval {
        reports: traces.len(),
        untraceable,
        ..TraceEval::default()
    };
    let mut got: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (report, t) in traces {
        for h in &t.holdings {
            got.insert((g.name(h.account), report.as_str()), h.amount_fen);
        }
    }
    let traced: std::collections::HashSet<&str> = traces.iter().map(|(r, _)| r.as_str()).collect();
    let mut bad_reports: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    for (account, report, amount) in labels {
        if !traced.contains(report.as_str()) {
            continue;
        }
        if !g.account(account).is_some_and(|a| g.is_inside(a)) {
            ev.outside += 1;
            if !outside_too {
                continue;
            }
        }
        ev.expected += 1;
        ev.expected_fen += amount;
        seen.insert((account.as_str(), report.as_str()));
        let t = got
            .get(&(account.as_str(), report.as_str()))
            .copied()
            .unwrap_or(0);
        ev.matched_fen += t.min(*amount);
        if t == *amount {
            ev.exact += 1;
        } else {
            ev.differ += 1;
            bad_reports.insert(report.as_str());
            if ev.first_differences.len() < 20 {
                ev.first_differences
                    .push((account.clone(), report.clone(), *amount, t));
            }
        }
    }
    for (key, &fen) in &got {
        if !seen.contains(key) {
            ev.extra += 1;
            bad_reports.insert(key.1);
            if ev.first_differences.len() < 20 {
                ev.first_differences
                    .push((key.0.to_owned(), key.1.to_owned(), 0, fen));
            }
        }
    }
    ev.exact_reports = traced.len() - bad_reports.len();
    ev
}
