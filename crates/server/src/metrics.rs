//! Request metrics in the Prometheus text format: counts by route, method and status, and a
//! latency histogram per route.
//!
//! Hand-rolled rather than a metrics crate: a handful of counters need no registry, and the
//! release build stays light. Routes are labelled by their template (`/api/v1/persons/{person_id}`),
//! never by the raw path, so a person id never lands in a label and scanners hitting random
//! paths add one series (`unmatched`), not one per path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct RouteStats {
    /// (method, status) → requests.
    by_status: BTreeMap<(&'static str, u16), u64>,
    /// Non-cumulative counts per bucket; the last one is +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    sum_seconds: f64,
    count: u64,
}

/// The server's counters. One mutex over a small map: it is held for a few map operations
/// per request, far below the cost of the request itself.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    /// Real-time decisions by kind (payment, call, SMS, account opening) and answer:
    /// counted, not audited one by one (see `api/decisions.rs`).
    decisions: [[AtomicU64; 4]; 4],
}

/// What a counted decision was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    Payment = 0,
    Call = 1,
    Sms = 2,
    AccountOpening = 3,
}

impl DecisionKind {
    const ALL: [DecisionKind; 4] = [
        DecisionKind::Payment,
        DecisionKind::Call,
        DecisionKind::Sms,
        DecisionKind::AccountOpening,
    ];

    fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Payment => "payment",
            DecisionKind::Call => "call",
            DecisionKind::Sms => "sms",
            DecisionKind::AccountOpening => "account_opening",
        }
    }

    /// The answers of this kind, by index.
    fn answers(self) -> [&'static str; 4] {
        match self {
            DecisionKind::AccountOpening => ["allow", "review", "refuse", ""],
            _ => ["allow", "warn", "hold", "block"],
        }
    }
}

impl Metrics {
    /// Counts one decision; `answer` indexes [`DecisionKind::answers`].
    pub fn decision(&self, kind: DecisionKind, answer: usize) {
        if let Some(c) = self.decisions[kind as usize].get(answer) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn record(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        // A poisoned lock only means another request panicked mid-update; counts stay usable.
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = routes.get_mut(route) else {
            return;
        };
        *stats.by_status.entry((method, status)).or_default() += 1;
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        stats.buckets[bucket] += 1;
        stats.sum_seconds += seconds;
        stats.count += 1;
    }

    /// The counters in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP fanzha_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE fanzha_http_requests_total counter\n");
        for (route, stats) in routes.iter() {
            for ((method, status), n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "fanzha_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP fanzha_http_request_duration_seconds Time to answer a request, by route template.\n");
        out.push_str("# TYPE fanzha_http_request_duration_seconds histogram\n");
        for (route, stats) in routes.iter() {
            let route = escape(route);
            let mut cumulative = 0;
            for (i, n) in stats.buckets.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS.get(i).map_or("+Inf".to_owned(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "fanzha_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "fanzha_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "fanzha_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count
            );
        }
        out.push_str("# HELP fanzha_decisions_total Real-time decisions by kind and answer.\n");
        out.push_str("# TYPE fanzha_decisions_total counter\n");
        for kind in DecisionKind::ALL {
            for (i, answer) in kind.answers().iter().enumerate() {
                if answer.is_empty() {
                    continue;
                }
                let n = self.decisions[kind as usize][i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "fanzha_decisions_total{{kind=\"{}\",decision=\"{answer}\"}} {n}",
                    kind.as_str()
                );
            }
        }
        out
    }
}

/// A label value as the text format wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Methods outside the standard set share one label, so a client inventing methods cannot
/// grow the series without bound.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware recording every request's route, status and latency.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    // A clone of the matched path shares its text: no allocation per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let start = Instant::now();
    let res = next.run(req).await;
    metrics.record(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        method,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.record("/healthz", "GET", 200, 0.0005);
        m.record("/healthz", "GET", 200, 0.2);
        m.record("/healthz", "GET", 503, 10.0);
        let text = m.render();
        assert!(text.contains(
            "fanzha_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "fanzha_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"503\"} 1"
        ));
        assert!(text.contains(
            "fanzha_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "fanzha_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.25\"} 2"
        ));
        assert!(text.contains(
            "fanzha_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("fanzha_http_request_duration_seconds_count{route=\"/healthz\"} 3"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
