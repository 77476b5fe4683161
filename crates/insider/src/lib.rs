//! Insider (内鬼) detection: users who look up far more people than their peers or than they
//! themselves usually do, who try to open people outside their jurisdiction or institution,
//! or who try id after id to find someone.
//!
//! [`rules`] holds the rules as pure functions of audit entries and users, tested without a
//! store. [`run`] reads the recent trail and the users, raises each new flag once
//! (`flag_add` is idempotent per user, day and rule) and appends an `insider.flag` audit
//! entry per new flag, which is what alerts the auditors. The server calls it periodically;
//! `fanzha audit insiders` calls it on demand.

pub mod rules;

use fanzha_store::{AuditEntry, AuditFilter, Store, StoreError};

pub use rules::{evaluate, NewFlag, Rule, Rules};

/// The audit actor of flags raised by the detector.
pub const ACTOR: &str = "system:insider";

/// The audit action recording a new flag.
pub const FLAG_ACTION: &str = "insider.flag";

/// Entries read per page: bounded memory per round trip on a long trail.
const PAGE: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum InsiderError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A flag [`run`] stored: its id and what it says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Raised {
    pub id: i64,
    #[serde(flatten)]
    pub flag: NewFlag,
}

/// Runs the default [`Rules`] over the trail up to `now` (UTC microseconds).
pub async fn run(store: &dyn Store, now: i64) -> Result<Vec<Raised>, InsiderError> {
    run_with(store, now, &Rules::default()).await
}

/// Runs `rules` over the last `rules.history_days` of the trail before `now`; returns the
/// flags that are new (a rerun returns none of the earlier ones).
pub async fn run_with(
    store: &dyn Store,
    now: i64,
    rules: &Rules,
) -> Result<Vec<Raised>, InsiderError> {
    let from = rules::day_start(rules::shanghai_day(now) - rules.history_days.max(1));
    let mut entries = Vec::new();
    for prefix in ["lookup.", "reveal."] {
        entries.extend(read(store, prefix, from, now).await?);
    }
    let users = store.user_list().await?;
    let mut raised = Vec::new();
    for flag in evaluate(&entries, &users, rules) {
        let detail = flag.detail.to_string();
        let Some(id) = store
            .flag_add(&flag.username, &flag.day, flag.rule.as_str(), &detail)
            .await?
        else {
            continue;
        };
        let alert = serde_json::json!({
            "flag_id": id,
            "username": flag.username,
            "day": flag.day,
            "rule": flag.rule.as_str(),
            "detail": flag.detail,
        });
        store
            .audit_append(ACTOR, FLAG_ACTION, &alert.to_string())
            .await?;
        raised.push(Raised { id, flag });
    }
    Ok(raised)
}

/// Every entry with this action prefix in `[from, to)`, page by page. The upper bound keeps
/// the pages still while the server appends: newer entries fall outside the filter instead
/// of shifting the offsets.
async fn read(
    store: &dyn Store,
    prefix: &str,
    from: i64,
    to: i64,
) -> Result<Vec<AuditEntry>, InsiderError> {
    let filter = AuditFilter {
        actor: None,
        action_prefix: Some(prefix.to_owned()),
        from: Some(from),
        to: Some(to),
    };
    let mut out = Vec::new();
    loop {
        let (page, total) = store.audit_page(&filter, PAGE, out.len() as u64).await?;
        let empty = page.is_empty();
        out.extend(page);
        if empty || out.len() as u64 >= total {
            return Ok(out);
        }
    }
}
