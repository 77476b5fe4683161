//! An institution's webhook for the tests and the benchmark: an axum server on 127.0.0.1 that
//! checks the signature, is slow, fails a share of requests at random, and applies each
//! idempotency key once (a repeat gets 200 and changes nothing), as a receiver should.
//!
//! Of the injected failures, half answer 500 before applying and half apply, then answer
//! 503: the second kind is an acknowledgement lost after the receiver committed, the case
//! the idempotency key exists for.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use fanzha_deliver::sign;
use rand::Rng as _;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Each request waits a uniform time in this range before it is answered.
    pub delay: (Duration, Duration),
    /// Share of requests failed on purpose (0.0–1.0).
    pub fail_rate: f64,
    pub seed: u64,
    /// Answer every request with this status instead (after the signature check).
    pub always: Option<u16>,
    /// After this many keys are applied, requests that apply a new key hang (after
    /// applying) until [`Receiver::release`]: a worker killed then leaves applied but
    /// unacknowledged deliveries behind.
    pub hang_after: Option<usize>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            delay: (Duration::ZERO, Duration::ZERO),
            fail_rate: 0.0,
            seed: 1,
            always: None,
            hang_after: None,
        }
    }
}

/// What the receiver saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub requests: u64,
    pub bad_signatures: u64,
    /// Requests failed on purpose.
    pub injected: u64,
    /// Requests whose key was already applied: answered 200, applied nothing.
    pub repeats: u64,
    /// Time spent in the injected delays, summed over requests.
    pub slept: Duration,
    /// Times each idempotency key was applied (the receiver's own check, so at most 1).
    pub applied: HashMap<String, u32>,
    /// Times each warning version (entity type, entity id, version) was applied, whatever
    /// key it came under: more than 1 would mean the sender changed a version's key.
    pub versions: BTreeMap<(String, String, i64), u32>,
    /// Institution code of each applied key's route.
    pub routes: HashMap<String, String>,
}

struct Shared {
    secrets: HashMap<String, Vec<u8>>,
    behaviour: Behaviour,
    rng: Mutex<ChaCha8Rng>,
    seen: Mutex<Seen>,
    released: watch::Sender<bool>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Serves `POST /hook/{institution}` for each `(institution, secret)`.
    pub async fn start(secrets: &[(&str, &str)], behaviour: Behaviour) -> Receiver {
        let shared = Arc::new(Shared {
            secrets: secrets
                .iter()
                .map(|(code, s)| ((*code).to_owned(), s.as_bytes().to_vec()))
                .collect(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(behaviour.seed)),
            behaviour,
            seen: Mutex::new(Seen::default()),
            released: watch::channel(false).0,
        });
        let app = Router::new()
            .route("/hook/{institution}", post(hook))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            addr,
            shared,
            server,
        }
    }

    pub fn url(&self, institution: &str) -> String {
        format!("http://{}/hook/{institution}", self.addr)
    }

    pub fn seen(&self) -> Seen {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Lets hung requests answer, and no new one hang.
    pub fn release(&self) {
        self.shared.released.send_replace(true);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn hook(
    State(sh): State<Arc<Shared>>,
    Path(institution): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    sh.seen.lock().unwrap().requests += 1;
    let Some(secret) = sh.secrets.get(&institution) else {
        return StatusCode::NOT_FOUND;
    };
    let signed = sign::verify(
        secret,
        header(sign::TIMESTAMP_HEADER),
        &body,
        header(sign::SIGNATURE_HEADER),
    );
    if !signed || header("content-type") != "application/json" {
        sh.seen.lock().unwrap().bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let key = header(sign::IDEMPOTENCY_HEADER).to_owned();
    if payload["idempotency_key"].as_str() != Some(key.as_str()) {
        return StatusCode::BAD_REQUEST;
    }
    let b = &sh.behaviour;
    let (wait, roll) = {
        let mut rng = sh.rng.lock().unwrap();
        let (lo, hi) = b.delay;
        let wait = if hi > lo { rng.gen_range(lo..=hi) } else { lo };
        (wait, rng.gen::<f64>())
    };
    if !wait.is_zero() {
        sh.seen.lock().unwrap().slept += wait;
        tokio::time::sleep(wait).await;
    }
    if let Some(code) = b.always {
        return StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    if roll < b.fail_rate / 2.0 {
        sh.seen.lock().unwrap().injected += 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let applied_now = {
        let mut seen = sh.seen.lock().unwrap();
        if seen.applied.contains_key(&key) {
            seen.repeats += 1;
            return StatusCode::OK;
        }
        seen.applied.insert(key.clone(), 1);
        seen.routes.insert(key.clone(), institution.clone());
        let version = (
            payload["entity_type"].as_str().unwrap_or("").to_owned(),
            payload["entity_id"].as_str().unwrap_or("").to_owned(),
            payload["version"].as_i64().unwrap_or(-1),
        );
        *seen.versions.entry(version).or_default() += 1;
        seen.applied.len()
    };
    if roll < b.fail_rate {
        sh.seen.lock().unwrap().injected += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if b.hang_after.is_some_and(|n| applied_now > n) {
        let mut released = sh.released.subscribe();
        let _ = released.wait_for(|r| *r).await;
    }
    StatusCode::OK
}
