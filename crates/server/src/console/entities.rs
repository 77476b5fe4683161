//! Search and entity profiles: `GET /console/search?q=…`, `GET /console/entity/{handle}`
//! and `POST /console/entity/{handle}/reveal`. Entities are named by the service's opaque
//! handles, so no raw id appears in a page, a link or a log line; values come masked from
//! the service, and the one revealed value is shown only on the page that asked for it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::frame::{page, page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::PageQuery;
use super::table::{Align, Cell, Table};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::error::ApiError;
use crate::service::{self, EntityView, ProfileView, RevealView};
use crate::AppState;
use fanzha_store::EntityKind;

fn entity_href(e: &EntityView) -> String {
    format!("/console/entity/{}", e.handle)
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    frame: Frame,
    q: String,
    max_chars: usize,
    error: Option<String>,
    results: Option<String>,
    capped: Option<String>,
}

pub async fn search(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = v.query.get("q").unwrap_or("").to_owned();
    let mut error = None;
    let mut results = None;
    let mut status = StatusCode::OK;
    let mut capped = false;
    if !q.is_empty() {
        match service::search(&state, &v.user, &q).await {
            Ok(hits) => {
                let mut t = Table::primary("hits", &v.query, lang)
                    .column("kind", lang.t(M::EntityKind), Align::Left)
                    .column("id", lang.t(M::Identifier), Align::Left)
                    .column("label", lang.t(M::Label), Align::Left)
                    .column("matched", lang.t(M::Matched), Align::Left)
                    .empty_text(lang.t(M::NoRows));
                for h in &hits {
                    t.row_with_testid(
                        "hit",
                        vec![
                            Cell::text(lang.term(h.entity.kind.as_str())),
                            Cell::masked(h.entity.id_masked.clone())
                                .with_href(entity_href(&h.entity)),
                            Cell::masked(h.label.clone()),
                            Cell::text(lang.term(&h.matched)),
                        ],
                    );
                }
                if let Some(csv) = t.csv_if_requested(&v.query) {
                    return Ok(csv);
                }
                results = Some(t.render().map_err(render_failure)?);
                // A search finds, it does not list: at the limit, say there may be more.
                capped = hits.len() >= service::SEARCH_LIMIT as usize;
            }
            // A query the service refuses (too long, control characters) is answered on
            // the form, not on an error page.
            Err(e) if e.code.status() == StatusCode::BAD_REQUEST => {
                status = StatusCode::BAD_REQUEST;
                error = Some(format!("{} {}", lang.t(M::BadRequest), e.message));
            }
            Err(e) => return Err(e.into()),
        }
    } else if let Err(e) = v.user.allow(crate::policy::Action::ViewEntities) {
        // The empty form too is only for roles that may search.
        return Err(e.into());
    }
    let p = SearchPage {
        frame: Frame::new(&state, &v, lang.t(M::Search)).await,
        q: q.chars().take(service::MAX_QUERY_CHARS).collect(),
        max_chars: service::MAX_QUERY_CHARS,
        error,
        results,
        capped: capped.then(|| lang.fill(M::SearchCapped, service::SEARCH_LIMIT)),
    };
    Ok(page_with_status(status, &p))
}

/// A personal field the reveal form offers.
struct RevealOption {
    key: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "entity.html")]
struct EntityPage {
    frame: Frame,
    handle: String,
    kind: String,
    id_masked: String,
    community: Option<String>,
    attributes: String,
    links: String,
    history: String,
    can_reveal: bool,
    reveal_options: Vec<RevealOption>,
    reason: String,
    reveal_error: Option<String>,
    revealed: Option<(String, String)>,
}

pub async fn entity(
    State(state): State<AppState>,
    v: Viewer,
    Path(handle): Path<String>,
) -> Result<Response, Failure> {
    let profile = service::profile(&state, &v.user, &handle).await?;
    let tables = ProfileTables::new(&profile, &v.query, v.lang);
    if let Some(csv) = tables.csv_if_requested(&v.query) {
        return Ok(csv);
    }
    let p = entity_page(&state, &v, handle, &profile, &tables, None).await?;
    Ok(page(&p))
}

#[derive(serde::Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    reason: String,
}

/// Reveals one field with a reason (recorded by the service) and shows the profile again
/// with the value. A missing or short reason is answered on the form (422), the profile
/// around it.
pub async fn reveal(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    posted: Posted<RevealForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    // The page's links (sorting, paging, the language switch) lead to the profile, which a
    // GET can open; the revealed value is not carried over.
    v.query = PageQuery::parse(&format!("/console/entity/{handle}"), None);
    let outcome = service::reveal(&state, &v.user, &handle, &form.field, &form.reason).await;
    let reveal = match outcome {
        Ok(r) => Ok(r),
        Err(e) if e.code.status() == StatusCode::UNPROCESSABLE_ENTITY => Err(e),
        Err(e) => return Err(e.into()),
    };
    let profile = service::profile(&state, &v.user, &handle).await?;
    let tables = ProfileTables::new(&profile, &v.query, v.lang);
    let status = if reveal.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut p = entity_page(&state, &v, handle, &profile, &tables, Some(reveal)).await?;
    if status != StatusCode::OK {
        // Keep what was typed, so a reason one word short is not lost.
        p.reason = form.reason.chars().take(500).collect();
        for o in &mut p.reveal_options {
            o.selected = o.key == form.field;
        }
    }
    Ok(page_with_status(status, &p))
}

