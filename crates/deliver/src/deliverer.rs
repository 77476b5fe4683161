//! The worker: lease due rows, post them, record what happened.
//!
//! What an answer means:
//! - **2xx**: delivered.
//! - **408, 429, 5xx**, a timeout or a connection error: the receiver may take it later;
//!   retried after the [`Backoff`] delay (or the `Retry-After` the receiver asked for, if
//!   longer), dead after `max_attempts` failed attempts.
//! - **Any other 4xx, or a redirect**: the receiver refuses this request as it stands (a bad
//!   signature, an unknown route, a payload it cannot read). Sending it again unchanged
//!   rarely helps, but the cause is often on our side of a fix (a rotated secret, a moved
//!   URL), so it is not dead at once: it goes dead once `rejected_max_attempts` attempts
//!   have been made, which an operator can replay after fixing the configuration.
//!   Redirects are never followed: they would carry a signed warning somewhere the
//!   configuration does not name.
//! - **No webhook configured** for the row's institution: the row stays pending (it is not
//!   the receiver's failure and must not count towards dead), leased again each time it
//!   comes due, and the institution is logged once per worker.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fanzha_core::mask;
use fanzha_store::{OutboxItem, OutboxState, RiskEntity, Store, StoreError, WarnedEntity};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::sign::{self, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::{Config, Endpoint};

/// Bytes of an answer read before the connection is reused: enough for any acknowledgement,
/// too few for a misbehaving receiver to hold the worker.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("the outbox: {0}")]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// What a run did. Rows are counted once per attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Rows leased.
    pub claimed: u64,
    pub delivered: u64,
    /// Failed attempts with a retry scheduled.
    pub retried: u64,
    /// Failed attempts that made the delivery dead.
    pub dead: u64,
    /// Rows left pending because their institution has no webhook configured.
    pub unrouted: u64,
    /// Attempts whose result could not be recorded: the row comes back when its lease ends
    /// and is sent again under the same key.
    pub unrecorded: u64,
    /// Rows leased but not sent: the worker stopped first, or their lease ran out while they
    /// waited for a slot. They come back when the lease ends.
    pub unsent: u64,
    /// Institutions whose rows wait for a webhook, in order.
    pub unrouted_institutions: Vec<String>,
}

impl Report {
    fn add(&mut self, done: Done) {
        match done {
            Done::Delivered => self.delivered += 1,
            Done::Retried => self.retried += 1,
            Done::Dead => self.dead += 1,
            Done::Unrouted => self.unrouted += 1,
            Done::Unrecorded => self.unrecorded += 1,
        }
    }
}

enum Done {
    Delivered,
    Retried,
    Dead,
    Unrouted,
    Unrecorded,
}

/// Posts the outbox's due rows to their institutions' webhooks. Cheap to clone; clones share
/// the HTTP connection pool.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: Config,
    client: reqwest::Client,
    /// Institutions already logged as having no webhook.
    unrouted: Mutex<HashSet<String>>,
}

