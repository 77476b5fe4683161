//! Users and API keys: the admin's work. Every change is on the audit trail.

use fanzha_core::jurisdiction::JurisdictionCode;
use fanzha_core::vocab::Role;
use serde_json::json;

use super::record;
use super::view::{KeyView, NewKeyRequest, NewKeyView, NewUserRequest, UserView};
use crate::auth::{self, Account, CurrentUser};
use crate::error::{ApiError, Code};
use crate::policy::{self, Action, Remit};
use crate::AppState;

/// The CLI's rule too: long enough that a passphrase beats guessing.
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_LABEL_CHARS: usize = 200;
const MAX_CODE_CHARS: usize = 64;

/// Every user, disabled ones included, by name.
pub async fn users(state: &AppState, user: &CurrentUser) -> Result<Vec<UserView>, ApiError> {
    user.allow(Action::Administer)?;
    Ok(state
        .store
        .user_list()
        .await?
        .into_iter()
        .map(UserView::from)
        .collect())
}

/// Adds a user. A bank or carrier operator needs the institution they work for, a station or
/// community user the jurisdiction they work in (without it they would see nothing); other
/// roles take neither.
pub async fn add_user(
    state: &AppState,
    user: &CurrentUser,
    req: &NewUserRequest,
) -> Result<UserView, ApiError> {
    user.allow(Action::Administer)?;
    let username =
        check_username(&req.username).map_err(|m| ApiError::invalid_field("username", m))?;
    if req.password.chars().count() < MIN_PASSWORD_CHARS
        || req.password.len() > auth::MAX_PASSWORD_BYTES
    {
        return Err(ApiError::invalid_field(
            "password",
            format!(
                "a password has at least {MIN_PASSWORD_CHARS} characters and at most {} bytes",
                auth::MAX_PASSWORD_BYTES
            ),
        ));
    }
    let role: Role = req.role.parse().map_err(|_| {
        ApiError::invalid_field(
            "role",
            format!("a role is one of: {}", Role::WORDS.join(", ")),
        )
    })?;
    let institution = nonempty(&req.institution_code);
    let jurisdiction = nonempty(&req.jurisdiction_code);
    let remit = policy::remit(role);
    match (remit, institution, jurisdiction) {
        (Remit::Institution, Some(code), None) => {
            check_code(code).map_err(|m| ApiError::invalid_field("institution_code", m))?;
        }
        (Remit::Institution, None, _) => {
            return Err(ApiError::invalid_field(
                "institution_code",
                format!("a {role} works for a bank or carrier: name it"),
            ))
        }
        (Remit::Jurisdiction, None, Some(code)) => {
            JurisdictionCode::parse(code)
                .map_err(|e| ApiError::invalid_field("jurisdiction_code", e.to_string()))?;
        }
        (Remit::Jurisdiction, _, None) => {
            return Err(ApiError::invalid_field(
                "jurisdiction_code",
                format!("a {role} works in a jurisdiction: name it"),
            ))
        }
        (_, Some(_), _) => {
            return Err(ApiError::invalid_field(
                "institution_code",
                format!("a {role} works for no institution"),
            ))
        }
        (_, _, Some(_)) => {
            return Err(ApiError::invalid_field(
                "jurisdiction_code",
                format!("a {role} works in no single jurisdiction"),
            ))
        }
        (_, None, None) => {}
    }
    let account = Account {
        username,
        role,
        institution_code: institution,
        jurisdiction_code: jurisdiction,
    };
    let added = auth::add_user(&*state.store, &account, &req.password)
        .await
        .map_err(|e| ApiError::internal(Code::Internal, &e))?;
    if added.is_none() {
        return Err(
            ApiError::new(Code::UsernameTaken, "that username is taken").with_field("username")
        );
    }
    record(
        state,
        user,
        "admin.user.add",
        json!({
            "username": username,
            "role": role.as_str(),
            "institution": institution,
            "jurisdiction": jurisdiction,
        }),
    )
    .await?;
    user_view(state, username).await
}

