//! Fanzha's HTTP server: the JSON API under `/api/v1`, its OpenAPI document at
//! `/api/openapi.json`, `/healthz` and `/metrics`.
//!
//! Only this crate speaks HTTP and carries `utoipa`; it reads through the
//! [`fanzha_store::Store`] trait and masks personal data with [`fanzha_core::mask`] before
//! it leaves. [`Application`] is exactly what `fanzha serve` runs and what the tests start
//! on port 0 with a fresh store.

mod api;
pub mod audit;
pub mod auth;
pub mod cache;
mod console;
pub mod error;
pub mod handle;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod policy;
pub mod ratelimit;
pub mod service;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use fanzha_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi as _;

use crate::error::{ApiError, Code};
use crate::metrics::Metrics;

pub use api::ApiDoc;

/// The largest request body accepted. The API takes small JSON documents; files arrive
/// through ingest, not HTTP.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The live risk state behind `/api/v1/decisions/*` (see [`live`]).
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// A directory of rule files (`*.toml`) polled for changes; `None` scores with the
    /// built-in rules (the repository's `rules/`) and never reloads. It must load at start.
    pub rules_dir: Option<std::path::PathBuf>,
    /// How often new events are read from the store and the rule directory checked.
    pub tail_every: std::time::Duration,
    /// The feature thresholds (the batch run's defaults unless configured).
    pub features: fanzha_risk::FeatureConfig,
    /// How often the store's row counts are compared with what the tail has read; rows
    /// stored behind its position (a late file of older events) trigger a rebuild.
    pub late_check_every: std::time::Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            rules_dir: None,
            tail_every: std::time::Duration::from_secs(2),
            features: fanzha_risk::FeatureConfig::default(),
            late_check_every: std::time::Duration::from_secs(300),
        }
    }
}

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (see [`Application::port`]).
    pub listen: SocketAddr,
    /// The store: a SQLite file path or a `postgres://` URL, as `--db` takes it.
    pub db: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("opening the store {target}")]
    Store {
        target: String,
        #[source]
        source: fanzha_store::StoreError,
    },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the risk rules do not load: {0}")]
    Rules(#[source] fanzha_risk::rules::LoadError),
    #[error("cannot install the Ctrl-C/SIGTERM handlers")]
    Signals(#[source] std::io::Error),
    #[error("the server stopped")]
    Serve(#[source] std::io::Error),
}

/// What every handler and console page shares; the [`service`] functions take it.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// Rendered once: the document is a function of the code.
    pub openapi: axum::body::Bytes,
    pub logins: Arc<ratelimit::LoginLimiter>,
    /// Seals entity ids into the opaque handles every view carries.
    pub handles: Arc<handle::Handles>,
    /// Every audit entry the server writes goes through here (grouped commits).
    pub audit: audit::AuditWriter,
    /// The dashboard's figures per (scope, window in days), shared by everyone in that scope.
    pub figures: Arc<cache::Refreshing<(fanzha_store::Scope, u32), service::DashboardView>>,
    /// The live risk state real-time decisions read (its writer runs in [`live`]).
    pub live: Arc<fanzha_risk::live::LiveRisk>,
    /// Institutions' API keys recently checked against the store (see [`auth::KeyCache`]).
    pub keys: Arc<auth::KeyCache>,
    /// The ledger fund tracing reads, kept loaded (see [`ledger`]).
    pub ledger: Arc<ledger::Ledger>,
}

/// The server, bound and ready to run.
pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    store: Arc<dyn Store>,
    router: Router,
    stop: StopSignals,
    live: Option<live::LiveTask>,
    ledger: Arc<ledger::Ledger>,
}

impl Application {
    /// Opens (and migrates) the store and binds the listener; requests are served from
    /// [`Application::run_until_stopped`] on.
    pub async fn build(settings: Settings) -> Result<Application, ServerError> {
        Self::build_with(settings, LiveSettings::default()).await
    }

