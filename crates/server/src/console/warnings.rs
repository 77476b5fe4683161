//! Two-card risk warnings: the queue (`GET /console/warnings?level=&pattern=&status=`), a
//! warning's detail (`GET /console/warnings/{handle}`) with the owning institution's answer
//! form (`POST /console/warnings/{handle}/feedback`), and the precision page
//! (`GET /console/precision`). Everything comes through the service: scoped, masked,
//! audited.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fanzha_store::{RiskEntity, Verdict, WarningLevel, WarningStatus};

use super::chart::{steps, Point};
use super::format;
use super::frame::{page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::{with_query, PageQuery};
use super::table::{Align, Cell, Table};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::error::ApiError;
use crate::policy::{self, Action};
use crate::service::{self, PrecisionView, WarningQuery, WarningSummaryView, WarningView};
use crate::AppState;

/// The most warnings the queue page reads at once; the table sorts, filters, pages and
/// exports within them, and the page says when there may be more.
pub const QUEUE_MAX: u32 = 1_000;

/// The patterns of the default rule set, offered in the filter (others still filter by URL).
const PATTERNS: [&str; 5] = ["mule", "runner", "sold_card", "scam_caller_sim", "sim_box"];

/// Width in pixels of a full contribution bar.
const BAR_WIDTH: u32 = 160;

fn warning_href(handle: &str) -> String {
    format!("/console/warnings/{handle}")
}

/// A class per level, for the coloured badge.
fn level_class(level: WarningLevel) -> &'static str {
    match level {
        WarningLevel::Red => "level level-red",
        WarningLevel::Orange => "level level-orange",
        WarningLevel::Yellow => "level level-yellow",
    }
}

/// One `<select>` of the filter form.
struct SelectView {
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String, bool)>,
}

