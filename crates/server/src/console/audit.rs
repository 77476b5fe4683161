//! The auditors' pages: the audit log (`/console/audit?actor=&action=&from=&to=&page=`,
//! details masked by the service), the chain check (`/console/audit/verify`) and the
//! insider flags (`/console/audit/flags`, reviewed with a button).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::frame::{page, page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::with_query;
use super::table::{Align, Cell, CellForm, Table, CSV_MAX_ROWS};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::service::{self, AuditEntryView, AuditQuery};
use crate::AppState;

/// Most pages one CSV export of the log reads (each a store query of
/// [`service::AUDIT_PER_PAGE`] entries).
const CSV_MAX_PAGES: u32 = 200;

/// The filter form's values, shown again.
struct AuditFilterForm {
    actor: String,
    action: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    filter: AuditFilterForm,
    error: Option<String>,
    table: String,
}

/// A detail, JSON as the service masked it, compact.
fn detail_text(e: &AuditEntryView) -> String {
    match &e.detail {
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        v => v.to_string(),
    }
}

fn audit_row(t: &mut Table, e: &AuditEntryView, lang: Lang) {
    let action = lang.term(&e.action);
    let action = if action == e.action {
        e.action.clone()
    } else {
        format!("{action} ({})", e.action)
    };
    t.row_with_testid(
        "audit-row",
        vec![
            Cell::int(e.id),
            Cell::time(e.at.micros),
            Cell::text(e.actor.clone()),
            Cell::text(action),
            Cell::text(detail_text(e)).with_class("detail"),
        ],
    );
}

pub async fn log(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let text = |k: &str| q.get(k).map(str::to_owned);
    let query = AuditQuery {
        actor: text("actor"),
        action: text("action"),
        from: text("from"),
        to: text("to"),
        page: text("page"),
    };
    let filter_form = AuditFilterForm {
        actor: query.actor.clone().unwrap_or_default(),
        action: query.action.clone().unwrap_or_default(),
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
    };
    let columns = |t: Table| {
        t.column("id", "#", Align::Right)
            .column("at", lang.t(M::At), Align::Left)
            .column("actor", lang.t(M::Actor), Align::Left)
            .column("action", lang.t(M::Action), Align::Left)
            .plain_column("detail", lang.t(M::Detail))
    };
    let (filter, page_no) = match query.parse() {
        Ok(parsed) => parsed,
        // A filter that does not parse is answered on the form (the service's message
        // names the parameter), with an empty list.
        Err(e) if e.code.status() == StatusCode::BAD_REQUEST => {
            v.user.allow(crate::policy::Action::Audit)?;
            let t = columns(Table::primary("audit", q, lang)).paged_by_source(0, 1);
            let p = AuditPage {
                frame: Frame::new(&state, &v, lang.t(M::AuditLog)).await,
                filter: filter_form,
                error: Some(format!(
                    "{} {}: {}",
                    lang.t(M::BadRequest),
                    e.field.as_deref().unwrap_or_default(),
                    e.message
                )),
                table: t.render().map_err(render_failure)?,
            };
            return Ok(page_with_status(StatusCode::BAD_REQUEST, &p));
        }
        Err(e) => return Err(e.into()),
    };

    if q.get("format") == Some("csv") {
        // The export is the whole filtered log (bounded), not the page on screen.
        let mut t = columns(Table::primary("audit", q, lang));
        let mut page_no = 1;
        loop {
            let p = service::audit_page(&state, &v.user, &filter, page_no).await?;
            for e in &p.entries {
                audit_row(&mut t, e, lang);
            }
            if u64::from(page_no) >= p.pages || page_no >= CSV_MAX_PAGES || t.len() >= CSV_MAX_ROWS
            {
                break;
            }
            page_no += 1;
        }
        if let Some(csv) = t.csv_if_requested(q) {
            return Ok(csv);
        }
    }

    let p = service::audit_page(&state, &v.user, &filter, page_no).await?;
    let mut t =
        columns(Table::primary("audit", q, lang)).paged_by_source(p.total, u64::from(p.per_page));
    for e in &p.entries {
        audit_row(&mut t, e, lang);
    }
    let page_view = AuditPage {
        frame: Frame::new(&state, &v, lang.t(M::AuditLog)).await,
        filter: filter_form,
        error: None,
        table: t.render().map_err(render_failure)?,
    };
    Ok(page(&page_view))
}

