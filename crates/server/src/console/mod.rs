//! The web console under `/console`: server-rendered pages (askama templates in
//! `crates/server/templates`, one stylesheet in `crates/server/static`), in Chinese by default
//! with an English switch, with no JavaScript and no external URL, so it works on an isolated
//! network under a CSP that allows nothing but this server's stylesheet.
//!
//! Pages read and write only through [`crate::service`], the same layer as the JSON API, so
//! role checks, scoping, masking and auditing live in one place; the console only turns
//! views into HTML. The parts a later capability reuses for its own pages:
//! - [`frame`]: the header and the navigation (add an entry to [`frame::NAV`]);
//! - [`table`]: sortable, filterable, paged tables with CSV export;
//! - [`chart`]: SVG charts drawn on the server;
//! - [`viewer::Viewer`] (who is looking; redirects to the login page) and
//!   [`viewer::Posted`] (a form whose CSRF token has been checked);
//! - [`Failure`]: an error answered as a page in the frame, with its status.

mod admin;
mod audit;
pub mod chart;
pub mod csrf;
mod dashboard;
mod entities;
pub mod format;
pub mod frame;
mod governance;
pub mod i18n;
mod linkage;
mod login;
pub mod query;
pub mod table;
pub mod viewer;
mod warnings;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::AppState;
use frame::Frame;
use i18n::{Lang, LANG_COOKIE, M};
use query::PageQuery;
use viewer::{lang_of, Viewer};

pub const LOGIN_PATH: &str = "/console/login";
pub const HOME_PATH: &str = "/console/dashboard";

/// The console's Content-Security-Policy: this server's stylesheet and inline SVG, nothing
/// else — no script at all, no frames, forms only to this server.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("../../static/console.css");

/// The console's routes, to be nested under `/console`.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/static/console.css", get(stylesheet))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/search", get(entities::search))
        .route("/entity/{handle}", get(entities::entity))
        .route("/entity/{handle}/reveal", post(entities::reveal))
        .route("/warnings", get(warnings::queue))
        .route("/warnings/{handle}", get(warnings::detail))
        .route("/warnings/{handle}/feedback", post(warnings::feedback))
        .route("/precision", get(warnings::precision))
        .route("/warnings/{handle}/appeals", post(governance::file_appeal))
        .route("/appeals", get(governance::appeals))
        .route("/appeals/{id}/decision", post(governance::decide_appeal))
        .route(
            "/thresholds",
            get(governance::thresholds).post(governance::record_threshold),
        )
        .route("/rules", get(governance::rules))
        .route("/models", get(governance::models))
        .route("/institutions", get(governance::institutions))
        .route("/admin/operations", get(governance::operations))
        .route("/admin/operations/resend", post(governance::resend_dead))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/disable", post(admin::disable_user))
        .route("/admin/users/enable", post(admin::enable_user))
        .route("/admin/keys", get(admin::keys).post(admin::add_key))
        .route("/admin/keys/revoke", post(admin::revoke_key))
        .route("/intake", get(linkage::intake))
        .route(
            "/intake/new",
            get(linkage::intake_form).post(linkage::take_report),
        )
        .route("/reports/{report}/trace", get(linkage::trace_page))
        .route("/reports/{report}/stop-plan", post(linkage::stop_plan))
        .route("/orders", get(linkage::orders))
        .route("/orders/due", get(linkage::due))
        .route("/orders/{id}", get(linkage::order))
        .route("/orders/{id}/steps", post(linkage::step))
        .route("/orders/{id}/document", get(linkage::document))
        .route("/accounts/{handle}/freezes", get(linkage::registry))
        .route("/accounts/{handle}/returns", get(linkage::returns))
        .route("/cases", get(linkage::cases).post(linkage::file_case))
        .route("/cases/{case}/freeze-plan", post(linkage::freeze_plan))
        .route("/audit", get(audit::log))
        .route("/audit/verify", get(audit::verify))
        .route("/audit/flags", get(audit::flags))
        .route("/audit/flags/review", post(audit::review_flag))
        .fallback(not_found)
        // Inner to outer: errors become framed pages (seeing the language and the
        // session), the language choice is remembered, and the CSP is set.
        .layer(middleware::from_fn_with_state(state, framed_errors))
        .layer(middleware::from_fn(remember_lang))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
}