fn select(
    name: &'static str,
    label: &'static str,
    words: &[&str],
    chosen: Option<&str>,
    lang: Lang,
) -> SelectView {
    let mut options = vec![(
        String::new(),
        lang.t(M::AnyValue).to_owned(),
        chosen.is_none(),
    )];
    options.extend(words.iter().map(|w| {
        (
            (*w).to_owned(),
            lang.term(w).into_owned(),
            chosen == Some(*w),
        )
    }));
    SelectView {
        name,
        label,
        options,
    }
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct QueuePage {
    frame: Frame,
    selects: Vec<SelectView>,
    error: Option<String>,
    capped: Option<String>,
    table: String,
}

fn queue_table(query: &PageQuery, lang: Lang) -> Table {
    Table::primary("warnings", query, lang)
        .column("level", lang.t(M::Level), Align::Left)
        .column("score", lang.t(M::Score), Align::Right)
        .column("pattern", lang.t(M::Pattern), Align::Left)
        .column("entity", lang.t(M::WarnedEntity), Align::Left)
        .column("kind", lang.t(M::EntityKind), Align::Left)
        .column("institution", lang.t(M::Institution), Align::Left)
        .column("first", lang.t(M::FirstWarned), Align::Left)
        .column("updated", lang.t(M::UpdatedAt), Align::Left)
        .column("status", lang.t(M::Status), Align::Left)
        .empty_text(lang.t(M::NoWarnings))
}

fn queue_row(t: &mut Table, w: &WarningSummaryView, lang: Lang) {
    t.row_with_testid(
        "warning-row",
        vec![
            Cell::text(lang.term(w.level.as_str())).with_class(level_class(w.level)),
            Cell::int(i64::from(w.score)),
            Cell::text(lang.term(&w.pattern)),
            Cell::masked(w.entity.id_masked.clone()).with_href(warning_href(&w.entity.handle)),
            Cell::text(lang.term(w.entity_type.as_str())),
            Cell::text(w.institution_code.clone()),
            Cell::time(w.first_warned_at.micros),
            Cell::time(w.updated_at.micros),
            Cell::text(lang.term(w.status.as_str())),
        ],
    );
}

pub async fn queue(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    v.user.allow(Action::ViewWarnings)?;
    let lang = v.lang;
    let q = &v.query;
    let text = |k: &str| q.get(k).map(str::to_owned);
    let query = WarningQuery {
        level: text("level"),
        pattern: text("pattern"),
        status: text("status"),
        entity_type: text("entity_type"),
        // The table pages within what was read; the store is asked for the first rows.
        page: None,
    };
    let selects = vec![
        select(
            "level",
            lang.t(M::Level),
            WarningLevel::WORDS,
            q.get("level"),
            lang,
        ),
        select(
            "pattern",
            lang.t(M::Pattern),
            &PATTERNS,
            q.get("pattern"),
            lang,
        ),
        select(
            "status",
            lang.t(M::Status),
            WarningStatus::WORDS,
            q.get("status"),
            lang,
        ),
        select(
            "entity_type",
            lang.t(M::EntityKind),
            RiskEntity::WORDS,
            q.get("entity_type"),
            lang,
        ),
    ];
    let (filter, _) = match query.parse() {
        Ok(parsed) => parsed,
        // A filter that does not parse is answered on the form, with an empty queue.
        Err(e) => {
            let t = queue_table(q, lang);
            let p = QueuePage {
                frame: Frame::new(&state, &v, lang.t(M::Warnings)).await,
                selects,
                error: Some(format!(
                    "{} {}: {}",
                    lang.t(M::BadRequest),
                    e.field.as_deref().unwrap_or_default(),
                    e.message
                )),
                capped: None,
                table: t.render().map_err(render_failure)?,
            };
            return Ok(page_with_status(StatusCode::BAD_REQUEST, &p));
        }
    };
    let found = service::warnings(&state, &v.user, &filter, 1, QUEUE_MAX).await?;
    let mut t = queue_table(q, lang);
    for w in &found.warnings {
        queue_row(&mut t, w, lang);
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let p = QueuePage {
        frame: Frame::new(&state, &v, lang.t(M::Warnings)).await,
        selects,
        error: None,
        capped: found
            .has_more
            .then(|| lang.fill(M::WarningsCapped, format::count(u64::from(QUEUE_MAX)))),
        table: t.render().map_err(render_failure)?,
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

/// A reason as the detail page shows it.
struct ReasonRow {
    code: String,
    source: String,
    text: String,
    percent: String,
    bar: u32,
}

#[derive(Template)]
#[template(path = "warning.html")]
struct DetailPage {
    frame: Frame,
    handle: String,
    entity_href: String,
    id_masked: String,
    kind: String,
    level: String,
    level_class: &'static str,
    score: u8,
    pattern: String,
    status: String,
    measure: String,
    version: i64,
    institution: String,
    first_warned: String,
    updated: String,
    rules_version: String,
    model_version: String,
    reasons: Vec<ReasonRow>,
    bar_width: u32,
    can_answer: bool,
    verdicts: Vec<(String, String, bool)>,
    note: String,
    note_max: usize,
    error: Option<String>,
    notice: Option<String>,
    /// The timeline: the chart and a row per version.
    timeline: String,
    versions: Vec<VersionRow>,
    appeals: Vec<AppealRow>,
    can_appeal: bool,
    /// The pending appeal the viewer may decide.
    decide: Option<i64>,
    appeal_error: Option<String>,
    draft: Draft,
    grounds_max: usize,
    appellant_max: usize,
}

/// A version of the warning as the timeline shows it.
struct VersionRow {
    version: i64,
    at: String,
    score: u8,
    level: String,
    level_class: &'static str,
    status: String,
    reasons: String,
}

/// An appeal as the warning's page shows it.
struct AppealRow {
    id: i64,
    appellant: String,
    grounds: String,
    filed: String,
    status: String,
    decided_by: String,
    decision_reason: String,
}

/// What the appeal and decision forms show again after a refusal.
#[derive(Default)]
pub(crate) struct Draft {
    pub appellant: String,
    pub grounds: String,
    pub reason: String,
}

pub async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(handle): Path<String>,
) -> Result<Response, Failure> {
    let w = service::warning(&state, &v.user, &handle).await?;
    let mut p = detail_page(&state, &v, handle, &w).await;
    p.notice = match v.query.get("done") {
        Some("feedback") => Some(v.lang.t(M::FeedbackRecorded).to_owned()),
        Some("appeal") => Some(v.lang.t(M::AppealRecorded).to_owned()),
        Some("decision") => Some(v.lang.t(M::AppealDecided).to_owned()),
        _ => None,
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

/// The warning's page again, with a refused appeal or decision explained above its form
/// and what was typed kept.
pub(crate) async fn detail_refused(
    state: &AppState,
    mut v: Viewer,
    handle: String,
    refused: &ApiError,
    draft: Draft,
) -> Result<Response, Failure> {
    v.query = PageQuery::parse(&warning_href(&handle), None);
    let w = service::warning(state, &v.user, &handle).await?;
    let mut p = detail_page(state, &v, handle, &w).await;
    p.appeal_error = Some(super::governance::refusal(refused, v.lang));
    p.draft = Draft {
        appellant: draft
            .appellant
            .chars()
            .take(service::APPELLANT_CHARS)
            .collect(),
        grounds: draft.grounds.chars().take(service::GROUNDS_CHARS).collect(),
        reason: draft.reason.chars().take(service::GROUNDS_CHARS).collect(),
    };
    Ok(page_with_status(refused.code.status(), &p))
}

fn timeline(
    w: &WarningView,
    cutoffs: Option<(f64, f64, f64)>,
    lang: Lang,
) -> (String, Vec<VersionRow>) {
    let points: Vec<Point> = w
        .history
        .iter()
        .map(|h| Point {
            label: format!("v{}", h.version),
            value: i64::from(h.score),
            tip: format!(
                "v{} · {} · {} {} · {}",
                h.version,
                format::time(h.at.micros),
                lang.term(h.level.as_str()),
                h.score,
                lang.term(h.status.as_str())
            ),
        })
        .collect();
    let guides: Vec<(f64, &'static str)> = cutoffs.map_or_else(Vec::new, |(r, o, y)| {
        vec![(r, "level-red"), (o, "level-orange"), (y, "level-yellow")]
    });
    let svg = steps("timeline-chart", lang.t(M::Timeline), &points, &guides);
    let rows = w
        .history
        .iter()
        .rev()
        .map(|h| VersionRow {
            version: h.version,
            at: format::time(h.at.micros),
            score: h.score,
            level: lang.term(h.level.as_str()).into_owned(),
            level_class: level_class(h.level),
            status: lang.term(h.status.as_str()).into_owned(),
            reasons: h
                .reasons
                .iter()
                .take(3)
                .map(|r| match lang {
                    Lang::Zh => r.text_zh.clone(),
                    Lang::En => r.text_en.clone(),
                })
                .collect::<Vec<_>>()
                .join("；"),
        })
        .collect();
    (svg.0, rows)
}

async fn detail_page(state: &AppState, v: &Viewer, handle: String, w: &WarningView) -> DetailPage {
    let lang = v.lang;
    let s = &w.summary;
    let term = |word: &str| lang.term(word).into_owned();
    let reasons = w
        .reasons
        .iter()
        .map(|r| {
            let share = r.contribution.clamp(0.0, 1.0);
            ReasonRow {
                code: r.code.clone(),
                source: term(r.source.as_str()),
                text: match lang {
                    Lang::Zh => r.text_zh.clone(),
                    Lang::En => r.text_en.clone(),
                },
                percent: format!("{:.1}%", r.contribution * 100.0),
                // In [0, BAR_WIDTH]: the cast cannot truncate meaningfully.
                bar: (share * f64::from(BAR_WIDTH)).round() as u32,
            }
        })
        .collect();
    let title = format!("{} {}", lang.t(M::PanelWarnings), s.entity.id_masked);
    // The pattern's cut-offs as guides; a failure to read them only leaves them out.
    let cutoffs = service::cutoffs_of(state, &s.pattern)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("cut-offs for the timeline: {}", e.message);
            None
        });
    let (timeline, versions) = timeline(w, cutoffs, lang);
    let pending = w
        .appeals
        .iter()
        .find(|a| a.status == fanzha_store::AppealStatus::Open)
        .map(|a| a.id);
    let appeals = w
        .appeals
        .iter()
        .map(|a| AppealRow {
            id: a.id,
            appellant: a.appellant.clone(),
            grounds: a.grounds.clone(),
            filed: format::time(a.filed_at.micros),
            status: term(a.status.as_str()),
            decided_by: a.decided_by.clone().unwrap_or_default(),
            decision_reason: a.decision_reason.clone().unwrap_or_default(),
        })
        .collect();
    DetailPage {
        frame: Frame::new(state, v, title).await,
        entity_href: format!("/console/entity/{}", s.entity.handle),
        handle,
        id_masked: s.entity.id_masked.clone(),
        kind: term(s.entity_type.as_str()),
        level: term(s.level.as_str()),
        level_class: level_class(s.level),
        score: s.score,
        pattern: term(&s.pattern),
        status: term(s.status.as_str()),
        measure: term(s.measure.as_str()),
        version: s.version,
        institution: s.institution_code.clone(),
        first_warned: format::time(s.first_warned_at.micros),
        updated: format::time(s.updated_at.micros),
        rules_version: w.rules_version.clone().unwrap_or_default(),
        model_version: w.model_version.clone().unwrap_or_default(),
        reasons,
        bar_width: BAR_WIDTH,
        can_answer: w.can_answer,
        verdicts: Verdict::WORDS
            .iter()
            .map(|w| ((*w).to_owned(), term(w), false))
            .collect(),
        note: String::new(),
        note_max: service::NOTE_CHARS,
        error: None,
        notice: None,
        timeline,
        versions,
        appeals,
        can_appeal: w.can_appeal,
        decide: pending.filter(|_| policy::allows(v.user.role, Action::DecideAppeal)),
        appeal_error: None,
        draft: Draft::default(),
        grounds_max: service::GROUNDS_CHARS,
        appellant_max: service::APPELLANT_CHARS,
    }
}

#[derive(serde::Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
}

/// Records the answer (the service audits it) and goes back to the warning; a verdict or
/// note the service refuses is answered on the form, the warning around it.
pub async fn feedback(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    posted: Posted<FeedbackForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let outcome = service::feedback(
        &state,
        &v.user,
        &handle,
        &form.verdict,
        Some(form.note.as_str()),
    )
    .await;
    let refused: ApiError = match outcome {
        Ok(_) => {
            let to = with_query(&warning_href(&handle), &[("done", "feedback")]);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(e) if matches!(e.code.status().as_u16(), 400 | 422) && e.field.is_some() => e,
        Err(e) => return Err(e.into()),
    };
    // The page's links lead to the warning, which a GET can open.
    v.query = PageQuery::parse(&warning_href(&handle), None);
    let w = service::warning(&state, &v.user, &handle).await?;
    let mut p = detail_page(&state, &v, handle, &w).await;
    p.error = Some(format!(
        "{} {}: {}",
        v.lang.t(M::BadRequest),
        refused.field.as_deref().unwrap_or_default(),
        refused.message
    ));
    p.note = form.note.chars().take(service::NOTE_CHARS).collect();
    for o in &mut p.verdicts {
        o.2 = o.0 == form.verdict;
    }
    Ok(page_with_status(refused.code.status(), &p))
}

#[derive(Template)]
#[template(path = "precision.html")]
struct PrecisionPage {
    frame: Frame,
    by_pattern: String,
    by_rule: String,
    by_institution: String,
    by_age: String,
    drift: String,
    unused_models: Option<String>,
}

fn precision_table(
    t: Table,
    key_label: &'static str,
    view: &PrecisionView,
    translate: bool,
    lang: Lang,
) -> Table {
    let mut t = t
        .column("key", key_label, Align::Left)
        .column("answered", lang.t(M::Answered), Align::Right)
        .column("confirmed", lang.t(M::ColConfirmed), Align::Right)
        .column("action_taken", lang.t(M::ColActionTaken), Align::Right)
        .column("false_alarm", lang.t(M::ColFalseAlarm), Align::Right)
        .column("precision", lang.t(M::PrecisionCol), Align::Right)
        .column("fa_rate", lang.t(M::FalseAlarmRate), Align::Right);
    for r in &view.rows {
        // Per mille, so precision sorts as a number and reads with one decimal.
        // Per mille, so rates sort as numbers and read with one decimal.
        let rate = |p: Option<f64>| match p {
            Some(p) => {
                let permille = (p * 1000.0).round() as i64;
                let mut c = Cell::int(permille);
                c.text = format!("{}.{}%", permille / 10, permille % 10);
                c
            }
            None => Cell::text("—"),
        };
        let key = if translate {
            lang.term(&r.key).into_owned()
        } else {
            r.key.clone()
        };
        t.row_with_testid(
            format!("precision-{}", r.key),
            vec![
                Cell::text(key),
                Cell::count(r.answered),
                Cell::count(r.confirmed),
                Cell::count(r.action_taken),
                Cell::count(r.false_alarm),
                rate(r.precision),
                rate(r.false_alarm_rate),
            ],
        );
    }
    t
}

pub async fn precision(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let patterns = service::precision(&state, &v.user, "pattern").await?;
    let rules = service::precision(&state, &v.user, "rule").await?;
    let institutions = service::precision(&state, &v.user, "institution").await?;
    let tables = [
        precision_table(
            Table::primary("patterns", q, lang),
            lang.t(M::Pattern),
            &patterns,
            true,
            lang,
        ),
        precision_table(
            Table::secondary("rules", q, lang).page_size(25),
            lang.t(M::Rule),
            &rules,
            false,
            lang,
        ),
        precision_table(
            Table::secondary("institutions", q, lang),
            lang.t(M::Institution),
            &institutions,
            false,
            lang,
        ),
    ];
    let (ages, drift, unused_models) = super::governance::precision_sections(&state, &v).await?;
    let [patterns_t, rules_t, institutions_t] = tables;
    let tables = [patterns_t, rules_t, institutions_t, ages, drift];
    if let Some(csv) = tables.iter().find_map(|t| t.csv_if_requested(q)) {
        return Ok(csv);
    }
    let [by_pattern, by_rule, by_institution, by_age, drift] =
        tables.map(|t| t.render().map_err(render_failure));
    let p = PrecisionPage {
        frame: Frame::new(&state, &v, lang.t(M::PrecisionPage)).await,
        by_pattern: by_pattern?,
        by_rule: by_rule?,
        by_institution: by_institution?,
        by_age: by_age?,
        drift: drift?,
        unused_models,
    };
    Ok(page_with_status(StatusCode::OK, &p))
}