    /// [`Application::build`] with the live risk state configured.
    pub async fn build_with(
        settings: Settings,
        live_settings: LiveSettings,
    ) -> Result<Application, ServerError> {
        let store =
            fanzha_store::open(&settings.db)
                .await
                .map_err(|source| ServerError::Store {
                    target: fanzha_store::redact_target(&settings.db),
                    source,
                })?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: settings.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: settings.listen,
            source,
        })?;
        let task =
            live::LiveTask::new(Arc::clone(&store), live_settings).map_err(ServerError::Rules)?;
        let ledger = Arc::new(ledger::Ledger::default());
        let router = router(Arc::clone(&store), task.shared(), Arc::clone(&ledger));
        // Installed now, not when serving starts: whoever reads the printed URL may signal
        // at once, and a signal before installation would kill us uncleanly.
        let stop = StopSignals::install().map_err(ServerError::Signals)?;
        Ok(Application {
            listener,
            addr,
            store,
            router,
            stop,
            live: Some(task),
            ledger,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live risk state decisions read (benchmarks wait for it to be ready).
    pub fn live(&self) -> Option<Arc<fanzha_risk::live::LiveRisk>> {
        self.live.as_ref().map(live::LiveTask::shared)
    }

    /// The store the server reads (tests seed it; the CLI audits through it).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(mut self) -> Result<(), ServerError> {
        let stop = std::mem::take(&mut self.stop);
        self.run_until(stop.received()).await
    }

    /// Serves until `stop` completes, then finishes the requests in flight.
    pub async fn run_until(
        mut self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        // Connection info gives handlers the client's address (login limits count by it).
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let detector = tokio::spawn(watch_insiders(Arc::clone(&self.store)));
        let ledger = tokio::spawn(ledger::keep_current(
            Arc::clone(&self.ledger),
            Arc::clone(&self.store),
        ));
        // Warm-up runs beside serving: decisions answer from request signals meanwhile.
        let live = self.live.take().map(|t| tokio::spawn(t.run()));
        // Answers are small and written whole: send them at once rather than let Nagle's
        // algorithm wait for an acknowledgement (which costs a keep-alive client a delayed
        // ACK's worth of latency now and then).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(stop)
            .await
            .map_err(ServerError::Serve);
        detector.abort();
        ledger.abort();
        if let Some(live) = live {
            live.abort();
        }
        served
    }
}

/// How often the insider rules run over the recent audit trail while the server serves.
const INSIDER_PERIOD: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Runs the insider rules at start and then every [`INSIDER_PERIOD`]; new flags alert the
/// auditors through the audit trail and the console's flag badge. A failed round is logged
/// and retried next period: detection must never take the server down.
async fn watch_insiders(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(INSIDER_PERIOD);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match fanzha_insider::run(&*store, auth::now_micros()).await {
            Ok(raised) if !raised.is_empty() => {
                tracing::warn!(
                    flags = raised.len(),
                    "insider rules raised flags for the auditors"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "insider detection round failed"),
        }
    }
}

/// Ctrl-C, or SIGTERM (what service managers and `docker stop` send), registered with the
/// runtime up front. `Default` is "never": what is left once the handlers are taken.
#[derive(Default)]
struct StopSignals {
    #[cfg(unix)]
    handlers: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    #[cfg(unix)]
    fn install() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            handlers: Some((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )),
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<StopSignals> {
        Ok(StopSignals::default())
    }

    #[cfg(unix)]
    async fn received(self) {
        match self.handlers {
            Some((mut int, mut term)) => {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
            }
            None => std::future::pending().await,
        }
    }