/// Disables a user (ending their sessions) or enables them again. An admin cannot disable
/// their own account: the last admin would lock everyone out.
pub async fn set_disabled(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    disabled: bool,
) -> Result<UserView, ApiError> {
    user.allow(Action::Administer)?;
    if username.chars().count() > auth::MAX_USERNAME_CHARS {
        return Err(ApiError::parameter("username", "no such user"));
    }
    if disabled && user.actor() == format!("user:{username}") {
        return Err(
            ApiError::new(Code::Conflict, "you cannot disable your own account")
                .with_field("username"),
        );
    }
    if !state.store.user_set_disabled(username, disabled).await? {
        return Err(user_not_found());
    }
    let action = if disabled {
        "admin.user.disable"
    } else {
        "admin.user.enable"
    };
    record(state, user, action, json!({ "username": username })).await?;
    user_view(state, username).await
}

/// Every API key, revoked ones included, oldest first (never the keys themselves).
pub async fn keys(state: &AppState, user: &CurrentUser) -> Result<Vec<KeyView>, ApiError> {
    user.allow(Action::Administer)?;
    Ok(state
        .store
        .api_key_list()
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect())
}

/// Makes a key for a bank's or carrier's system. The secret is in the answer only; rotating
/// a key is adding the new one, then revoking the old.
pub async fn add_key(
    state: &AppState,
    user: &CurrentUser,
    req: &NewKeyRequest,
) -> Result<NewKeyView, ApiError> {
    user.allow(Action::Administer)?;
    let role = match req.role.parse::<Role>() {
        Ok(r @ (Role::BankOperator | Role::CarrierOperator)) => r,
        _ => {
            return Err(ApiError::invalid_field(
                "role",
                "a key's role is bank_operator or carrier_operator",
            ))
        }
    };
    check_code(&req.institution_code)
        .map_err(|m| ApiError::invalid_field("institution_code", m))?;
    let label = req.label.trim();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.contains(char::is_control)
    {
        return Err(ApiError::invalid_field(
            "label",
            format!("say what the key is for, in 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    let (id, secret) = auth::add_api_key(&*state.store, &req.institution_code, role, label)
        .await
        .map_err(|e| ApiError::internal(Code::Internal, &e))?;
    record(
        state,
        user,
        "admin.key.add",
        json!({
            "id": id,
            "institution": req.institution_code,
            "role": role.as_str(),
            "label": label,
        }),
    )
    .await?;
    let key = key_view(state, id).await?;
    Ok(NewKeyView { key, secret })
}

/// Revokes a key at once; 404 when there is no such key or it is already revoked.
pub async fn revoke_key(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<KeyView, ApiError> {
    user.allow(Action::Administer)?;
    if !state.store.api_key_revoke(id).await? {
        return Err(ApiError::new(Code::KeyNotFound, "no such active key").with_field("id"));
    }
    // A revoked key stops working at once here, not when its cache entry ages out.
    state.keys.clear();
    record(state, user, "admin.key.revoke", json!({ "id": id })).await?;
    key_view(state, id).await
}

async fn user_view(state: &AppState, username: &str) -> Result<UserView, ApiError> {
    state
        .store
        .user_by_name(username)
        .await?
        .map(UserView::from)
        .ok_or_else(user_not_found)
}

async fn key_view(state: &AppState, id: i64) -> Result<KeyView, ApiError> {
    state
        .store
        .api_key_list()
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .map(KeyView::from)
        .ok_or_else(|| ApiError::new(Code::KeyNotFound, "no such key").with_field("id"))
}

fn user_not_found() -> ApiError {
    ApiError::new(Code::UserNotFound, "no such user").with_field("username")
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A username: what the audit trail names the user by (`user:NAME`), so no spaces, colons
/// or look-alike characters.
fn check_username(name: &str) -> Result<&str, String> {
    let ok_len = (1..=auth::MAX_USERNAME_CHARS).contains(&name.chars().count());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok_len && ok_chars {
        Ok(name)
    } else {
        Err(format!(
            "a username has 1 to {} letters, digits, `_`, `-` or `.`",
            auth::MAX_USERNAME_CHARS
        ))
    }
}

/// An institution code as `institutions.csv` has them.
fn check_code(code: &str) -> Result<(), String> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "an institution code has 1 to {MAX_CODE_CHARS} letters, digits, `_` or `-`"
        ))
    }
}
