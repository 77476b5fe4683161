//! Logging in and out of the console, with the same login as the API (limits, argon2,
//! audit) and the same session cookie.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::frame::{page, page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::PageQuery;
use super::viewer::{Posted, Viewer};
use super::{Failure, HOME_PATH, LOGIN_PATH};
use crate::auth::{self, LoggedIn, LoginRefusal};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    username: String,
    error: Option<String>,
}

/// The language of a page before login, and its address for the switch links.
pub struct Anonymous {
    lang: Lang,
    query: PageQuery,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Anonymous {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Anonymous {
            lang: super::viewer::lang_of(parts),
            query: PageQuery::of(parts),
        })
    }
}

fn login_page(anon: &Anonymous, username: String, error: Option<String>) -> LoginPage {
    LoginPage {
        frame: Frame::anonymous(anon.lang, &anon.query, anon.lang.t(M::LoginTitle)),
        username,
        error,
    }
}

/// `GET /console/login`: the form, or the dashboard for someone already logged in.
pub async fn form(anon: Anonymous, viewer: Result<Viewer, Response>) -> Response {
    if viewer.is_ok() {
        return Redirect::to(HOME_PATH).into_response();
    }
    page(&login_page(&anon, String::new(), None))
}

#[derive(serde::Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /console/login`: starts a session and goes to the dashboard (303), or shows the
/// form again with the reason (401 wrong credentials, 429 too many failures, 400 too long).
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    anon: Anonymous,
    form: Result<Form<Credentials>, FormRejection>,
) -> Response {
    let lang = anon.lang;
    let Ok(Form(creds)) = form else {
        let p = login_page(&anon, String::new(), Some(lang.t(M::BadRequest).to_owned()));
        return page_with_status(StatusCode::BAD_REQUEST, &p);
    };
    let username = creds.username.trim().to_owned();
    let refused = |status, message: String| {
        let shown = username.chars().take(auth::MAX_USERNAME_CHARS).collect();
        page_with_status(status, &login_page(&anon, shown, Some(message)))
    };
    match auth::password_login(&state, "console", &username, creds.password, client.ip()).await {
        Ok(LoggedIn { token, .. }) => (
            [(header::SET_COOKIE, auth::session_cookie(&token))],
            Redirect::to(HOME_PATH),
        )
            .into_response(),
        Err(LoginRefusal::WrongCredentials) => refused(
            StatusCode::UNAUTHORIZED,
            lang.t(M::WrongCredentials).to_owned(),
        ),
        Err(LoginRefusal::Throttled(wait)) => {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut res = refused(
                StatusCode::TOO_MANY_REQUESTS,
                lang.fill(M::TooManyAttempts, secs),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            res
        }
        Err(LoginRefusal::TooLong(_)) => {
            refused(StatusCode::BAD_REQUEST, lang.t(M::InputTooLong).to_owned())
        }
        Err(LoginRefusal::Failed(e)) => Failure::from(e).into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct NoFields {}

/// `POST /console/logout`: ends this session and goes to the login page.
pub async fn logout(State(state): State<AppState>, posted: Posted<NoFields>) -> Response {
    let user = &posted.viewer.user;
    if let Some(session) = &user.session_hash {
        if let Err(e) = state.store.session_remove(session).await {
            return Failure::from(crate::error::ApiError::from(e)).into_response();
        }
        // The session is gone either way; a failed audit write is logged, not shown.
        if let Err(e) = state
            .audit
            .append(&user.actor(), "console.logout", &serde_json::json!({}))
            .await
        {
            tracing::error!("auditing a logout: {e}");
        }
    }
    (
        [(header::SET_COOKIE, auth::cleared_cookie())],
        Redirect::to(LOGIN_PATH),
    )
        .into_response()
}
