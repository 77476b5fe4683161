//! Who is looking at a console page, in which language, and the form token of their session:
//! the [`Viewer`] extractor every console page takes, and [`Posted`], the only way a console
//! handler reads a form, which checks the token first.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::i18n::{Lang, LANG_COOKIE, M};
use super::query::PageQuery;
use super::{csrf, Failure, LOGIN_PATH};
use crate::auth::{self, CurrentUser};
use crate::error::Code;
use crate::AppState;

/// A logged-in person on a console page. Extracting it from a request without a live
/// session redirects (303) to the login page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: CurrentUser,
    pub username: String,
    pub lang: Lang,
    /// The form token of this session.
    pub csrf: String,
    pub query: PageQuery,
}

/// The language of a request: `?lang=` first (the switch links), then the cookie, then
/// Chinese.
pub fn lang_of(parts: &Parts) -> Lang {
    let from_query = parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|p| p.strip_prefix("lang="))
            .find_map(Lang::parse)
    });
    from_query
        .or_else(|| {
            parts
                .headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
                .find_map(Lang::parse)
        })
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to(LOGIN_PATH).into_response();
        // The console is for people: it rides the session cookie, never an API key.
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return Err(Failure::new(StatusCode::FORBIDDEN, M::Forbidden).into_response());
        }
        let Some(token) = auth::session_token(parts).map(str::to_owned) else {
            return Err(to_login());
        };
        let user = match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => user,
            Err(e) if e.code == Code::Unauthenticated => return Err(to_login()),
            Err(e) => return Err(Failure::from(e).into_response()),
        };
        let username = user
            .actor()
            .strip_prefix("user:")
            .unwrap_or_default()
            .to_owned();
        Ok(Viewer {
            username,
            lang: lang_of(parts),
            csrf: csrf::token(&token),
            query: PageQuery::of(parts),
            user,
        })
    }
}

/// A console form, read only after its CSRF token checked out (403 otherwise), together
/// with the viewer who posted it. A malformed form is a 400 page, never a 500.
pub struct Posted<T> {
    pub viewer: Viewer,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct TokenOnly {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let token = auth::session_token(&parts).unwrap_or_default().to_owned();
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| Failure::new(e.status(), M::BadRequest).into_response())?;
        let given = serde_urlencoded::from_bytes::<TokenOnly>(&bytes)
            .ok()
            .and_then(|t| t.csrf)
            .unwrap_or_default();
        if !csrf::verify(&token, &given) {
            return Err(Failure::new(StatusCode::FORBIDDEN, M::CsrfFailed).into_response());
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            Failure::new(StatusCode::BAD_REQUEST, M::BadRequest)
                .with_detail(e.to_string())
                .into_response()
        })?;
        Ok(Posted { viewer, form })
    }
}
