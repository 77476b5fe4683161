//! Who is calling. People log in with a password (argon2id) and carry a session cookie
//! (HttpOnly, Secure, SameSite=Strict); banks' and carriers' systems send an API key as
//! `Authorization: Bearer fzk_…`. [`CurrentUser`] is the extractor every protected handler
//! takes, so a handler without it is public by construction and visible in review.
//!
//! Session tokens and API keys are 32 random bytes; the store keeps only their SHA-256, so
//! reading the database does not let anyone ride a session or call as a bank.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use fanzha_core::vocab::Role;
use fanzha_store::{NewUser, Scope, Store};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Code};
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fanzha_session";

/// How long a session lasts: one working shift.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// Longer than any name or passphrase anyone types; bounds the work one request can ask of
/// argon2 and the store.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] fanzha_store::StoreError),
}

/// The argon2id PHC string of a password, with a fresh random salt (the crate's defaults:
/// OWASP's recommended 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a password against a stored hash, or against a throwaway one when there is no
/// user, so an unknown name costs the same time as a wrong password and names cannot be
/// probed by timing.
pub(crate) async fn check_password(stored: Option<String>, password: String) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    // Each check takes 19 MiB and a core for tens of milliseconds: a burst of logins from
    // many addresses waits here instead of filling the blocking pool and the memory.
    static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || match stored {
        Some(phc) => verify_password(&phc, &password),
        None => {
            let dummy = DUMMY.get_or_init(|| hash_password("not a password").unwrap_or_default());
            verify_password(dummy, &password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Who a new user is: name, role, and the institution or jurisdiction their role works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account<'a> {
    pub username: &'a str,
    pub role: Role,
    pub institution_code: Option<&'a str>,
    pub jurisdiction_code: Option<&'a str>,
}

async fn hash_off_thread(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?
}

fn new_user<'a>(account: &'a Account<'a>, hash: &'a str) -> NewUser<'a> {
    NewUser {
        username: account.username,
        password_hash: hash,
        role: account.role,
        institution_code: account.institution_code,
        jurisdiction_code: account.jurisdiction_code,
    }
}

/// Adds a user with a hashed password; `None` when the name is taken.
pub async fn add_user(
    store: &dyn Store,
    account: &Account<'_>,
    password: &str,
) -> Result<Option<i64>, AuthError> {
    let hash = hash_off_thread(password).await?;
    Ok(store.user_add(&new_user(account, &hash)).await?)
}

/// Adds a user, or gives an existing one this password, role and remit (ending their
/// sessions). For demo accounts, whose passwords are new on every demo run and whose remit
/// follows the district loaded.
pub async fn set_user(
    store: &dyn Store,
    account: &Account<'_>,
    password: &str,
) -> Result<(), AuthError> {
    let hash = hash_off_thread(password).await?;
    let user = new_user(account, &hash);
    if store.user_add(&user).await?.is_none() {
        store.user_reset(&user).await?;
    }
    Ok(())
}

/// A random password of 16 letters and digits (about 93 bits), without look-alikes
/// (0/O, 1/l/I) so it can be read off a screen.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        let mut b = [0u8; 1];
        OsRng.fill_bytes(&mut b);
        // Rejection sampling keeps every character equally likely.
        let i = usize::from(b[0]);
        if i < 256 - 256 % ALPHABET.len() {
            out.push(char::from(ALPHABET[i % ALPHABET.len()]));
        }
    }
    out
}

/// The prefix of every API key: recognisable in a leaked config file or a secret scanner.
pub const API_KEY_PREFIX: &str = "fzk_";

/// Makes an API key for an institution's system and stores its hash; returns the key's id
/// and the key, which is shown once and never stored.
pub async fn add_api_key(
    store: &dyn Store,
    institution_code: &str,
    role: Role,
    label: &str,
) -> Result<(i64, String), AuthError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let key = format!("{API_KEY_PREFIX}{}", hex(&bytes));
    let id = store
        .api_key_add(&token_hash(&key), institution_code, role, label)
        .await?;
    Ok((id, key))
}

/// A new session token (hex) and the hash the store keeps of it.
/// How long a key found active is trusted without asking the store again.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Keys remembered at most; past it the cache starts over (institutions hold a handful).
const KEY_CACHE_MAX: usize = 4_096;

