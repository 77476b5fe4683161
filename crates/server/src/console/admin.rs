//! Administration (admin role): `/console/admin/users` (list, add, disable, enable) and
//! `/console/admin/keys` (list, add — the key shown once — and revoke), through the same
//! service calls as the API, which check the role and audit each change.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fanzha_core::vocab::Role;

use super::frame::{page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::with_query;
use super::table::{Align, Cell, CellForm, Table};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::error::ApiError;
use crate::service::{self, NewKeyRequest, NewUserRequest};
use crate::AppState;

const USERS: &str = "/console/admin/users";
const KEYS: &str = "/console/admin/keys";

/// The outcome of a form, shown above the list.
struct Notice {
    ok: bool,
    text: String,
}

/// A role in a `<select>`.
struct RoleOption {
    value: &'static str,
    label: String,
    selected: bool,
}

fn role_options(roles: &[Role], selected: &str, lang: Lang) -> Vec<RoleOption> {
    roles
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: lang.term(r.as_str()).into_owned(),
            selected: r.as_str() == selected,
        })
        .collect()
}

/// An error of a form as its notice: the service's message names the field.
fn refusal(e: &ApiError, lang: Lang) -> Notice {
    let field = e
        .field
        .as_deref()
        .map(|f| format!("{}: ", lang.term(f)))
        .unwrap_or_default();
    Notice {
        ok: false,
        text: format!("{} {field}{}", lang.t(M::BadRequest), e.message),
    }
}

/// Only a client's mistake in a form is answered on the form; anything else (403, a store
/// failure) is an error page.
fn form_error(e: ApiError) -> Result<ApiError, Failure> {
    if e.code.status().is_client_error() && e.code.status() != StatusCode::FORBIDDEN {
        Ok(e)
    } else {
        Err(e.into())
    }
}

// ---- Users ----

/// What the add-user form shows again after a refusal (never the password).
#[derive(Default)]
struct UserDraft {
    username: String,
    role: String,
    institution: String,
    jurisdiction: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    frame: Frame,
    notice: Option<Notice>,
    table: String,
    roles: Vec<RoleOption>,
    draft: UserDraft,
    min_password: usize,
}

