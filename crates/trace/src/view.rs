//! Results as the documents the CLI prints and the API returns: identifiers resolved, times
//! in RFC 3339 at Asia/Shanghai, amounts in fen (the interchange format's unit).

use fanzha_core::time::Instant;
use serde::Serialize;

use crate::graph::{Graph, TxIx, NO_ACCOUNT};
use crate::trace::Trace;

#[derive(Debug, Clone, Serialize)]
pub struct TraceDoc {
    pub report: String,
    pub rule: &'static str,
    pub as_of: String,
    /// The victim's money the payments brought in; for every rule but poison it equals
    /// `held_fen` + `exited_fen`.
    pub paid_fen: i64,
    pub held_fen: i64,
    pub exited_fen: i64,
    pub holdings: Vec<HoldingDoc>,
    pub exits: Vec<ExitDoc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldingDoc {
    pub account: String,
    pub amount_fen: i64,
    pub paths: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExitDoc {
    pub account: String,
    pub kind: &'static str,
    pub amount_fen: i64,
    pub tx_id: String,
    /// The payee where there is one (an outside account, a merchant, a desk).
    pub to: Option<String>,
    pub paths: Vec<Vec<String>>,
}

/// RFC 3339 at Asia/Shanghai, as every time the product shows.
pub fn shown_time(micros: i64) -> String {
    Instant::from_micros(micros).map_or_else(|| micros.to_string(), |t| t.to_rfc3339_shanghai())
}

fn paths(g: &Graph, paths: &[Vec<TxIx>]) -> Vec<Vec<String>> {
    paths
        .iter()
        .map(|p| p.iter().map(|&i| g.tx_id(i).to_owned()).collect())
        .collect()
}

impl TraceDoc {
    pub fn new(g: &Graph, report: &str, t: &Trace) -> TraceDoc {
        TraceDoc {
            report: report.to_owned(),
            rule: t.rule.as_str(),
            as_of: shown_time(t.as_of),
            paid_fen: t.paid_fen,
            held_fen: t.held_fen(),
            exited_fen: t.exited_fen(),
            holdings: t
                .holdings
                .iter()
                .map(|h| HoldingDoc {
                    account: g.name(h.account).to_owned(),
                    amount_fen: h.amount_fen,
                    paths: paths(g, &h.paths),
                })
                .collect(),
            exits: t
                .exits
                .iter()
                .map(|e| ExitDoc {
                    account: g.name(e.account).to_owned(),
                    kind: e.kind.as_str(),
                    amount_fen: e.amount_fen,
                    tx_id: g.tx_id(e.tx).to_owned(),
                    to: (e.to != NO_ACCOUNT).then(|| g.name(e.to).to_owned()),
                    paths: paths(g, &e.paths),
                })
                .collect(),
        }
    }
}
