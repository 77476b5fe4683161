//! The audit trail as auditors read it: pages of entries (details masked), the chain's
//! verification, and the insider flags with their review.

use chrono::NaiveDate;
use fanzha_core::time::{shanghai_local, Instant};
use fanzha_store::AuditFilter;
use serde::Deserialize;
use serde_json::json;

use super::record;
use super::view::{masked_detail, AuditEntryView, AuditPageView, FlagView, TimeView, VerifyView};
use crate::auth::CurrentUser;
use crate::error::{ApiError, Code};
use crate::policy::Action;
use crate::AppState;

/// Entries on one page.
pub const AUDIT_PER_PAGE: u32 = 50;
/// Far beyond any trail's length in pages; bounds the offset arithmetic.
const MAX_PAGE: u32 = 10_000_000;
const MAX_FILTER_CHARS: usize = 200;

/// The audit page's filter as it arrives in a query string or a form: every field text,
/// empty meaning "any". [`AuditQuery::parse`] turns it into the store's filter and a page.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Exact actor: `user:NAME`, `key:ID:INSTITUTION`, `cli:…`.
    pub actor: Option<String>,
    /// Action prefix: `lookup.` matches every look-up.
    pub action: Option<String>,
    /// From this Shanghai day (`YYYY-MM-DD`) or instant (RFC 3339), inclusive.
    pub from: Option<String>,
    /// To this Shanghai day, inclusive, or this instant, exclusive.
    pub to: Option<String>,
    /// 1-based page number.
    pub page: Option<String>,
}

impl AuditQuery {
    /// The store's filter and the page, or a 400 naming the parameter that does not parse.
    pub fn parse(&self) -> Result<(AuditFilter, u32), ApiError> {
        let text = |field: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > MAX_FILTER_CHARS || s.contains(char::is_control) => {
                    Err(ApiError::parameter(
                        field,
                        format!("at most {MAX_FILTER_CHARS} printable characters"),
                    ))
                }
                other => Ok(other.map(str::to_owned)),
            }
        };
        let filter = AuditFilter {
            actor: text("actor", &self.actor)?,
            action_prefix: text("action", &self.action)?,
            from: text("from", &self.from)?
                .map(|s| instant("from", &s, false))
                .transpose()?,
            to: text("to", &self.to)?
                .map(|s| instant("to", &s, true))
                .transpose()?,
        };
        let page = match text("page", &self.page)? {
            None => 1,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| {
                    ApiError::parameter("page", format!("a page number from 1 to {MAX_PAGE}"))
                })?,
        };
        Ok((filter, page))
    }
}

/// A day (its Shanghai midnight; with `day_end`, the next one, so the day is included) or
/// an RFC 3339 instant, as UTC microseconds.
fn instant(field: &str, s: &str, day_end: bool) -> Result<i64, ApiError> {
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if day_end { day.succ_opt() } else { Some(day) };
        if let Some(midnight) = day.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            return Ok(shanghai_local(midnight).micros());
        }
    }
    Instant::parse_rfc3339(s).map(|i| i.micros()).map_err(|_| {
        ApiError::parameter(
            field,
            "a day (2026-03-01) or an instant with its offset (2026-03-01T09:30:00+08:00)",
        )
    })
}

/// One page of entries matching `filter`, newest first, details masked.
pub async fn audit_page(
    state: &AppState,
    user: &CurrentUser,
    filter: &AuditFilter,
    page: u32,
) -> Result<AuditPageView, ApiError> {
    user.allow(Action::Audit)?;
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(ApiError::parameter(
            "page",
            format!("a page number from 1 to {MAX_PAGE}"),
        ));
    }
    let offset = u64::from(page - 1) * u64::from(AUDIT_PER_PAGE);
    let (entries, total) = state
        .store
        .audit_page(filter, AUDIT_PER_PAGE, offset)
        .await?;
    Ok(AuditPageView {
        entries: entries
            .into_iter()
            .map(|e| AuditEntryView {
                id: e.id,
                at: TimeView::new(e.at),
                detail: masked_detail(&e.action, &e.detail),
                actor: e.actor,
                action: e.action,
                hash: e.hash,
            })
            .collect(),
        page,
        per_page: AUDIT_PER_PAGE,
        total,
        pages: total.div_ceil(u64::from(AUDIT_PER_PAGE)),
    })
}

/// Checks the whole chain: the first entry whose hash does not cover its content and the
/// entry before it (an altered row, or the one after a deleted row).
pub async fn verify(state: &AppState, user: &CurrentUser) -> Result<VerifyView, ApiError> {
    user.allow(Action::Audit)?;
    let entries = state.store.audit_list().await?;
    let first_broken = fanzha_store::verify_audit_chain(&entries);
    Ok(VerifyView {
        ok: first_broken.is_none(),
        entries: entries.len() as u64,
        first_broken,
    })
}

/// Every insider flag, newest first.
pub async fn flags(state: &AppState, user: &CurrentUser) -> Result<Vec<FlagView>, ApiError> {
    user.allow(Action::Audit)?;
    Ok(state
        .store
        .flag_list()
        .await?
        .into_iter()
        .map(flag_view)
        .collect())
}

/// Marks a flag reviewed by the calling auditor.
pub async fn review_flag(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<FlagView, ApiError> {
    user.allow(Action::Audit)?;
    let not_found = || ApiError::new(Code::FlagNotFound, "no such flag").with_field("id");
    if !state.store.flag_review(id, &user.actor()).await? {
        return Err(not_found());
    }
    record(state, user, "audit.flag.review", json!({ "id": id })).await?;
    state
        .store
        .flag_list()
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .map(flag_view)
        .ok_or_else(not_found)
}

fn flag_view(f: fanzha_store::InsiderFlag) -> FlagView {
    FlagView {
        id: f.id,
        raised_at: TimeView::new(f.raised_at),
        detail: masked_detail(&f.rule, &f.detail),
        username: f.username,
        day: f.day,
        rule: f.rule,
        reviewed_by: f.reviewed_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> AuditQuery {
        let mut q = AuditQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "actor" => q.actor = v,
                "action" => q.action = v,
                "from" => q.from = v,
                "to" => q.to = v,
                "page" => q.page = v,
                _ => unreachable!(),
            }
        }
        q
    }

    #[test]
    fn days_are_whole_shanghai_days_and_bad_values_name_their_parameter() {
        let (f, page) = query(&[
            ("from", "2026-03-01"),
            ("to", "2026-03-01"),
            ("action", " "),
        ])
        .parse()
        .unwrap();
        assert_eq!(f.from, Some(1_772_294_400_000_000));
        assert_eq!(f.to, Some(1_772_294_400_000_000 + 86_400_000_000));
        assert_eq!((f.action_prefix, page), (None, 1));
        let (f, _) = query(&[("from", "2026-03-01T09:30:00+08:00")])
            .parse()
            .unwrap();
        assert_eq!(
            f.from,
            Some(1_772_294_400_000_000 + 9 * 3_600_000_000 + 1_800_000_000)
        );
        for (k, v) in [
            ("from", "yesterday"),
            ("to", "2026-02-30"),
            ("page", "0"),
            ("page", "-1"),
            ("page", "99999999999"),
            ("actor", "a\u{0}b"),
        ] {
            let e = query(&[(k, v)]).parse().unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                (Code::InvalidParameter, Some(k)),
                "{v}"
            );
        }
    }
}