/// Institutions' API keys found active in the last [`KEY_CACHE_TTL`], by hash, for the
/// decision endpoints ([`CurrentUser::from_parts_cached`]).
///
/// Why: a bank's systems call the decision API tens of thousands of times a second with
/// the same few keys, and a store query per call would cost more than the decision. The
/// price is that a key revoked by another process (`fanzha key revoke`, the store directly)
/// keeps deciding for up to the TTL; a revocation through this server's API or console
/// clears the cache at once. Unknown keys are not remembered, so a caller guessing keys
/// cannot fill it.
#[derive(Default)]
pub struct KeyCache {
    keys: std::sync::RwLock<
        std::collections::HashMap<String, (fanzha_store::ApiKeyRow, std::time::Instant)>,
    >,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<fanzha_store::ApiKeyRow> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.get(hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(row, _)| row.clone())
    }

    fn put(&self, hash: String, row: fanzha_store::ApiKeyRow) {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= KEY_CACHE_MAX {
            keys.clear();
        }
        keys.insert(hash, (row, std::time::Instant::now()));
    }

    /// Forgets every key: after a revocation.
    pub fn clear(&self) {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

pub(crate) fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The `Set-Cookie` value starting a session.
pub(crate) fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}"
    )
}

/// The `Set-Cookie` value ending one.
pub(crate) fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The caller of a request: a logged-in person or an institution's API key. Extracting it
/// fails with 401 when neither a live session cookie nor an active key came with the request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who, as the audit trail names them: `user:NAME` or `key:ID:INSTITUTION`.
    actor: String,
    pub role: Role,
    /// The bank or carrier the user or API key acts for.
    pub institution: Option<String>,
    /// The jurisdiction a station or community user works in.
    pub jurisdiction: Option<String>,
    /// The hash of the session this request rode (none for a key), so logout ends exactly it.
    pub(crate) session_hash: Option<String>,
}

impl CurrentUser {
    /// The actor named in the audit trail.
    pub fn actor(&self) -> String {
        self.actor.clone()
    }

    /// What this caller's reads are narrowed to; 403 when the role sees no personal data or
    /// lacks the institution or jurisdiction its remit needs.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        crate::policy::scope(
            self.role,
            self.institution.as_deref(),
            self.jurisdiction.as_deref(),
        )
        .ok_or_else(|| {
            ApiError::new(
                Code::Forbidden,
                format!("the role {} sees no personal data here", self.role),
            )
        })
    }

    /// What this caller's aggregate figures cover; 403 when a scoped role lacks the
    /// institution or jurisdiction its remit needs.
    pub fn figures_scope(&self) -> Result<Scope, ApiError> {
        crate::policy::figures_scope(
            self.role,
            self.institution.as_deref(),
            self.jurisdiction.as_deref(),
        )
        .ok_or_else(|| {
            ApiError::new(
                Code::Forbidden,
                format!(
                    "this {} account names no jurisdiction or institution",
                    self.role
                ),
            )
        })
    }

    /// 403 unless the role may do `action`.
    pub fn allow(&self, action: crate::policy::Action) -> Result<(), ApiError> {
        if crate::policy::allows(self.role, action) {
            Ok(())
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                format!("the role {} may not do this", self.role),
            ))
        }
    }
}

/// The session token from the request's cookies, if one of the right shape came.
pub(crate) fn session_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .find(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        CurrentUser::resolve(parts, state, false).await
    }
}

impl CurrentUser {
    /// As the extractor, but an API key found active within [`KEY_CACHE_TTL`] is not looked
    /// up again: for the real-time decision endpoints only, whose answers are masked and
    /// unaudited, where a store query per call would cost more than the decision. Every
    /// other endpoint sees a revocation at once.
    pub async fn from_parts_cached(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        CurrentUser::resolve(parts, state, true).await
    }

