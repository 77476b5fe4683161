//! Governance pages: the appeals queue (`/console/appeals`) and the decisions posted from a
//! warning's page (`POST /console/warnings/{handle}/appeals`, `POST
//! /console/appeals/{id}/decision`), threshold decisions (`/console/thresholds`), the rule
//! set (`/console/rules`), model cards (`/console/models`), institutions' answers
//! (`/console/institutions`) and operations (`/console/admin/operations`, with the
//! dead-letter button). Everything goes through [`crate::service`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::frame::{page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::{with_query, PageQuery};
use super::table::{Align, Cell, Table};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::error::ApiError;
use crate::service::{self, PrecisionRowView, ThresholdProposal};
use crate::AppState;

const THRESHOLDS: &str = "/console/thresholds";
const OPERATIONS: &str = "/console/admin/operations";

/// A notice above a page: the outcome of a form.
pub(crate) struct Notice {
    pub ok: bool,
    pub text: String,
}

/// A client's mistake in a form, answered on the form; anything else is an error page.
pub(crate) fn form_error(e: ApiError) -> Result<ApiError, Failure> {
    let status = e.code.status();
    if status.is_client_error() && !matches!(status.as_u16(), 403 | 404) {
        Ok(e)
    } else {
        Err(e.into())
    }
}

pub(crate) fn refusal(e: &ApiError, lang: Lang) -> String {
    let field = e
        .field
        .as_deref()
        .map(|f| format!("{f}: "))
        .unwrap_or_default();
    format!("{} {field}{}", lang.t(M::BadRequest), e.message)
}

/// A page of titled sections, each a rendered table.
pub(crate) struct Section {
    pub title: String,
    pub testid: &'static str,
    pub hint: Option<String>,
    /// A link under the title: (href, label).
    pub link: Option<(String, String)>,
    pub body: String,
}

#[derive(Template)]
#[template(path = "sections.html")]
struct SectionsPage {
    frame: Frame,
    lead: Option<String>,
    notice: Option<Notice>,
    sections: Vec<Section>,
}

fn percent(p: Option<f64>) -> Cell {
    match p {
        Some(p) => {
            let permille = (p * 1000.0).round() as i64;
            let mut c = Cell::int(permille);
            c.text = format!("{}.{}%", permille / 10, permille % 10);
            c
        }
        None => Cell::text("—"),
    }
}

fn answers_cells(a: &PrecisionRowView) -> [Cell; 4] {
    [
        Cell::count(a.answered),
        Cell::count(a.false_alarm),
        percent(a.precision),
        percent(a.false_alarm_rate),
    ]
}

// ---- appeals ----