async fn users_page(
    state: &AppState,
    v: &Viewer,
    notice: Option<Notice>,
    draft: UserDraft,
) -> Result<Result<UsersPage, Response>, Failure> {
    let lang = v.lang;
    let users = service::users(state, &v.user).await?;
    // After a disable or enable (POST, then 303 here): confirm it, for a user that exists.
    let notice = notice.or_else(|| {
        let name = v.query.get("user")?;
        (v.query.get("done") == Some("updated") && users.iter().any(|u| u.username == name)).then(
            || Notice {
                ok: true,
                text: lang.fill(M::UserUpdated, name),
            },
        )
    });
    let mut t = Table::primary("users", &v.query, lang)
        .column("username", lang.t(M::Username), Align::Left)
        .column("role", lang.t(M::Role), Align::Left)
        .column("institution", lang.t(M::Institution), Align::Left)
        .column("jurisdiction", lang.t(M::Jurisdiction), Align::Left)
        .column("status", lang.t(M::Status), Align::Left)
        .column("created", lang.t(M::Created), Align::Left)
        .plain_column("actions", lang.t(M::Actions))
        .default_sort("username", false);
    for u in &users {
        let (status, action, path, class) = if u.disabled {
            (M::Disabled, M::Enable, "/console/admin/users/enable", "")
        } else {
            (
                M::Active,
                M::Disable,
                "/console/admin/users/disable",
                "danger",
            )
        };
        let button = CellForm {
            action: path.to_owned(),
            button: lang.t(action).to_owned(),
            fields: vec![("username".to_owned(), u.username.clone())],
            csrf: v.csrf.clone(),
            class,
        };
        t.row_with_testid(
            format!("user-{}", u.username),
            vec![
                Cell::text(u.username.clone()),
                Cell::text(lang.term(&u.role)),
                Cell::text(u.institution_code.clone().unwrap_or_default()),
                Cell::text(u.jurisdiction_code.clone().unwrap_or_default()),
                Cell::text(lang.t(status)).with_class(if u.disabled {
                    "status-off"
                } else {
                    "status-active"
                }),
                Cell::time(u.created_at.micros),
                // An administrator cannot lock themselves out (the service refuses it too).
                if u.username == v.username {
                    Cell::empty()
                } else {
                    Cell::form(lang.t(action), button)
                },
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(&v.query) {
        return Ok(Err(csv));
    }
    Ok(Ok(UsersPage {
        frame: Frame::new(state, v, lang.t(M::AdminUsers)).await,
        notice,
        table: t.render().map_err(render_failure)?,
        roles: role_options(Role::ALL, &draft.role, lang),
        draft,
        min_password: service::MIN_PASSWORD_CHARS,
    }))
}

pub async fn users(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    Ok(
        match users_page(&state, &v, None, UserDraft::default()).await? {
            Ok(p) => page_with_status(StatusCode::OK, &p),
            Err(csv) => csv,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct AddUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    institution_code: String,
    #[serde(default)]
    jurisdiction_code: String,
}

fn blank_to_none(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

pub async fn add_user(
    State(state): State<AppState>,
    posted: Posted<AddUserForm>,
) -> Result<Response, Failure> {
    let Posted { viewer: v, form } = posted;
    let lang = v.lang;
    let req = NewUserRequest {
        username: form.username.trim().to_owned(),
        password: form.password,
        role: form.role.clone(),
        institution_code: blank_to_none(&form.institution_code),
        jurisdiction_code: blank_to_none(&form.jurisdiction_code),
    };
    let (status, notice, draft) = match service::add_user(&state, &v.user, &req).await {
        Ok(u) => (
            StatusCode::OK,
            Notice {
                ok: true,
                text: lang.fill(M::UserAdded, &u.username),
            },
            UserDraft::default(),
        ),
        Err(e) => {
            let e = form_error(e)?;
            (
                e.code.status(),
                refusal(&e, lang),
                UserDraft {
                    username: req.username.chars().take(64).collect(),
                    role: form.role,
                    institution: form.institution_code.chars().take(64).collect(),
                    jurisdiction: form.jurisdiction_code.chars().take(64).collect(),
                },
            )
        }
    };
    Ok(match users_page(&state, &v, Some(notice), draft).await? {
        Ok(p) => page_with_status(status, &p),
        Err(csv) => csv,
    })
}

#[derive(serde::Deserialize)]
pub struct UsernameForm {
    #[serde(default)]
    username: String,
}

/// Back to the list, which confirms the change (POST, redirect, GET: a reload does not
/// post again).
fn updated(username: &str) -> Response {
    let to = with_query(USERS, &[("done", "updated"), ("user", username)]);
    Redirect::to(&to).into_response()
}

pub async fn disable_user(
    State(state): State<AppState>,
    posted: Posted<UsernameForm>,
) -> Result<Response, Failure> {
    service::set_disabled(&state, &posted.viewer.user, &posted.form.username, true).await?;
    Ok(updated(&posted.form.username))
}

pub async fn enable_user(
    State(state): State<AppState>,
    posted: Posted<UsernameForm>,
) -> Result<Response, Failure> {
    service::set_disabled(&state, &posted.viewer.user, &posted.form.username, false).await?;
    Ok(updated(&posted.form.username))
}

// ---- API keys ----

#[derive(Default)]
struct KeyDraft {
    institution: String,
    role: String,
    label: String,
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
struct KeysPage {
    frame: Frame,
    notice: Option<Notice>,
    /// A key just made: shown on this page once, never stored or shown again.
    new_key: Option<String>,
    table: String,
    roles: Vec<RoleOption>,
    draft: KeyDraft,
}

async fn keys_page(
    state: &AppState,
    v: &Viewer,
    notice: Option<Notice>,
    new_key: Option<String>,
    draft: KeyDraft,
) -> Result<Result<KeysPage, Response>, Failure> {
    let lang = v.lang;
    let keys = service::keys(state, &v.user).await?;
    let notice = notice.or_else(|| {
        let id = v.query.get("key")?.parse::<i64>().ok()?;
        (v.query.get("done") == Some("revoked") && keys.iter().any(|k| k.id == id && !k.active))
            .then(|| Notice {
                ok: true,
                text: lang.fill(M::KeyRevoked, id),
            })
    });
    let mut t = Table::primary("keys", &v.query, lang)
        .column("id", lang.t(M::KeyId), Align::Right)
        .column("institution", lang.t(M::Institution), Align::Left)
        .column("role", lang.t(M::Role), Align::Left)
        .column("label", lang.t(M::KeyLabel), Align::Left)
        .column("created", lang.t(M::Created), Align::Left)
        .column("status", lang.t(M::Status), Align::Left)
        .plain_column("actions", lang.t(M::Actions))
        .default_sort("id", true);
    for k in &keys {
        let status = match &k.revoked_at {
            Some(at) => Cell::text(format!(
                "{} {}",
                lang.t(M::Revoked),
                super::format::time_short(at.micros)
            ))
            .with_class("status-off"),
            None => Cell::text(lang.t(M::Active)).with_class("status-active"),
        };
        let action = if k.active {
            Cell::form(
                lang.t(M::Revoke),
                CellForm {
                    action: "/console/admin/keys/revoke".to_owned(),
                    button: lang.t(M::Revoke).to_owned(),
                    fields: vec![("id".to_owned(), k.id.to_string())],
                    csrf: v.csrf.clone(),
                    class: "danger",
                },
            )
        } else {
            Cell::empty()
        };
        t.row_with_testid(
            format!("key-{}", k.id),
            vec![
                Cell::int(k.id),
                Cell::text(k.institution_code.clone()),
                Cell::text(lang.term(&k.role)),
                Cell::text(k.label.clone()),
                Cell::time(k.created_at.micros),
                status,
                action,
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(&v.query) {
        return Ok(Err(csv));
    }
    Ok(Ok(KeysPage {
        frame: Frame::new(state, v, lang.t(M::AdminKeys)).await,
        notice,
        new_key,
        table: t.render().map_err(render_failure)?,
        roles: role_options(
            &[Role::BankOperator, Role::CarrierOperator],
            &draft.role,
            lang,
        ),
        draft,
    }))
}

pub async fn keys(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    Ok(
        match keys_page(&state, &v, None, None, KeyDraft::default()).await? {
            Ok(p) => page_with_status(StatusCode::OK, &p),
            Err(csv) => csv,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct AddKeyForm {
    #[serde(default)]
    institution_code: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    label: String,
}

pub async fn add_key(
    State(state): State<AppState>,
    posted: Posted<AddKeyForm>,
) -> Result<Response, Failure> {
    let Posted { viewer: v, form } = posted;
    let req = NewKeyRequest {
        institution_code: form.institution_code.trim().to_owned(),
        role: form.role.clone(),
        label: form.label.trim().to_owned(),
    };
    let (status, notice, new_key, draft) = match service::add_key(&state, &v.user, &req).await {
        Ok(k) => (StatusCode::OK, None, Some(k.secret), KeyDraft::default()),
        Err(e) => {
            let e = form_error(e)?;
            (
                e.code.status(),
                Some(refusal(&e, v.lang)),
                None,
                KeyDraft {
                    institution: req.institution_code.chars().take(64).collect(),
                    role: form.role,
                    label: req.label.chars().take(200).collect(),
                },
            )
        }
    };
    Ok(match keys_page(&state, &v, notice, new_key, draft).await? {
        Ok(p) => page_with_status(status, &p),
        Err(csv) => csv,
    })
}

#[derive(serde::Deserialize)]
pub struct KeyIdForm {
    #[serde(default)]
    id: String,
}

pub async fn revoke_key(
    State(state): State<AppState>,
    posted: Posted<KeyIdForm>,
) -> Result<Response, Failure> {
    let id = posted
        .form
        .id
        .trim()
        .parse::<i64>()
        .map_err(|_| Failure::new(StatusCode::BAD_REQUEST, M::BadRequest).with_detail("id"))?;
    service::revoke_key(&state, &posted.viewer.user, id).await?;
    let to = with_query(KEYS, &[("done", "revoked"), ("key", &id.to_string())]);
    Ok(Redirect::to(&to).into_response())
}