#[derive(Template)]
#[template(path = "audit_verify.html")]
struct VerifyPage {
    frame: Frame,
    ok: bool,
    message: String,
}

pub async fn verify(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let r = service::verify(&state, &v.user).await?;
    let message = match r.first_broken {
        None => lang.fill(M::ChainIntact, super::format::count(r.entries)),
        Some(id) => lang.fill(M::ChainBroken, id),
    };
    let p = VerifyPage {
        frame: Frame::new(&state, &v, lang.t(M::AuditVerify)).await,
        ok: r.ok,
        message,
    };
    Ok(page(&p))
}

#[derive(Template)]
#[template(path = "audit_flags.html")]
struct FlagsPage {
    frame: Frame,
    notice: Option<String>,
    table: String,
}

pub async fn flags(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let flags = service::flags(&state, &v.user).await?;
    let mut t = Table::primary("flags", &v.query, lang)
        .column("id", "#", Align::Right)
        .column("raised", lang.t(M::RaisedAt), Align::Left)
        .column("username", lang.t(M::Username), Align::Left)
        .column("day", lang.t(M::Day), Align::Left)
        .column("rule", lang.t(M::Rule), Align::Left)
        .plain_column("detail", lang.t(M::Detail))
        .column("reviewed", lang.t(M::ReviewedBy), Align::Left)
        .default_sort("id", true);
    for f in &flags {
        let reviewed = match &f.reviewed_by {
            Some(by) => Cell::text(by.clone()),
            None => Cell::form(
                lang.t(M::Unreviewed),
                CellForm {
                    action: "/console/audit/flags/review".to_owned(),
                    button: lang.t(M::Review).to_owned(),
                    fields: vec![("id".to_owned(), f.id.to_string())],
                    csrf: v.csrf.clone(),
                    class: "",
                },
            ),
        };
        t.row_with_testid(
            "flag-row",
            vec![
                Cell::int(f.id),
                Cell::time(f.raised_at.micros),
                Cell::text(f.username.clone()),
                Cell::text(f.day.clone()),
                Cell::text(lang.term(&f.rule)),
                Cell::text(f.detail.to_string()).with_class("detail"),
                reviewed,
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(&v.query) {
        return Ok(csv);
    }
    // After a review (POST, then 303 here): confirm it, for a flag that is reviewed.
    let notice = v
        .query
        .get("flag")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| {
            v.query.get("done") == Some("reviewed")
                && flags.iter().any(|f| f.id == *id && f.reviewed_by.is_some())
        })
        .map(|id| lang.fill(M::FlagReviewed, id));
    let p = FlagsPage {
        notice,
        frame: Frame::new(&state, &v, lang.t(M::InsiderFlags)).await,
        table: t.render().map_err(render_failure)?,
    };
    Ok(page(&p))
}

#[derive(serde::Deserialize)]
pub struct FlagIdForm {
    #[serde(default)]
    id: String,
}

pub async fn review_flag(
    State(state): State<AppState>,
    posted: Posted<FlagIdForm>,
) -> Result<Response, Failure> {
    let id = posted
        .form
        .id
        .trim()
        .parse::<i64>()
        .map_err(|_| Failure::new(StatusCode::BAD_REQUEST, M::BadRequest).with_detail("id"))?;
    service::review_flag(&state, &posted.viewer.user, id).await?;
    let to = with_query(
        "/console/audit/flags",
        &[("done", "reviewed"), ("flag", &id.to_string())],
    );
    Ok(Redirect::to(&to).into_response())
}