async fn entity_page(
    state: &AppState,
    v: &Viewer,
    handle: String,
    profile: &ProfileView,
    tables: &ProfileTables,
    reveal: Option<Result<RevealView, ApiError>>,
) -> Result<EntityPage, Failure> {
    let lang = v.lang;
    let kind = lang.term(profile.entity.kind.as_str()).into_owned();
    // The entity's own id first, then each personal attribute the caller may reveal.
    let id_label = match profile.entity.kind {
        EntityKind::Person => "id_number",
        EntityKind::Account => "account_id",
        EntityKind::Sim => "msisdn",
        EntityKind::Device => "device_id",
    };
    let mut reveal_options = vec![RevealOption {
        key: "id".to_owned(),
        label: lang.term(id_label).into_owned(),
        selected: false,
    }];
    reveal_options.extend(profile.attributes.iter().filter(|a| a.revealable).map(|a| {
        RevealOption {
            key: a.key.clone(),
            label: lang.term(&a.key).into_owned(),
            selected: false,
        }
    }));
    let (revealed, reveal_error) = match reveal {
        Some(Ok(r)) => {
            let label = reveal_options
                .iter()
                .find(|o| o.key == r.field)
                .map_or_else(|| r.field.clone(), |o| o.label.clone());
            (Some((label, r.value)), None)
        }
        Some(Err(e)) => (None, Some(reveal_error_text(&e, lang))),
        None => (None, None),
    };
    Ok(EntityPage {
        frame: Frame::new(state, v, format!("{kind} {}", profile.entity.id_masked)).await,
        handle,
        kind,
        id_masked: profile.entity.id_masked.clone(),
        community: profile.community_code.clone(),
        attributes: tables.attributes.render().map_err(render_failure)?,
        links: tables.links.render().map_err(render_failure)?,
        history: tables.history.render().map_err(render_failure)?,
        can_reveal: profile.can_reveal,
        reveal_options,
        reason: String::new(),
        reveal_error,
        revealed,
    })
}

fn reveal_error_text(e: &ApiError, lang: Lang) -> String {
    match e.field.as_deref() {
        Some("reason") => lang.fill(
            M::ReasonLength,
            format!(
                "{}–{}",
                service::REASON_CHARS.start(),
                service::REASON_CHARS.end()
            ),
        ),
        _ => format!("{} {}", lang.t(M::BadRequest), e.message),
    }
}

/// The three tables of a profile: history is the page's main table (it pages), attributes
/// and links are secondary.
struct ProfileTables {
    attributes: Table,
    links: Table,
    history: Table,
}

impl ProfileTables {
    fn new(p: &ProfileView, query: &PageQuery, lang: Lang) -> ProfileTables {
        let mut attributes = Table::secondary("attributes", query, lang)
            .column("field", lang.t(M::Attribute), Align::Left)
            .column("value", lang.t(M::Value), Align::Left)
            .compact();
        for a in &p.attributes {
            let value = if a.field == fanzha_store::Field::Plain {
                Cell::text(lang.term(&a.value))
            } else {
                Cell::masked(a.value.clone())
            };
            attributes.row_with_testid(
                format!("attr-{}", a.key),
                vec![Cell::text(lang.term(&a.key)), value],
            );
        }

        let mut links = Table::secondary("links", query, lang)
            .column("relation", lang.t(M::Relation), Align::Left)
            .column("kind", lang.t(M::EntityKind), Align::Left)
            .column("target", lang.t(M::Target), Align::Left)
            .column("weight", lang.t(M::Weight), Align::Right)
            .column("first", lang.t(M::FirstSeen), Align::Left)
            .column("last", lang.t(M::LastSeen), Align::Left);
        for l in &p.links {
            let time = |t: &Option<service::TimeView>| {
                t.as_ref()
                    .map_or_else(Cell::empty, |t| Cell::time(t.micros))
            };
            links.row_with_testid(
                "link",
                vec![
                    Cell::text(lang.term(&l.relation)),
                    Cell::text(lang.term(l.target.kind.as_str())),
                    Cell::masked(l.target.id_masked.clone()).with_href(entity_href(&l.target)),
                    Cell::count(l.weight),
                    time(&l.first_at),
                    time(&l.last_at),
                ],
            );
        }

        let mut history = Table::primary("history", query, lang)
            .column("at", lang.t(M::Time), Align::Left)
            .column("event", lang.t(M::Event), Align::Left)
            .column("counterparty", lang.t(M::Counterparty), Align::Left)
            .column("amount", lang.t(M::Amount), Align::Right)
            .column("note", lang.t(M::Note), Align::Left);
        for e in &p.history {
            let counterparty = e.counterparty.as_ref().map_or_else(Cell::empty, |c| {
                Cell::masked(c.id_masked.clone()).with_href(entity_href(c))
            });
            history.row_with_testid(
                "event",
                vec![
                    Cell::time(e.at.micros),
                    Cell::text(lang.term(&e.what)),
                    counterparty,
                    e.amount_fen.map_or_else(Cell::empty, Cell::yuan),
                    Cell::text(lang.term(&e.note)),
                ],
            );
        }
        ProfileTables {
            attributes,
            links,
            history,
        }
    }

    fn csv_if_requested(&self, query: &PageQuery) -> Option<Response> {
        [&self.history, &self.attributes, &self.links]
            .into_iter()
            .find_map(|t| t.csv_if_requested(query))
    }
}