pub async fn appeals(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let status = q.get("status").unwrap_or("open").to_owned();
    let view = service::appeals(&state, &v.user, &status).await?;
    let mut t = Table::primary("appeals", q, lang)
        .column("id", lang.t(M::AppealId), Align::Right)
        .column("entity", lang.t(M::WarnedEntity), Align::Left)
        .column("kind", lang.t(M::EntityKind), Align::Left)
        .column("appellant", lang.t(M::Appellant), Align::Left)
        .column("grounds", lang.t(M::Grounds), Align::Left)
        .column("filed", lang.t(M::FiledAt), Align::Left)
        .column("age", lang.t(M::AgeHours), Align::Right)
        .column("status", lang.t(M::Status), Align::Left)
        .column("decided_by", lang.t(M::DecidedBy), Align::Left)
        .empty_text(lang.t(M::NoAppeals));
    for a in &view.appeals {
        t.row_with_testid(
            "appeal-row",
            vec![
                Cell::int(a.id),
                Cell::masked(a.entity.id_masked.clone())
                    .with_href(format!("/console/warnings/{}#appeals", a.entity.handle)),
                Cell::text(lang.term(a.entity_type.as_str())),
                Cell::text(a.appellant.clone()),
                Cell::text(a.grounds.clone()),
                Cell::time(a.filed_at.micros),
                Cell::int(a.age_hours),
                Cell::text(lang.term(a.status.as_str())),
                Cell::text(a.decided_by.clone().unwrap_or_default()),
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let other = if view.status == "open" { "all" } else { "open" };
    let p = SectionsPage {
        frame: Frame::new(&state, &v, lang.t(M::AppealsPage)).await,
        lead: Some(lang.t(M::AppealsLead).to_owned()),
        notice: None,
        sections: vec![Section {
            title: format!("{} · {}", lang.t(M::Status), lang.term(&view.status)),
            testid: "appeals",
            hint: None,
            link: Some((
                format!("/console/appeals?status={other}"),
                if other == "all" {
                    lang.t(M::AnyValue).to_owned()
                } else {
                    lang.term(other).into_owned()
                },
            )),
            body: t.render().map_err(render_failure)?,
        }],
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

#[derive(serde::Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    appellant: String,
    #[serde(default)]
    grounds: String,
}

/// Records an appeal from the warning's page; a refusal is shown on that page.
pub async fn file_appeal(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    posted: Posted<AppealForm>,
) -> Result<Response, Failure> {
    let Posted { viewer: v, form } = posted;
    match service::file_appeal(&state, &v.user, &handle, &form.appellant, &form.grounds).await {
        Ok(_) => Ok(Redirect::to(&with_query(
            &format!("/console/warnings/{handle}"),
            &[("done", "appeal")],
        ))
        .into_response()),
        Err(e) => {
            let e = form_error(e)?;
            let draft = super::warnings::Draft {
                appellant: form.appellant,
                grounds: form.grounds,
                reason: String::new(),
            };
            super::warnings::detail_refused(&state, v, handle, &e, draft).await
        }
    }
}

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// The warning's page to go back to.
    #[serde(default)]
    handle: String,
}

/// Decides an appeal from the warning's page; a refusal is shown on that page.
pub async fn decide_appeal(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<DecisionForm>,
) -> Result<Response, Failure> {
    let Posted { viewer: v, form } = posted;
    let back = |done: &str| {
        if form.handle.is_empty() {
            "/console/appeals".to_owned()
        } else {
            with_query(
                &format!("/console/warnings/{}", form.handle),
                &[("done", done)],
            )
        }
    };
    match service::decide_appeal(&state, &v.user, id, &form.decision, &form.reason).await {
        Ok(_) => Ok(Redirect::to(&back("decision")).into_response()),
        Err(e) => {
            let e = form_error(e)?;
            if form.handle.is_empty() {
                return Err(e.into());
            }
            let draft = super::warnings::Draft {
                appellant: String::new(),
                grounds: String::new(),
                reason: form.reason,
            };
            super::warnings::detail_refused(&state, v, form.handle, &e, draft).await
        }
    }
}

// ---- thresholds ----

#[derive(Template)]
#[template(path = "thresholds.html")]
struct ThresholdsPage {
    frame: Frame,
    notice: Option<Notice>,
    cutoffs: String,
    history: String,
    can_decide: bool,
    patterns: Vec<String>,
    draft: ThresholdDraft,
    reason_max: usize,
}

#[derive(Default, serde::Deserialize)]
pub struct ThresholdDraft {
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    new_threshold: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    effective_at: String,
    #[serde(default)]
    evaluation: String,
}

async fn thresholds_page(
    state: &AppState,
    v: &Viewer,
    notice: Option<Notice>,
    draft: ThresholdDraft,
) -> Result<ThresholdsPage, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let view = service::thresholds(state, &v.user).await?;
    let cut = |x: f64| Cell::text(format!("{x}"));
    let mut cutoffs = Table::primary("cutoffs", q, lang)
        .column("pattern", lang.t(M::Pattern), Align::Left)
        .column("red", lang.t(M::Red), Align::Right)
        .column("orange", lang.t(M::Orange), Align::Right)
        .column("yellow", lang.t(M::Yellow), Align::Right)
        .column("files", lang.t(M::FromFiles), Align::Left)
        .column("decisions", lang.t(M::DecisionHistory), Align::Left)
        .compact();
    for c in &view.patterns {
        cutoffs.row_with_testid(
            format!("cutoff-{}", c.pattern),
            vec![
                Cell::text(lang.term(&c.pattern)),
                cut(c.red),
                cut(c.orange),
                cut(c.yellow),
                Cell::text(format!(
                    "{} / {} / {}",
                    c.files_red, c.files_orange, c.files_yellow
                )),
                Cell::text(
                    c.decisions
                        .iter()
                        .map(|d| format!("#{d}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            ],
        );
    }
    let mut history = Table::secondary("decisions", q, lang)
        .column("id", "#", Align::Right)
        .column("effective", lang.t(M::EffectiveAt), Align::Left)
        .column("state", lang.t(M::Status), Align::Left)
        .column("pattern", lang.t(M::Pattern), Align::Left)
        .column("level", lang.t(M::Level), Align::Left)
        .column("old", lang.t(M::OldThreshold), Align::Right)
        .column("new", lang.t(M::NewThreshold), Align::Right)
        .column("actor", lang.t(M::Actor), Align::Left)
        .column("reason", lang.t(M::Reasons), Align::Left)
        .column("eval", lang.t(M::PrecisionAtNew), Align::Right)
        .column("at", lang.t(M::At), Align::Left)
        .empty_text(lang.t(M::NoRows));
    for d in &view.decisions {
        history.row_with_testid(
            "decision-row",
            vec![
                Cell::int(d.id),
                Cell::time(d.effective_at.micros),
                Cell::text(lang.t(if d.in_effect {
                    M::InEffect
                } else {
                    M::Scheduled
                })),
                Cell::text(lang.term(&d.pattern)),
                Cell::text(lang.term(&d.level)),
                d.old_threshold.map_or_else(|| Cell::text("—"), Cell::int),
                Cell::int(d.new_threshold),
                Cell::text(d.actor.clone()),
                Cell::text(d.reason.clone()),
                {
                    let at_new = &d.evaluation["answers"]["at_new"];
                    match (at_new["precision"].as_f64(), at_new["answered"].as_u64()) {
                        (Some(p), Some(n)) => {
                            let mut c = percent(Some(p));
                            c.text = format!("{} ({n})", c.text);
                            c
                        }
                        _ => Cell::text("—"),
                    }
                },
                Cell::time(d.at.micros),
            ],
        );
    }
    Ok(ThresholdsPage {
        frame: Frame::new(state, v, lang.t(M::ThresholdsPage)).await,
        notice,
        cutoffs: cutoffs.render().map_err(render_failure)?,
        history: history.render().map_err(render_failure)?,
        can_decide: crate::policy::allows(v.user.role, crate::policy::Action::DecideThreshold),
        patterns: view.patterns.iter().map(|c| c.pattern.clone()).collect(),
        draft,
        reason_max: service::GROUNDS_CHARS,
    })
}

pub async fn thresholds(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let notice = (v.query.get("done") == Some("decision")).then(|| Notice {
        ok: true,
        text: v.lang.t(M::DecisionRecorded).to_owned(),
    });
    let p = thresholds_page(&state, &v, notice, ThresholdDraft::default()).await?;
    Ok(page_with_status(StatusCode::OK, &p))
}

pub async fn record_threshold(
    State(state): State<AppState>,
    posted: Posted<ThresholdDraft>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let proposal = ThresholdProposal {
        pattern: form.pattern.clone(),
        level: form.level.clone(),
        new_threshold: form.new_threshold.clone(),
        reason: form.reason.clone(),
        effective_at: form.effective_at.clone(),
        evaluation: form.evaluation.clone(),
    };
    match service::record_threshold(&state, &v.user, &proposal).await {
        Ok(_) => Ok(Redirect::to(&with_query(THRESHOLDS, &[("done", "decision")])).into_response()),
        Err(e) => {
            let e = form_error(e)?;
            v.query = PageQuery::parse(THRESHOLDS, None);
            let notice = Some(Notice {
                ok: false,
                text: refusal(&e, v.lang),
            });
            let p = thresholds_page(&state, &v, notice, form).await?;
            Ok(page_with_status(e.code.status(), &p))
        }
    }
}

// ---- the rule set ----

pub async fn rules(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let view = service::rules(&state, &v.user).await?;
    let mut patterns = Table::primary("patterns", q, lang)
        .column("pattern", lang.t(M::Pattern), Align::Left)
        .column("entity", lang.t(M::EntityKind), Align::Left)
        .column(
            "cutoffs",
            format!(
                "{} ({}/{}/{})",
                lang.t(M::Threshold),
                lang.t(M::Red),
                lang.t(M::Orange),
                lang.t(M::Yellow)
            ),
            Align::Left,
        )
        .column("measure", lang.t(M::Measure), Align::Left)
        .column("weights", lang.t(M::RuleWeights), Align::Left)
        .column("answered", lang.t(M::Answered), Align::Right)
        .column("false_alarm", lang.t(M::ColFalseAlarm), Align::Right)
        .column("precision", lang.t(M::PrecisionCol), Align::Right)
        .column("fa_rate", lang.t(M::FalseAlarmRate), Align::Right)
        .compact();
    for p in &view.patterns {
        let mut cells = vec![
            Cell::text(lang.term(&p.name)),
            Cell::text(lang.term(&p.entity)),
            Cell::text(format!("{} / {} / {}", p.red, p.orange, p.yellow)).with_class("cutoffs"),
            Cell::text(lang.term(&p.measure)),
            Cell::text(
                p.terms
                    .iter()
                    .map(|t| format!("{} ×{:.2}", t.rule, t.weight))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .with_class("mono"),
        ];
        cells.extend(answers_cells(&p.answers));
        patterns.row_with_testid(format!("pattern-{}-{}", p.name, p.entity), cells);
    }
    let mut rules = Table::secondary("rules", q, lang)
        .column("code", lang.t(M::Rule), Align::Left)
        .column("entity", lang.t(M::EntityKind), Align::Left)
        .column("expr", lang.t(M::Expression), Align::Left)
        .column("text", lang.t(M::Detail), Align::Left)
        .column("file", lang.t(M::File), Align::Left)
        .column("answered", lang.t(M::Answered), Align::Right)
        .column("false_alarm", lang.t(M::ColFalseAlarm), Align::Right)
        .column("precision", lang.t(M::PrecisionCol), Align::Right)
        .column("fa_rate", lang.t(M::FalseAlarmRate), Align::Right)
        .page_size(50);
    for r in &view.rules {
        let mut cells = vec![
            Cell::text(r.code.clone()).with_class("mono"),
            Cell::text(lang.term(&r.entity)),
            Cell::text(r.expr.clone()).with_class("mono"),
            Cell::text(match lang {
                Lang::Zh => r.text_zh.clone(),
                Lang::En => r.text_en.clone(),
            }),
            Cell::text(r.file.clone()),
        ];
        cells.extend(answers_cells(&r.answers));
        rules.row_with_testid(format!("rule-{}", r.code), cells);
    }
    let tables = [patterns, rules];
    if let Some(csv) = tables.iter().find_map(|t| t.csv_if_requested(q)) {
        return Ok(csv);
    }
    let [patterns, rules] = tables.map(|t| t.render().map_err(render_failure));
    let p = SectionsPage {
        frame: Frame::new(&state, &v, lang.t(M::RulesPage)).await,
        lead: Some(format!("{} ({})", lang.t(M::RulesLead), view.version)),
        notice: None,
        sections: vec![
            Section {
                title: lang.t(M::ByPattern).to_owned(),
                testid: "rules-patterns",
                hint: None,
                link: None,
                body: patterns?,
            },
            Section {
                title: lang.t(M::ByRule).to_owned(),
                testid: "rules-rules",
                hint: None,
                link: None,
                body: rules?,
            },
        ],
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- institutions ----

pub async fn institutions(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let rows = service::institution_feedback(&state, &v.user).await?;
    let mut t = Table::primary("institutions", q, lang)
        .column("institution", lang.t(M::Institution), Align::Left)
        .column("warnings", lang.t(M::WarningsCol), Align::Right)
        .column("answered", lang.t(M::Answered), Align::Right)
        .column("unanswered", lang.t(M::Unanswered), Align::Right)
        .column("confirmed", lang.t(M::ColConfirmed), Align::Right)
        .column("action_taken", lang.t(M::ColActionTaken), Align::Right)
        .column("false_alarm", lang.t(M::ColFalseAlarm), Align::Right)
        .column("fa_rate", lang.t(M::FalseAlarmRate), Align::Right)
        .empty_text(lang.t(M::NoWarnings));
    for r in &rows {
        t.row_with_testid(
            format!("institution-{}", r.institution_code),
            vec![
                Cell::text(r.institution_code.clone()),
                Cell::count(r.warnings),
                Cell::count(r.answered),
                Cell::count(r.unanswered),
                Cell::count(r.confirmed),
                Cell::count(r.action_taken),
                Cell::count(r.false_alarm),
                percent(r.false_alarm_rate),
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let p = SectionsPage {
        frame: Frame::new(&state, &v, lang.t(M::InstitutionsPage)).await,
        lead: Some(lang.t(M::InstitutionsLead).to_owned()),
        notice: None,
        sections: vec![Section {
            title: lang.t(M::ByInstitution).to_owned(),
            testid: "institutions",
            hint: None,
            link: None,
            body: t.render().map_err(render_failure)?,
        }],
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- model cards ----

struct EvalRow {
    source: String,
    kind: String,
    threshold: String,
    precision: String,
    recall: String,
    f1: String,
    ap: String,
    targets: String,
}

struct CardPage {
    version: String,
    created: String,
    facts: Vec<(String, String)>,
    evals: Vec<EvalRow>,
    importances: Vec<(String, String, String)>,
    raw: String,
}

#[derive(Template)]
#[template(path = "models.html")]
struct ModelsPage {
    frame: Frame,
    cards: Vec<CardPage>,
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.4}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn eval_row(source: &str, kind: &str, m: &serde_json::Value) -> EvalRow {
    let f = |k: &str| scalar(&m[k]);
    EvalRow {
        source: source.to_owned(),
        kind: kind.to_owned(),
        threshold: f("threshold"),
        precision: f("precision"),
        recall: f("recall"),
        f1: f("f1"),
        ap: f("average_precision"),
        targets: f("targets"),
    }
}

fn card_page(c: &service::ModelCardView, lang: Lang) -> CardPage {
    let card = &c.card;
    let mut facts = Vec::new();
    for k in ["format", "library", "objective", "rows", "combination"] {
        if let Some(v) = card.get(k) {
            facts.push((k.to_owned(), scalar(v)));
        }
    }
    if let Some(t) = card.get("training").and_then(|t| t.as_object()) {
        for (k, v) in t {
            facts.push((format!("{} · {k}", lang.t(M::TrainingData)), scalar(v)));
        }
    }
    let mut evals = Vec::new();
    let mut importances = Vec::new();
    if let Some(kinds) = card.get("kinds").and_then(|k| k.as_object()) {
        for (kind, kc) in kinds {
            if let Some(m) = kc.get("evaluation").filter(|m| !m.is_null()) {
                evals.push(eval_row(lang.t(M::HeldOut), kind, m));
            }
            for imp in kc
                .get("importances")
                .and_then(|i| i.as_array())
                .into_iter()
                .flatten()
                .take(10)
            {
                importances.push((
                    kind.clone(),
                    scalar(&imp["feature"]),
                    scalar(&imp["gain_share"]),
                ));
            }
        }
    }
    for store in card
        .get("held_out_stores")
        .and_then(|h| h.as_array())
        .into_iter()
        .flatten()
    {
        let source = store["source"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, v)| v.is_string() || v.is_number())
                    .map(|(k, v)| format!("{k}={}", scalar(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        for (kind, m) in store["kinds"].as_object().into_iter().flatten() {
            evals.push(eval_row(&source, kind, m));
        }
    }
    CardPage {
        version: c.version.clone(),
        created: super::format::time(c.created_at.micros),
        facts,
        evals,
        importances,
        raw: serde_json::to_string_pretty(card).unwrap_or_default(),
    }
}

pub async fn models(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let cards = service::model_cards(&state, &v.user).await?;
    let p = ModelsPage {
        frame: Frame::new(&state, &v, v.lang.t(M::ModelsPage)).await,
        cards: cards.iter().map(|c| card_page(c, v.lang)).collect(),
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- precision page additions ----

/// The age-group table and the drift section of the precision page.
pub(crate) async fn precision_sections(
    state: &AppState,
    v: &Viewer,
) -> Result<(Table, Table, Option<String>), Failure> {
    let lang = v.lang;
    let q = &v.query;
    let ages = service::precision(state, &v.user, "age_group").await?;
    let mut age = Table::secondary("ages", q, lang)
        .column("group", lang.t(M::AgeGroup), Align::Left)
        .column("answered", lang.t(M::Answered), Align::Right)
        .column("false_alarm", lang.t(M::ColFalseAlarm), Align::Right)
        .column("fa_rate", lang.t(M::FalseAlarmRate), Align::Right)
        .column("precision", lang.t(M::PrecisionCol), Align::Right)
        .compact();
    for r in &ages.rows {
        age.row_with_testid(
            format!("age-{}", r.key),
            vec![
                Cell::text(lang.term(&r.key)),
                Cell::count(r.answered),
                Cell::count(r.false_alarm),
                percent(r.false_alarm_rate),
                percent(r.precision),
            ],
        );
    }
    let drift = service::drift(state, &v.user).await?;
    let mut d = Table::secondary("drift", q, lang)
        .column("model", lang.t(M::ModelVersionCol), Align::Left)
        .column("warnings", lang.t(M::WarningsCol), Align::Right)
        .column("mean", lang.t(M::MeanScore), Align::Right)
        .column("bins", lang.t(M::Distribution), Align::Left)
        .column("compared", lang.t(M::ComparedWith), Align::Left)
        .column("psi", lang.t(M::Psi), Align::Right)
        .compact();
    for r in &drift.rows {
        let name = r
            .model_version
            .clone()
            .unwrap_or_else(|| lang.t(M::RulesOnly).to_owned());
        d.row_with_testid(
            "drift-row",
            vec![
                Cell::text(name).with_class("mono"),
                Cell::count(r.warnings),
                Cell::text(format!("{:.1}", r.mean_score)),
                Cell::text(
                    r.bins
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" · "),
                )
                .with_class("mono"),
                Cell::text(
                    r.compared_with
                        .as_deref()
                        .map(|c| {
                            if c == "rules" {
                                lang.t(M::RulesOnly).to_owned()
                            } else {
                                c.to_owned()
                            }
                        })
                        .unwrap_or_else(|| "—".to_owned()),
                ),
                r.psi
                    .map_or_else(|| Cell::text("—"), |p| Cell::text(format!("{p:.3}"))),
            ],
        );
    }
    let unused = (!drift.unused_models.is_empty())
        .then(|| lang.fill(M::UnusedModels, drift.unused_models.join(", ")));
    Ok((age, d, unused))
}

// ---- operations ----

#[derive(Template)]
#[template(path = "operations.html")]
struct OperationsPage {
    frame: Frame,
    notice: Option<Notice>,
    warnings: String,
    outbox: String,
}

pub async fn operations(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let view = service::operations(&state, &v.user).await?;
    let counts = |t: Table, rows: &[service::CountView], prefix: &str| {
        let mut t = t
            .column("key", lang.t(M::Status), Align::Left)
            .column("count", lang.t(M::Count), Align::Right)
            .compact()
            .empty_text(lang.t(M::NoRows));
        for r in rows {
            t.row_with_testid(
                format!("{prefix}-{}", r.key),
                vec![Cell::text(lang.term(&r.key)), Cell::count(r.count)],
            );
        }
        t
    };
    let tables = [
        counts(
            Table::primary("warnings", q, lang),
            &view.warnings_by_status,
            "status",
        ),
        counts(
            Table::secondary("outbox", q, lang),
            &view.outbox_by_state,
            "state",
        ),
    ];
    if let Some(csv) = tables.iter().find_map(|t| t.csv_if_requested(q)) {
        return Ok(csv);
    }
    let [warnings, outbox] = tables.map(|t| t.render().map_err(render_failure));
    let notice = v.query.get("requeued").map(|n| Notice {
        ok: true,
        text: lang.fill(
            M::Requeued,
            n.chars().filter(char::is_ascii_digit).collect::<String>(),
        ),
    });
    let p = OperationsPage {
        frame: Frame::new(&state, &v, lang.t(M::OperationsPage)).await,
        notice,
        warnings: warnings?,
        outbox: outbox?,
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn resend_dead(
    State(state): State<AppState>,
    posted: Posted<Empty>,
) -> Result<Response, Failure> {
    let r = service::resend_dead(&state, &posted.viewer.user).await?;
    Ok(Redirect::to(&with_query(
        OPERATIONS,
        &[("requeued", &r.requeued.to_string())],
    ))
    .into_response())
}