    async fn resolve(parts: &Parts, state: &AppState, cached: bool) -> Result<Self, ApiError> {
        // A request that names a key is judged by the key alone, never by a cookie beside it.
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let refused = || ApiError::new(Code::Unauthenticated, "unknown or revoked API key");
            let key = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .filter(|k| {
                    k.strip_prefix(API_KEY_PREFIX)
                        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                })
                .ok_or_else(refused)?;
            let hash = token_hash(key);
            let row = match state.keys.get(&hash).filter(|_| cached) {
                Some(row) => row,
                None => {
                    let row = state
                        .store
                        .api_key_active(&hash)
                        .await?
                        .ok_or_else(refused)?;
                    if cached {
                        state.keys.put(hash, row.clone());
                    }
                    row
                }
            };
            return Ok(CurrentUser {
                actor: format!("key:{}:{}", row.id, row.institution_code),
                role: row.role,
                institution: Some(row.institution_code),
                jurisdiction: None,
                session_hash: None,
            });
        }
        let unauthenticated = || ApiError::new(Code::Unauthenticated, "log in first");
        let token = session_token(parts).ok_or_else(unauthenticated)?;
        let hash = token_hash(token);
        let user = state
            .store
            .session_user(&hash, now_micros())
            .await?
            .ok_or_else(unauthenticated)?;
        Ok(CurrentUser {
            actor: format!("user:{}", user.username),
            role: user.role,
            institution: user.institution_code,
            jurisdiction: user.jurisdiction_code,
            session_hash: Some(hash),
        })
    }
}

/// Why a password login was refused.
#[derive(Debug)]
pub(crate) enum LoginRefusal {
    /// The named field is longer than any real one.
    TooLong(&'static str),
    /// Too many failures for the name or the address; wait this long.
    Throttled(std::time::Duration),
    /// Wrong username or password (which one is never said).
    WrongCredentials,
    /// Our failure (the store, the audit trail), as the API answers it.
    Failed(ApiError),
}

impl From<fanzha_store::StoreError> for LoginRefusal {
    fn from(e: fanzha_store::StoreError) -> Self {
        LoginRefusal::Failed(e.into())
    }
}

impl From<crate::audit::AuditError> for LoginRefusal {
    fn from(e: crate::audit::AuditError) -> Self {
        LoginRefusal::Failed(e.into())
    }
}

/// A new session: the token for the cookie, and whose it is.
pub(crate) struct LoggedIn {
    pub token: String,
    pub user: fanzha_store::UserRow,
}

/// Checks a password login and starts a session: the one login of the API and the console
/// (`channel` names which in the audit trail: `api`, `console`). Limits are checked before
/// argon2; failures count against the name and the client address and are audited.
pub(crate) async fn password_login(
    state: &AppState,
    channel: &str,
    username: &str,
    password: String,
    client: std::net::IpAddr,
) -> Result<LoggedIn, LoginRefusal> {
    use crate::ratelimit;
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(LoginRefusal::TooLong("username"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(LoginRefusal::TooLong("password"));
    }
    let now = std::time::Instant::now();
    let user_key = format!("user:{username}");
    let addr_key = format!("addr:{client}");
    let wait = [
        (&user_key, ratelimit::MAX_FAILURES_PER_USER),
        (&addr_key, ratelimit::MAX_FAILURES_PER_ADDRESS),
    ]
    .into_iter()
    .filter_map(|(key, max)| state.logins.blocked(key, max, now))
    .max();
    if let Some(wait) = wait {
        return Err(LoginRefusal::Throttled(wait));
    }
    let user = state
        .store
        .user_by_name(username)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let ok = check_password(user.as_ref().map(|u| u.password_hash.clone()), password).await;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            state.logins.failed(&user_key, now);
            state.logins.failed(&addr_key, now);
            let detail = serde_json::json!({ "username": username });
            state
                .audit
                .append(
                    &format!("{channel}:anonymous"),
                    &format!("{channel}.login.failed"),
                    &detail,
                )
                .await?;
            return Err(LoginRefusal::WrongCredentials);
        }
    };
    state.logins.succeeded(&user_key);
    let (token, hash) = new_token();
    let expires = now_micros().saturating_add(SESSION_SECONDS * 1_000_000);
    state.store.session_add(&hash, user.id, expires).await?;
    state
        .audit
        .append(
            &format!("user:{}", user.username),
            &format!("{channel}.login"),
            &serde_json::json!({}),
        )
        .await?;
    Ok(LoggedIn { token, user })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horse "));
        assert!(!verify_password("not a phc string", "x"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salts differ");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, t2);
        assert_ne!(t1, h1);
        assert_eq!(h1, token_hash(&t1));
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let a = random_password();
        assert_eq!(a.len(), 16);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)));
        assert_ne!(a, random_password());
    }

    #[test]
    fn the_session_cookie_is_locked_down() {
        let c = session_cookie("abc");
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
}