/// `/` and `/console`: the dashboard (which sends a visitor without a session on to the
/// login page).
pub(crate) async fn home() -> Redirect {
    Redirect::to(HOME_PATH)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

/// A template that failed to render: a bug of ours, logged, answered as a 500 page.
pub fn render_failure(e: askama::Error) -> Failure {
    tracing::error!("rendering a console page: {e}");
    Failure::new(StatusCode::INTERNAL_SERVER_ERROR, M::ServerError)
}

async fn not_found() -> Failure {
    Failure::new(StatusCode::NOT_FOUND, M::NotFound)
}

/// An error a console handler answers with; [`framed_errors`] renders it as a page in the
/// frame, in the viewer's language, with this status.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub message: M,
    /// A detail shown under the message (a field's problem); never internals.
    pub detail: Option<String>,
}

impl Failure {
    pub fn new(status: StatusCode, message: M) -> Failure {
        Failure {
            status,
            message,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Failure {
        self.detail = Some(detail.into());
        self
    }

    /// The failure for a status produced outside our handlers (a framework rejection).
    fn from_status(status: StatusCode) -> Failure {
        let message = match status.as_u16() {
            403 => M::Forbidden,
            404 | 405 => M::NotFound,
            503 => M::StoreDown,
            s if s >= 500 => M::ServerError,
            _ => M::BadRequest,
        };
        Failure::new(status, message)
    }
}

impl From<ApiError> for Failure {
    /// The service's errors keep their status; a client's mistake shows the service's
    /// message as the detail, our own failures never show anything of the cause.
    fn from(e: ApiError) -> Failure {
        let status = e.code.status();
        let failure = Failure::from_status(status);
        if e.field.as_deref() == Some("handle") && status == StatusCode::BAD_REQUEST {
            return Failure::new(status, M::HandleExpired);
        }
        if status.is_client_error() && !matches!(status.as_u16(), 403 | 404) {
            failure.with_detail(e.message)
        } else {
            failure
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    title: &'static str,
    status: u16,
    message: &'static str,
    detail: Option<String>,
}

/// Renders every console error (ours, or the framework's: an unknown route, a wrong method,
/// a body over the limit) as a page in the frame, keeping its status.
async fn framed_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().clone(), |o| o.0.clone());
    let headers = req.headers().clone();
    let was_get = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_page {
        return res;
    }
    let failure = res
        .extensions()
        .get::<Failure>()
        .cloned()
        .unwrap_or_else(|| Failure::from_status(status));
    let mut parts = Request::new(()).into_parts().0;
    parts.uri = uri;
    parts.headers = headers;
    let lang = lang_of(&parts);
    let title = lang.t(match status {
        StatusCode::FORBIDDEN => M::ForbiddenTitle,
        StatusCode::NOT_FOUND => M::NotFoundTitle,
        _ => M::ErrorTitle,
    });
    let frame = match Viewer::from_request_parts(&mut parts, &state).await {
        Ok(mut viewer) => {
            // The language switch must not lead to a GET on a form's address.
            if !was_get {
                viewer.query = PageQuery::parse(HOME_PATH, None);
            }
            Frame::new(&state, &viewer, title).await
        }
        Err(_) => Frame::anonymous(lang, &PageQuery::of(&parts), title),
    };
    let page = ErrorPage {
        frame,
        title,
        status: status.as_u16(),
        message: lang.t(failure.message),
        detail: failure.detail,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("rendering the error page: {e}");
            (status, lang.t(failure.message)).into_response()
        }
    }
}

/// `?lang=en` / `?lang=zh` on any console page sets the language cookie for the next ones.
async fn remember_lang(req: Request, next: Next) -> Response {
    let chosen = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|p| p.strip_prefix("lang="))
            .find_map(Lang::parse)
    });
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        // Not a secret, so not `Secure`: the choice also sticks on a plain-HTTP intranet.
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