    #[cfg(not(unix))]
    async fn received(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The routes and the layers every response passes through.
fn router(
    store: Arc<dyn Store>,
    live: Arc<fanzha_risk::live::LiveRisk>,
    ledger: Arc<ledger::Ledger>,
) -> Router {
    let metrics = Arc::new(Metrics::default());
    let openapi = ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot render the document: {e}\"}}"));
    let state = AppState {
        audit: audit::AuditWriter::spawn(Arc::clone(&store)),
        store,
        metrics: Arc::clone(&metrics),
        openapi: axum::body::Bytes::from(openapi),
        logins: Arc::new(ratelimit::LoginLimiter::default()),
        handles: Arc::new(handle::Handles::new()),
        figures: Arc::new(cache::Refreshing::new(service::FIGURES_TTL)),
        live,
        keys: Arc::new(auth::KeyCache::default()),
        ledger: Arc::clone(&ledger),
    };
    let console = console::router(state.clone());
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    // Layers wrap from the bottom up: security headers outermost, so every response carries
    // them, errors included; the JSON error shape next; then metrics (seeing each route's
    // final status, refusals included); the cross-site check and body limits innermost.
    Router::new()
        .route("/", get(console::home))
        .nest("/console", console)
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/v1/login", post(api::login))
        .route("/api/v1/logout", post(api::logout))
        .route("/api/v1/persons/{person_id}", get(api::get_person))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/entities/{handle}", get(api::profile))
        .route("/api/v1/reveal", post(api::reveal))
        .route("/api/v1/dashboard", get(api::dashboard))
        .route("/api/v1/warnings", get(api::warnings))
        .route("/api/v1/warnings/precision", get(api::warning_precision))
        .route("/api/v1/warnings/{handle}", get(api::warning))
        .route(
            "/api/v1/warnings/{handle}/feedback",
            post(api::warning_feedback),
        )
        .route("/api/v1/warnings/{handle}/appeals", post(api::file_appeal))
        .route("/api/v1/appeals", get(api::appeals))
        .route("/api/v1/appeals/{id}/decision", post(api::decide_appeal))
        .route(
            "/api/v1/governance/thresholds",
            get(api::thresholds).post(api::record_threshold),
        )
        .route("/api/v1/governance/drift", get(api::drift))
        .route("/api/v1/governance/rules", get(api::rules))
        .route("/api/v1/governance/models", get(api::models))
        .route(
            "/api/v1/governance/institutions",
            get(api::institution_feedback),
        )
        .route("/api/v1/admin/operations", get(api::operations))
        .route("/api/v1/admin/outbox/resend-dead", post(api::resend_dead))
        .route("/api/v1/decisions/payment", post(api::decide_payment))
        .route("/api/v1/decisions/call", post(api::decide_call))
        .route("/api/v1/decisions/sms", post(api::decide_sms))
        .route(
            "/api/v1/checks/account-opening",
            post(api::check_account_opening),
        )
        .route(
            "/api/v1/admin/users",
            get(api::list_users).post(api::add_user),
        )
        .route(
            "/api/v1/admin/users/{username}/disable",
            post(api::disable_user),
        )
        .route(
            "/api/v1/admin/users/{username}/enable",
            post(api::enable_user),
        )
        .route("/api/v1/admin/keys", get(api::list_keys).post(api::add_key))
        .route("/api/v1/admin/keys/{id}/revoke", post(api::revoke_key))
        .route("/api/v1/intake", get(api::intake))
        .route("/api/v1/reports", post(api::take_report))
        .route("/api/v1/reports/{report}/trace", get(api::report_trace))
        .route("/api/v1/reports/{report}/stop-plan", post(api::stop_plan))
        .route("/api/v1/cases", get(api::cases).post(api::file_case))
        .route("/api/v1/cases/{case}/freeze-plan", post(api::case_freezes))
        .route("/api/v1/orders", get(api::orders).post(api::draft_order))
        .route("/api/v1/orders/due", get(api::orders_due))
        .route("/api/v1/orders/{id}", get(api::order))
        .route("/api/v1/orders/{id}/steps", post(api::order_step))
        .route("/api/v1/orders/{id}/document", get(api::order_document))
        .route(
            "/api/v1/accounts/{handle}/freezes",
            get(api::account_freezes),
        )
        .route(
            "/api/v1/accounts/{handle}/return-plan",
            get(api::return_plan),
        )
        .route(
            "/api/v1/accounts/{handle}/return-rounds",
            post(api::open_round),
        )
        .route("/api/v1/return-rounds", get(api::return_rounds))
        .route(
            "/api/v1/return-rounds/{id}/decision",
            post(api::decide_return_round),
        )
        .route(
            "/api/v1/return-rounds/{id}/document",
            get(api::round_document),
        )
        .route("/api/v1/returns/ratio", get(api::return_ratio))
        .route("/api/v1/audit", get(api::audit_page))
        .route("/api/v1/audit/verify", get(api::audit_verify))
        .route("/api/v1/audit/flags", get(api::audit_flags))
        .route("/api/v1/audit/flags/{id}/review", post(api::review_flag))
        .fallback(api::route_not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(same_origin_writes))
        .layer(middleware::from_fn_with_state(metrics, metrics::track))
        .layer(middleware::from_fn(json_errors))
        // The console sets its own, stricter policy; everything else gets this one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'"),
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        // Responses carry personal data, masked or not: no cache keeps a copy.
        .layer(header(header::CACHE_CONTROL, "no-store"))
}

/// Refuses state-changing requests a browser sends from another site: the defence against
/// cross-site request forgery that needs no token in the API. The session cookie is already
/// SameSite=Strict; this is the second wall, for browsers or proxies that drop the attribute.
/// Requests without `Origin` (non-browser clients: banks' systems, curl) pass; a browser
/// always sends it on a cross-origin POST.
async fn same_origin_writes(req: Request, next: Next) -> Response {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let foreign_origin = headers.get(header::ORIGIN).is_some_and(|origin| {
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, host)| host);
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        // `Origin: null` (a sandboxed frame, a file) has no host and never matches.
        origin_host.is_none() || origin_host != host
    });
    if cross_site || foreign_origin {
        return ApiError::new(
            Code::CrossSiteRequest,
            "a state-changing request must come from this site",
        )
        .into_response();
    }
    next.run(req).await
}

/// Gives errors produced outside our handlers (a method the route lacks, a body over the
/// limit, a framework rejection) the same JSON shape as ours, keeping their status. The
/// console's error pages (HTML) are answers already and pass as they are.
async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let shaped_already = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if shaped_already {
        return res;
    }
    let code = Code::from_status(status);
    let message = status.canonical_reason().unwrap_or("request refused");
    let mut shaped = ApiError::new(code, message).into_response();
    // Keep the framework's status even where our table has a coarser one (e.g. 414).
    *shaped.status_mut() = status;
    if let Some(allow) = res.headers().get(header::ALLOW) {
        shaped.headers_mut().insert(header::ALLOW, allow.clone());
    }
    shaped
}