impl Deliverer {
    pub fn new(store: Arc<dyn Store>, config: Config) -> Result<Deliverer, DeliverError> {
        let s = config.settings();
        let client = reqwest::Client::builder()
            .connect_timeout(s.connect_timeout())
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(s.concurrency().get())
            .user_agent(concat!("fanzha-deliver/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliverError::Client(e.to_string()))?;
        Ok(Deliverer {
            inner: Arc::new(Inner {
                store,
                config,
                client,
                unrouted: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// One pass: delivers what is due, including retries that fall due before the pass ends,
    /// and returns once nothing is due and nothing is in flight.
    pub async fn run_once(&self) -> Result<Report, DeliverError> {
        self.drive(std::future::pending(), true).await
    }

    /// Delivers until `stop` completes, then finishes the requests in flight and returns.
    /// Errors reaching the store are logged and retried after the poll interval: a database
    /// restart does not end the worker.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) -> Result<Report, DeliverError> {
        self.drive(stop, false).await
    }

    async fn drive(
        &self,
        stop: impl Future<Output = ()>,
        once: bool,
    ) -> Result<Report, DeliverError> {
        let s = self.inner.config.settings();
        let concurrency = s.concurrency().get();
        let batch = usize::try_from(s.batch().get()).unwrap_or(usize::MAX);
        // Claim when a quarter of the slots are free: one store round trip per several
        // requests, while the slots never sit empty for long.
        let refill = (concurrency.min(batch) / 4).max(1);
        let lease = micros(s.lease());
        let mut report = Report::default();
        let mut inflight: JoinSet<Done> = JoinSet::new();
        let mut claim_after = Instant::now();
        let mut stopping = false;
        let mut stop = std::pin::pin!(stop);
        // Claimed rows waiting for a slot. A claim asks for no more than the free slots, but
        // a store may return more (PostgreSQL's claim has been seen to lease every due row);
        // those wait here, and are sent only while their lease outlasts a request.
        let mut backlog: VecDeque<OutboxItem> = VecDeque::new();
        loop {
            while inflight.len() < concurrency && !stopping {
                let Some(item) = backlog.pop_front() else {
                    break;
                };
                if self.inner.lease_outlasts_request(&item) {
                    let inner = Arc::clone(&self.inner);
                    inflight.spawn(async move { inner.attempt(item).await });
                } else {
                    report.unsent += 1;
                }
            }
            let room = concurrency.saturating_sub(inflight.len());
            let may_claim = !stopping
                && backlog.is_empty()
                && room > 0
                && (inflight.is_empty() || room >= refill);
            if may_claim && (Instant::now() >= claim_after || (once && inflight.is_empty())) {
                let want = room.min(batch);
                let limit = u32::try_from(want).unwrap_or(u32::MAX);
                match self
                    .inner
                    .store
                    .outbox_claim_due(now_micros(), limit, lease)
                    .await
                {
                    Ok(items) => {
                        // Fewer than asked: nothing more is due now; look again after a poll.
                        claim_after = if items.len() < want {
                            Instant::now() + s.poll()
                        } else {
                            Instant::now()
                        };
                        if items.is_empty() && inflight.is_empty() && once {
                            break;
                        }
                        report.claimed += items.len() as u64;
                        backlog.extend(items);
                        continue;
                    }
                    Err(e) if once => {
                        while let Some(done) = inflight.join_next().await {
                            tally(&mut report, done);
                        }
                        report.unsent += backlog.len() as u64;
                        return Err(e.into());
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim from the outbox; trying again");
                        claim_after = Instant::now() + s.poll();
                    }
                }
            }
            if inflight.is_empty() {
                if stopping {
                    break;
                }
                if !backlog.is_empty() {
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep_until(claim_after) => {}
                    () = &mut stop => stopping = true,
                }
                continue;
            }
            let wake_to_claim = may_claim && claim_after > Instant::now();
            tokio::select! {
                Some(done) = inflight.join_next() => tally(&mut report, done),
                () = &mut stop, if !stopping => stopping = true,
                () = tokio::time::sleep_until(claim_after), if wake_to_claim => {}
            }
        }
        // Leased, never sent: they come back when their lease ends.
        report.unsent += backlog.len() as u64;
        let mut unrouted: Vec<String> = self
            .inner
            .unrouted
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        unrouted.sort();
        report.unrouted_institutions = unrouted;
        Ok(report)
    }
}

fn tally(report: &mut Report, done: Result<Done, tokio::task::JoinError>) {
    match done {
        Ok(done) => report.add(done),
        // A panic in an attempt: its row comes back when the lease ends.
        Err(e) => {
            tracing::error!(error = %e, "a delivery task failed");
            report.unrecorded += 1;
        }
    }
}

/// An attempt's answer, as the outbox records it.
enum Answer {
    Delivered,
    /// Worth retrying; at least `not_before` from now if the receiver said so.
    Retry {
        error: String,
        not_before: Option<Duration>,
    },
    /// Refused by the receiver: dead sooner.
    Rejected {
        error: String,
    },
}

impl Inner {
    /// Whether the row's lease lasts beyond a request to its webhook: if not, another claim
    /// may take it while it is in flight, so it is left to come back instead.
    fn lease_outlasts_request(&self, item: &OutboxItem) -> bool {
        let until = item.leased_until.unwrap_or(item.next_attempt_at);
        let timeout = self
            .config
            .endpoint(&item.institution_code)
            .map_or(0, |e| micros(e.timeout()));
        until.saturating_sub(now_micros()) > timeout
    }

    async fn attempt(&self, item: OutboxItem) -> Done {
        let entity = masked(&item.entity);
        let Some(endpoint) = self.config.endpoint(&item.institution_code) else {
            let first = self
                .unrouted
                .lock()
                .map(|mut set| set.insert(item.institution_code.clone()))
                .unwrap_or(false);
            if first {
                tracing::warn!(
                    institution = %item.institution_code,
                    "no webhook configured for this institution; its warnings stay pending"
                );
            }
            return Done::Unrouted;
        };
        let answer = self.post(endpoint, &item).await;
        let store = &self.store;
        let settings = self.config.settings();
        let recorded = match answer {
            Answer::Delivered => {
                tracing::debug!(institution = %item.institution_code, %entity, version = item.warning_version, "delivered");
                store
                    .outbox_delivered(item.id, now_micros())
                    .await
                    .map(|_| Done::Delivered)
            }
            Answer::Retry { error, not_before } => {
                self.failed(
                    &item,
                    &entity,
                    &error,
                    not_before,
                    settings.max_attempts().get(),
                )
                .await
            }
            Answer::Rejected { error } => {
                let max = settings
                    .rejected_max_attempts()
                    .get()
                    .min(settings.max_attempts().get());
                self.failed(&item, &entity, &error, None, max).await
            }
        };
        recorded.unwrap_or_else(|e| {
            tracing::warn!(
                institution = %item.institution_code, %entity, error = %e,
                "cannot record the attempt; the delivery comes back when its lease ends"
            );
            Done::Unrecorded
        })
    }

    async fn failed(
        &self,
        item: &OutboxItem,
        entity: &str,
        error: &str,
        not_before: Option<Duration>,
        max_attempts: u32,
    ) -> Result<Done, StoreError> {
        let failures = u32::try_from(item.attempts.saturating_add(1)).unwrap_or(u32::MAX);
        let backoff = self.config.settings().backoff();
        let mut delay = backoff.delay(failures, &item.idempotency_key);
        if let Some(asked) = not_before {
            delay = delay.max(asked.min(backoff.cap()));
        }
        let retry_at = now_micros().saturating_add(micros(delay));
        let state = self
            .store
            .outbox_failed(item.id, error, retry_at, max_attempts)
            .await?;
        Ok(match state {
            Some(OutboxState::Dead) => {
                tracing::warn!(
                    institution = %item.institution_code, %entity, version = item.warning_version,
                    attempts = failures, %error, "delivery dead"
                );
                Done::Dead
            }
            _ => {
                tracing::debug!(
                    institution = %item.institution_code, %entity, attempts = failures,
                    %error, retry_in_ms = delay.as_millis() as u64, "delivery failed; will retry"
                );
                Done::Retried
            }
        })
    }

    async fn post(&self, endpoint: &Endpoint, item: &OutboxItem) -> Answer {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string();
        let body = item.payload.as_bytes();
        let signature = sign::signature(endpoint.secret().bytes(), &timestamp, body);
        let request = self
            .client
            .post(endpoint.url().clone())
            .timeout(endpoint.timeout())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, item.idempotency_key.as_str())
            .body(item.payload.clone());
        let mut response = match request.send().await {
            Ok(r) => r,
            // Without the URL: a query string may hold a token of the receiver's.
            Err(e) => {
                return Answer::Retry {
                    error: transport_error(&e),
                    not_before: None,
                }
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers().get(RETRY_AFTER));
        // Read (a bounded amount of) the answer so the connection can be reused.
        let mut read = 0usize;
        while read < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) => break,
                Err(e) if status.is_success() => {
                    // The receiver said 2xx before the body failed: it has the warning.
                    tracing::debug!(error = %transport_error(&e), "reading a 2xx answer");
                    break;
                }
                Err(e) => {
                    return Answer::Retry {
                        error: transport_error(&e),
                        not_before: retry_after,
                    }
                }
            }
        }
        classify(status, retry_after)
    }
}

fn classify(status: StatusCode, retry_after: Option<Duration>) -> Answer {
    let error = format!("HTTP {}", status.as_u16());
    if status.is_success() {
        Answer::Delivered
    } else if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_informational()
    {
        Answer::Retry {
            error,
            not_before: retry_after,
        }
    } else {
        Answer::Rejected { error }
    }
}

/// `Retry-After` in seconds; the HTTP-date form is rare from APIs and ignored.
fn retry_after(v: Option<&HeaderValue>) -> Option<Duration> {
    v?.to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// The error's kind and causes, without the URL reqwest's own message carries (a query
/// string may hold a token of the receiver's), at most 500 characters.
fn transport_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = String::from(if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    });
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    msg.chars().take(500).collect()
}

/// An entity as logs may name it.
fn masked(e: &WarnedEntity) -> String {
    let id = match e.kind {
        RiskEntity::Account => mask::card(&e.id),
        RiskEntity::Sim | RiskEntity::Number => mask::phone(&e.id),
        RiskEntity::Person => mask::id_number(&e.id),
    };
    format!("{}:{id}", e.kind)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(micros)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(a: Answer) -> &'static str {
        match a {
            Answer::Delivered => "delivered",
            Answer::Retry { .. } => "retry",
            Answer::Rejected { .. } => "rejected",
        }
    }

    #[test]
    fn answers_are_classified_as_documented() {
        let cases = [
            (200, "delivered"),
            (204, "delivered"),
            (301, "rejected"),
            (400, "rejected"),
            (401, "rejected"),
            (404, "rejected"),
            (408, "retry"),
            (409, "rejected"),
            (422, "rejected"),
            (429, "retry"),
            (500, "retry"),
            (503, "retry"),
        ];
        for (code, want) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(kind(classify(status, None)), want, "HTTP {code}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(retry_after(Some(&v("120"))), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(Some(&v("Wed, 21 Oct 2015 07:28:00 GMT"))), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn logs_name_entities_masked() {
        let e = WarnedEntity::new(RiskEntity::Account, "6222021234567890128");
        assert_eq!(masked(&e), "account:**** 0128");
        let e = WarnedEntity::new(RiskEntity::Sim, "13812345678");
        assert_eq!(masked(&e), "sim:138****5678");
    }
}
