//! Police-bank linkage (警银联动, issue 6): the intake queue (`GET /console/intake`), a
//! report's fund flow (`GET /console/reports/{report}/trace?rule=`) with the stop-plan form
//! (`POST /console/reports/{report}/stop-plan`), the order queue
//! (`GET /console/orders?status=&case=&report=`), an order with its steps
//! (`GET /console/orders/{id}`, `POST /console/orders/{id}/steps`) and its printable
//! document (`GET /console/orders/{id}/document`), the deadlines
//! (`GET /console/orders/due`), an account's freeze registry and return plan
//! (`GET /console/accounts/{handle}/freezes`, `…/returns`), and cases with their bulk
//! freezes (`GET|POST /console/cases`, `POST /console/cases/{case}/freeze-plan`).
//!
//! Everything goes through [`crate::service::trace`], which checks the role, narrows to the
//! caller's scope, masks and audits; these handlers only turn its views into pages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fanzha_core::money::Money;
use fanzha_core::time::Instant;
use fanzha_store::OrderFilter;
use fanzha_trace::document::Document;
use fanzha_trace::orders::Answer;
use serde::Deserialize;

use super::format;
use super::frame::{page_with_status, Frame};
use super::i18n::{Lang, M};
use super::query::{with_query, PageQuery};
use super::table::{Align, Cell, CellForm, Table};
use super::viewer::{Posted, Viewer};
use super::{render_failure, Failure};
use crate::error::ApiError;
use crate::policy::{allows, Action};
use crate::service::trace::{
    self as svc, CaseFiling, CaseFreezeView, FreezeLineView, OrderStep, OrderView, StopPlanView,
    Traced,
};
use crate::service::view::EntityView;
use crate::AppState;

/// How far ahead the deadlines page looks, in days.
pub const DUE_DAYS: u32 = 10;

/// The tracing rules offered as links on the trace page.
const RULES: [&str; 5] = ["fifo", "lifo", "pro-rata", "libr", "poison"];

/// The order statuses offered in the queue's filter.
const STATUSES: [&str; 10] = [
    "draft",
    "pending",
    "approved",
    "sent",
    "executed",
    "refused",
    "insufficient",
    "lifted",
    "expired",
    "withdrawn",
];

/// The bank's possible answers, in the order the form offers them.
const ANSWERS: [&str; 3] = ["executed", "refused", "insufficient"];

// ---- the page ----

struct Fact {
    label: &'static str,
    value: String,
    testid: &'static str,
    href: Option<String>,
    masked: bool,
}

fn fact(label: &'static str, value: impl Into<String>, testid: &'static str) -> Fact {
    Fact {
        label,
        value: value.into(),
        testid,
        href: None,
        masked: false,
    }
}

struct Link {
    href: String,
    label: String,
    testid: String,
    current: bool,
}

fn link(href: impl Into<String>, label: impl Into<String>, testid: impl Into<String>) -> Link {
    Link {
        href: href.into(),
        label: label.into(),
        testid: testid.into(),
        current: false,
    }
}

struct Field {
    name: &'static str,
    label: &'static str,
    value: String,
    /// A `<select>` when not empty: (value, label, chosen).
    options: Vec<(String, String, bool)>,
    checkbox: bool,
    required: bool,
}

fn text_field(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
    Field {
        name,
        label,
        value: value.into(),
        options: Vec::new(),
        checkbox: false,
        required: false,
    }
}

fn select_field(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String, bool)>,
) -> Field {
    Field {
        options,
        ..text_field(name, label, "")
    }
}

struct FormView {
    action: String,
    post: bool,
    title: String,
    hint: Option<String>,
    button: String,
    testid: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
    error: Option<String>,
}

struct Section {
    title: String,
    testid: &'static str,
    hint: Option<String>,
    body: String,
}

fn section(title: impl Into<String>, testid: &'static str, t: &Table) -> Result<Section, Failure> {
    Ok(Section {
        title: title.into(),
        testid,
        hint: None,
        body: t.render().map_err(render_failure)?,
    })
}

#[derive(Template)]
#[template(path = "linkage.html")]
struct LinkagePage {
    frame: Frame,
    /// Only the intake queue refreshes itself: its countdown is the one figure that moves.
    refresh: bool,
    lead: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    facts: Vec<Fact>,
    links: Vec<Link>,
    chart: String,
    forms: Vec<FormView>,
    sections: Vec<Section>,
}

impl LinkagePage {
    async fn new(state: &AppState, v: &Viewer, title: impl Into<String>) -> LinkagePage {
        LinkagePage {
            frame: Frame::new(state, v, title).await,
            refresh: false,
            lead: None,
            notice: None,
            error: None,
            facts: Vec::new(),
            links: Vec::new(),
            chart: String::new(),
            forms: Vec::new(),
            sections: Vec::new(),
        }
    }
}

// ---- small helpers ----

/// A path segment percent-encoded, so a report or case id with any character stays one
/// segment of the address.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn trace_href(report: &str) -> String {
    format!("/console/reports/{}/trace", seg(report))
}

fn order_href(id: i64) -> String {
    format!("/console/orders/{id}")
}

fn registry_href(handle: &str) -> String {
    format!("/console/accounts/{handle}/freezes")
}

fn returns_href(handle: &str) -> String {
    format!("/console/accounts/{handle}/returns")
}

/// The service writes instants as RFC 3339 in +08:00; pages show them as every other
/// console page does.
fn shown(rfc3339: &str) -> String {
    Instant::parse_rfc3339(rfc3339)
        .map_or_else(|_| rfc3339.to_owned(), |i| format::time(i.micros()))
}

fn time_cell(rfc3339: &str) -> Cell {
    Instant::parse_rfc3339(rfc3339).map_or_else(|_| Cell::text(rfc3339), |i| Cell::time(i.micros()))
}

fn opt_time_cell(rfc3339: Option<&str>) -> Cell {
    rfc3339.map_or_else(Cell::empty, time_cell)
}

fn account_cell(a: &EntityView) -> Cell {
    Cell::masked(a.id_masked.clone()).with_href(registry_href(&a.handle))
}

fn order_status(lang: Lang, status: &str) -> String {
    let key = format!("order_status.{status}");
    let t = lang.term(&key);
    if *t == *key {
        status.to_owned()
    } else {
        t.into_owned()
    }
}

fn step_name(lang: Lang, step: &str) -> String {
    let key = format!("step.{step}");
    let t = lang.term(&key);
    if *t == *key {
        step.to_owned()
    } else {
        t.into_owned()
    }
}

fn yes_no(lang: Lang, b: bool) -> &'static str {
    lang.t(if b { M::Yes } else { M::No })
}

/// The bank's answer as recorded (JSON), in words.
fn answer_text(lang: Lang, recorded: &str) -> String {
    match serde_json::from_str::<Answer>(recorded) {
        Ok(Answer::Executed { amount_fen }) => format!(
            "{} ¥{}",
            order_status(lang, "executed"),
            format::yuan(amount_fen)
        ),
        Ok(Answer::Insufficient { amount_fen }) => format!(
            "{} ¥{}",
            order_status(lang, "insufficient"),
            format::yuan(amount_fen)
        ),
        Ok(Answer::Refused { reason }) => format!("{}：{reason}", order_status(lang, "refused")),
        Err(_) => recorded.to_owned(),
    }
}

/// A refusal as the form shows it: which field, and the service's reason.
fn refusal(e: &ApiError, lang: Lang) -> String {
    let field = e
        .field
        .as_deref()
        .map(|f| format!("{f}: "))
        .unwrap_or_default();
    format!("{} {field}{}", lang.t(M::BadRequest), e.message)
}

/// Whether a refusal is the client's, about one field, so it belongs on the form rather
/// than on an error page.
fn on_the_form(e: &ApiError) -> bool {
    e.field.is_some() && matches!(e.code.status().as_u16(), 400 | 404 | 409 | 422)
}

// ---- intake ----

pub async fn intake(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    intake_page(&state, &v).await
}

/// The form a report is taken in on, apart from the queue: the queue reloads itself every
/// 30 seconds, which would wipe a half-typed report.
pub async fn intake_form(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    v.user.allow(Action::DraftOrders)?;
    intake_form_page(&state, &v, IntakeForm::default(), None).await
}

/// A report as typed at the counter.
#[derive(Deserialize, Default)]
pub struct IntakeForm {
    #[serde(default)]
    id_kind: String,
    #[serde(default)]
    victim_id: String,
    #[serde(default)]
    typology: String,
    #[serde(default)]
    loss: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    community_code: String,
    #[serde(default)]
    description: String,
    /// Transaction ids separated by commas or spaces.
    #[serde(default)]
    payments: String,
    stop_plan: Option<String>,
}

const TYPOLOGIES: [&str; 9] = [
    "order_brushing",
    "fake_investment",
    "fake_loan",
    "fake_customer_service",
    "impersonating_officials",
    "romance",
    "fake_credit_repair",
    "ai_face_voice",
    "other",
];
const CHANNELS: [&str; 5] = ["walk_in", "110", "96110", "app", "online"];
const ID_KINDS: [&str; 4] = ["resident", "foreign_permanent", "hmt_permit", "passport"];

/// Takes the report in and opens its trace; a refusal is answered on the form, what was
/// typed kept.
pub async fn take_report(
    State(state): State<AppState>,
    posted: Posted<IntakeForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let lang = v.lang;
    let loss = Money::parse_yuan(&form.loss.replace([' ', '，', ','], ""))
        .map(|m| m.fen())
        .map_err(|_| ApiError::invalid_field("loss", lang.t(M::BadAmount)));
    let outcome = match loss {
        Ok(loss_fen) => {
            let entry = svc::ReportEntry {
                id_kind: Some(form.id_kind.clone()).filter(|k| !k.is_empty()),
                victim_id: form.victim_id.trim().to_owned(),
                typology: form.typology.clone(),
                loss_fen,
                channel: form.channel.clone(),
                community_code: Some(form.community_code.trim().to_owned())
                    .filter(|c| !c.is_empty()),
                description: Some(form.description.trim().to_owned()).filter(|d| !d.is_empty()),
                payments: form
                    .payments
                    .split([',', '，', ' ', '\n'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            let plan = form.stop_plan.as_deref().is_some_and(|x| !x.is_empty());
            svc::take_report(&state, &v.user, entry, plan).await
        }
        Err(e) => Err(e),
    };
    let refused = match outcome {
        Ok(r) => {
            let to = with_query(&trace_href(&r.report), &[("taken", "1")]);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(e) if on_the_form(&e) => e,
        Err(e) => return Err(e.into()),
    };
    let refused = match refused.field.as_deref() {
        Some("loss_fen") => ApiError::invalid_field("loss", lang.t(M::BadAmount)),
        _ => refused,
    };
    v.query = PageQuery::parse(INTAKE_FORM, None);
    let message = refusal(&refused, lang);
    let mut page = intake_form_page(&state, &v, form, Some(message)).await?;
    *page.status_mut() = refused.code.status();
    Ok(page)
}

async fn intake_page(state: &AppState, v: &Viewer) -> Result<Response, Failure> {
    let state = state.clone();
    let v = v.clone();
    let lang = v.lang;
    let q = &v.query;
    let list = svc::intake(&state, &v.user).await?;
    let mut t = Table::primary("intake", q, lang)
        .column("report", lang.t(M::ReportId), Align::Left)
        .column("reported", lang.t(M::ReportedAt), Align::Left)
        .column("countdown", lang.t(M::Countdown), Align::Left)
        .column("loss", lang.t(M::Loss), Align::Right)
        .column("typology", lang.t(M::Typology), Align::Left)
        .column("victim", lang.t(M::Victim), Align::Left)
        .column("payments", lang.t(M::PaymentsCol), Align::Right)
        .column("stops", lang.t(M::StopsDrafted), Align::Right)
        .empty_text(lang.t(M::NoReports));
    for r in &list {
        let mut countdown = Cell::int(r.seconds_left);
        countdown.text = if r.seconds_left >= 0 {
            // Rounded up: "0 minutes left" while seconds remain would read as too late.
            lang.fill(M::MinutesLeft, (r.seconds_left + 59) / 60)
        } else {
            lang.t(M::Overdue).to_owned()
        };
        let countdown = if r.seconds_left < 0 {
            countdown.with_class("status-off")
        } else {
            countdown
        };
        t.row_with_testid(
            "intake-row",
            vec![
                Cell::text(r.report.clone()).with_href(trace_href(&r.report)),
                Cell::time(r.reported_at.micros),
                countdown,
                Cell::yuan(r.loss_fen),
                Cell::text(lang.term(&r.typology)),
                Cell::masked(r.victim.id_masked.clone()),
                Cell::count(r.payments as u64),
                Cell::count(r.stops_drafted as u64),
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let mut p = LinkagePage::new(&state, &v, lang.t(M::IntakePage)).await;
    p.refresh = true;
    p.lead = Some(lang.t(M::IntakeLead).to_owned());
    if allows(v.user.role, Action::DraftOrders) {
        p.links.push(Link {
            href: INTAKE_FORM.to_owned(),
            label: lang.t(M::TakeReport).to_owned(),
            testid: "take-report-link".to_owned(),
            current: false,
        });
    }
    p.sections
        .push(section(lang.t(M::IntakePage), "intake", &t)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

const INTAKE_FORM: &str = "/console/intake/new";

async fn intake_form_page(
    state: &AppState,
    v: &Viewer,
    typed: IntakeForm,
    error: Option<String>,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let mut p = LinkagePage::new(state, v, lang.t(M::TakeReport)).await;
    p.links.push(Link {
        href: "/console/intake".to_owned(),
        label: lang.t(M::IntakePage).to_owned(),
        testid: "intake-link".to_owned(),
        current: false,
    });
    if allows(v.user.role, Action::DraftOrders) {
        let options = |words: &[&str], chosen: &str| -> Vec<(String, String, bool)> {
            words
                .iter()
                .map(|w| ((*w).to_owned(), lang.term(w).into_owned(), *w == chosen))
                .collect()
        };
        let required = |f: Field| Field {
            required: true,
            ..f
        };
        let stop_plan = Field {
            checkbox: true,
            ..text_field(
                "stop_plan",
                lang.t(M::DraftStopsNow),
                typed.stop_plan.clone().unwrap_or_else(|| "1".into()),
            )
        };
        p.forms.push(FormView {
            action: INTAKE_FORM.to_owned(),
            post: true,
            title: lang.t(M::TakeReport).to_owned(),
            hint: Some(lang.t(M::TakeReportHint).to_owned()),
            button: lang.t(M::TakeReport).to_owned(),
            testid: "take-report".to_owned(),
            hidden: Vec::new(),
            fields: vec![
                select_field(
                    "id_kind",
                    lang.t(M::IdKind),
                    options(&ID_KINDS, &typed.id_kind),
                ),
                required(text_field(
                    "victim_id",
                    lang.t(M::VictimId),
                    typed.victim_id,
                )),
                select_field(
                    "typology",
                    lang.t(M::Typology),
                    options(&TYPOLOGIES, &typed.typology),
                ),
                required(text_field("loss", lang.t(M::LossYuan), typed.loss)),
                select_field(
                    "channel",
                    lang.t(M::ReportChannel),
                    options(&CHANNELS, &typed.channel),
                ),
                text_field(
                    "community_code",
                    lang.t(M::CommunityCode),
                    typed.community_code,
                ),
                text_field("description", lang.t(M::Description), typed.description),
                required(text_field(
                    "payments",
                    lang.t(M::PaymentsTx),
                    typed.payments,
                )),
                stop_plan,
            ],
            error,
        });
    }
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- trace and stop plan ----

/// Accounts the chart draws one by one; the rest fold into "others" per column.
const FLOW_NODES: usize = 40;

/// The fund-flow chart of a trace, as inline SVG: accounts masked, each linking to its
/// profile and transactions, the district's frozen or stopped accounts outlined.
fn flow_chart(state: &AppState, traced: &Traced, lang: Lang) -> String {
    use fanzha_trace::flow::{default_label, svg, FlowGraph, NodeKind};
    let f = FlowGraph::new(&traced.graph, &traced.trace, &traced.payments, FLOW_NODES);
    svg(&f, &|n| {
        let mut t = default_label(n);
        match n.kind {
            NodeKind::Account(_) => {
                if let Some(a) = n.accounts.first() {
                    let e = fanzha_store::EntityRef {
                        kind: fanzha_store::EntityKind::Account,
                        id: a.clone(),
                    };
                    // A node opens the account's profile: its transactions, in order.
                    t.href = Some(format!("/console/entity/{}", state.handles.seal(&e)));
                    t.frozen = traced.frozen.contains(a);
                }
            }
            NodeKind::Victim if lang == Lang::En => t.text = "victim".into(),
            NodeKind::Exit { kind, .. } if lang == Lang::En => t.text = kind.as_str().into(),
            _ => {}
        }
        t
    })
}

pub async fn trace_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(report): Path<String>,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let traced = svc::trace_report(&state, &v.user, &report, q.get("rule"), None).await?;
    let view = &traced.view;
    let mut holdings = Table::primary("holdings", q, lang)
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("amount", lang.t(M::HeldYuan), Align::Right)
        .column("paths", lang.t(M::PathsCol), Align::Left)
        .empty_text(lang.t(M::NoHoldings));
    for h in &view.holdings {
        let paths = h
            .paths
            .iter()
            .map(|p| p.join(" → "))
            .collect::<Vec<_>>()
            .join("；");
        holdings.row_with_testid(
            "holding-row",
            vec![
                account_cell(&h.account),
                Cell::yuan(h.amount_fen),
                Cell::text(paths),
            ],
        );
    }
    let mut exits = Table::secondary("exits", q, lang)
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("kind", lang.t(M::ExitKind), Align::Left)
        .column("amount", lang.t(M::Amount), Align::Right)
        .column("tx", lang.t(M::TxId), Align::Left)
        .column("to", lang.t(M::Payee), Align::Left)
        .empty_text(lang.t(M::NoExits));
    for e in &view.exits {
        exits.row_with_testid(
            "exit-row",
            vec![
                account_cell(&e.account),
                Cell::text(lang.term(&e.kind)),
                Cell::yuan(e.amount_fen),
                Cell::text(e.tx_id.clone()),
                e.to.clone().map_or_else(Cell::empty, Cell::masked),
            ],
        );
    }
    if let Some(csv) = [&holdings, &exits]
        .iter()
        .find_map(|t| t.csv_if_requested(q))
    {
        return Ok(csv);
    }
    let title = lang.fill(M::TraceTitle, &view.report);
    let mut p = LinkagePage::new(&state, &v, title).await;
    p.lead = Some(lang.t(M::TraceLead).to_owned());
    p.facts = vec![
        fact(lang.t(M::PaidYuan), format::yuan(view.paid_fen), "paid"),
        fact(lang.t(M::HeldYuan), format::yuan(view.held_fen), "held"),
        fact(
            lang.t(M::ExitedYuan),
            format::yuan(view.exited_fen),
            "exited",
        ),
        fact(lang.t(M::TracingRule), lang.term(&view.rule), "rule"),
        fact(lang.t(M::AsOf), shown(&view.as_of), "as-of"),
    ];
    p.links = RULES
        .iter()
        .map(|r| Link {
            current: *r == view.rule,
            ..link(
                with_query(&trace_href(&view.report), &[("rule", r)]),
                lang.term(r),
                format!("rule-{r}"),
            )
        })
        .collect();
    p.chart = flow_chart(&state, &traced, lang);
    if allows(v.user.role, Action::DraftOrders) {
        p.forms.push(FormView {
            action: format!("{}/stop-plan", report_href(&view.report)),
            post: true,
            title: lang.t(M::DraftStopPlan).to_owned(),
            hint: Some(lang.t(M::DraftStopLead).to_owned()),
            button: lang.t(M::DraftStopPlan).to_owned(),
            testid: "stop-plan".to_owned(),
            hidden: vec![("rule".to_owned(), view.rule.clone())],
            fields: Vec::new(),
            error: None,
        });
    }
    p.sections
        .push(section(lang.t(M::Holdings), "holdings", &holdings)?);
    p.sections.push(section(lang.t(M::Exits), "exits", &exits)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

fn report_href(report: &str) -> String {
    format!("/console/reports/{}", seg(report))
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    rule: String,
}

/// Drafts the report's stop orders and shows the plan with the drafted orders' links.
pub async fn stop_plan(
    State(state): State<AppState>,
    Path(report): Path<String>,
    posted: Posted<RuleForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let plan = svc::stop_plan(&state, &v.user, &report, Some(form.rule.as_str()), true).await?;
    // The language switch must lead to a page a GET can open: the report's trace.
    v.query = PageQuery::parse(&trace_href(&report), None);
    stop_plan_page(&state, &v, &plan).await
}

async fn stop_plan_page(
    state: &AppState,
    v: &Viewer,
    plan: &StopPlanView,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let mut t = Table::primary("plan", &v.query, lang)
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("amount", lang.t(M::Amount), Align::Right)
        .column("urgency", lang.t(M::Urgency), Align::Left)
        .column("basis", lang.t(M::Basis), Align::Left)
        .column("balance", lang.t(M::BalanceYuan), Align::Right)
        .column("last", lang.t(M::LastArrival), Align::Left)
        .column("outflows", lang.t(M::OutflowsSince), Align::Right)
        .column("order", lang.t(M::OrderId), Align::Right)
        .column("not_drafted", lang.t(M::NotDrafted), Align::Left)
        .empty_text(lang.t(M::NoPlanLines));
    for o in &plan.orders {
        t.row_with_testid(
            "plan-row",
            vec![
                account_cell(&o.account),
                Cell::yuan(o.amount_fen),
                Cell::text(lang.term(&o.urgency)),
                Cell::text(lang.term(&o.basis)),
                Cell::yuan(o.balance_fen),
                time_cell(&o.last_arrival),
                Cell::count(u64::from(o.outflows_since)),
                o.order_id
                    .map_or_else(Cell::empty, |id| Cell::int(id).with_href(order_href(id))),
                Cell::text(o.not_drafted.clone().unwrap_or_default()),
            ],
        );
    }
    let drafted = plan.orders.iter().filter(|o| o.order_id.is_some()).count();
    let mut p = LinkagePage::new(state, v, lang.fill(M::StopPlanTitle, &plan.report)).await;
    p.notice = Some(lang.fill(M::DraftedN, drafted));
    p.facts = vec![
        fact(
            lang.t(M::ReportedAt),
            shown(&plan.reported_at),
            "reported-at",
        ),
        fact(
            lang.t(M::StopDueBy),
            shown(&plan.stop_due_by),
            "stop-due-by",
        ),
        fact(lang.t(M::TracingRule), lang.term(&plan.rule), "rule"),
        fact(lang.t(M::AsOf), shown(&plan.as_of), "as-of"),
        fact(
            lang.t(M::ExitedYuan),
            format::yuan(plan.exited_fen),
            "exited",
        ),
    ];
    p.links = vec![
        link(
            with_query("/console/orders", &[("report", &plan.report)]),
            lang.t(M::SeeInQueue),
            "see-orders",
        ),
        link(trace_href(&plan.report), lang.t(M::TracePage), "see-trace"),
    ];
    p.sections.push(section(lang.t(M::PlanLines), "plan", &t)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- orders ----

pub async fn orders(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let text = |k: &str| q.get(k).map(str::to_owned);
    let filter = OrderFilter {
        status: text("status"),
        case: text("case"),
        report: text("report"),
        ..OrderFilter::default()
    };
    let list = svc::orders(&state, &v.user, &filter).await?;
    let mut t = Table::primary("orders", q, lang)
        .column("id", lang.t(M::OrderId), Align::Right)
        .column("kind", lang.t(M::OrderKindCol), Align::Left)
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("amount", lang.t(M::Amount), Align::Right)
        .column("level", lang.t(M::ApprovalLevel), Align::Left)
        .column("status", lang.t(M::Status), Align::Left)
        .column("document_no", lang.t(M::DocumentNo), Align::Left)
        .column("created", lang.t(M::CreatedAt), Align::Left)
        .column("expires", lang.t(M::ExpiresAt), Align::Left)
        .empty_text(lang.t(M::NoOrders));
    for o in &list {
        t.row_with_testid(
            format!("order-{}", o.id),
            vec![
                Cell::int(o.id).with_href(order_href(o.id)),
                Cell::text(lang.term(&o.kind)),
                account_cell(&o.account),
                Cell::yuan(o.amount_fen),
                Cell::text(lang.term(&o.level)),
                Cell::text(order_status(lang, &o.status)),
                Cell::text(o.document_no.clone().unwrap_or_default()),
                time_cell(&o.created_at),
                opt_time_cell(o.expires_at.as_deref()),
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let mut statuses = vec![(
        String::new(),
        lang.t(M::AnyValue).to_owned(),
        filter.status.is_none(),
    )];
    statuses.extend(STATUSES.iter().map(|s| {
        (
            (*s).to_owned(),
            order_status(lang, s),
            filter.status.as_deref() == Some(*s),
        )
    }));
    let mut p = LinkagePage::new(&state, &v, lang.t(M::OrdersPage)).await;
    p.lead = Some(lang.t(M::OrdersLead).to_owned());
    p.forms.push(FormView {
        action: "/console/orders".to_owned(),
        post: false,
        title: lang.t(M::Filter).to_owned(),
        hint: None,
        button: lang.t(M::Apply).to_owned(),
        testid: "order-filters".to_owned(),
        hidden: Vec::new(),
        fields: vec![
            select_field("status", lang.t(M::Status), statuses),
            text_field(
                "report",
                lang.t(M::ReportId),
                text("report").unwrap_or_default(),
            ),
            text_field("case", lang.t(M::CaseCol), text("case").unwrap_or_default()),
        ],
        error: None,
    });
    p.links = vec![link("/console/orders/due", lang.t(M::DuePage), "see-due")];
    p.sections
        .push(section(lang.t(M::OrdersPage), "orders", &t)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

/// An order's id from its address; anything but a number names no order.
fn order_id(raw: &str) -> Result<i64, Failure> {
    raw.parse()
        .map_err(|_| Failure::new(StatusCode::NOT_FOUND, M::NotFound))
}

pub async fn order(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = order_id(&id)?;
    let o = svc::order(&state, &v.user, id).await?;
    let mut p = order_page(&state, &v, &o, None).await;
    p.notice = v
        .query
        .get("done")
        .map(|s| v.lang.fill(M::StepDone, step_name(v.lang, s)));
    Ok(page_with_status(StatusCode::OK, &p))
}

/// What a refused step's form shows again.
struct StepRefused {
    step: String,
    message: String,
    form: StepForm,
}

async fn order_page(
    state: &AppState,
    v: &Viewer,
    o: &OrderView,
    refused: Option<StepRefused>,
) -> LinkagePage {
    let lang = v.lang;
    let mut p = LinkagePage::new(state, v, lang.fill(M::OrderTitle, o.id)).await;
    p.lead = Some(lang.t(M::OrderLead).to_owned());
    let mut account = fact(
        lang.t(M::AccountCol),
        o.account.id_masked.clone(),
        "account",
    );
    account.masked = true;
    if allows(v.user.role, Action::ViewOrders) {
        account.href = Some(registry_href(&o.account.handle));
    }
    let mut facts = vec![
        fact(lang.t(M::OrderKindCol), lang.term(&o.kind), "kind"),
        fact(lang.t(M::Status), order_status(lang, &o.status), "status"),
        account,
        fact(
            lang.t(M::Amount),
            format!("¥{}", format::yuan(o.amount_fen)),
            "amount",
        ),
        fact(lang.t(M::Basis), lang.term(&o.basis), "basis"),
        fact(lang.t(M::ApprovalLevel), lang.term(&o.level), "level"),
    ];
    let mut optional = |label: M, value: Option<String>, testid: &'static str| {
        if let Some(value) = value {
            facts.push(fact(lang.t(label), value, testid));
        }
    };
    optional(M::ReportId, o.report.clone(), "report");
    optional(M::CaseCol, o.case.clone(), "case");
    optional(M::Reason, o.reason.clone(), "reason");
    optional(M::DocumentNo, o.document_no.clone(), "document-no");
    optional(M::CreatedBy, Some(o.created_by.clone()), "created-by");
    optional(M::CreatedAt, Some(shown(&o.created_at)), "created-at");
    optional(M::ApprovedBy, o.approved_by.clone(), "approved-by");
    optional(
        M::ApprovedAt,
        o.approved_at.as_deref().map(shown),
        "approved-at",
    );
    optional(
        M::BankAnswer,
        o.answer.as_deref().map(|a| answer_text(lang, a)),
        "answer",
    );
    optional(M::HeldByBank, o.held_fen.map(format::yuan), "held");
    optional(
        M::EffectiveAt,
        o.effective_at.as_deref().map(shown),
        "effective-at",
    );
    optional(
        M::ExpiresAt,
        o.expires_at.as_deref().map(shown),
        "expires-at",
    );
    p.facts = facts;
    // A bank sees the orders on its accounts, not the victim's whole story.
    let traces = allows(v.user.role, Action::ViewTraces);
    if let Some(r) = o.report.as_ref().filter(|_| traces) {
        p.links
            .push(link(trace_href(r), lang.t(M::TracePage), "see-trace"));
    }
    // The service decides who opens a document; the link is offered to the same roles.
    let handles_orders = [
        Action::DraftOrders,
        Action::ApproveOrders,
        Action::AnswerOrders,
    ]
    .iter()
    .any(|&a| allows(v.user.role, a));
    if handles_orders {
        p.links.push(link(
            format!("{}/document", order_href(o.id)),
            o.document.clone().map_or_else(
                || lang.t(M::OpenDocument).to_owned(),
                |d| format!("{d} · {}", lang.t(M::OpenDocument)),
            ),
            "open-document",
        ));
    }
    p.forms = o
        .may
        .iter()
        .map(|step| {
            let again = refused.as_ref().filter(|r| &r.step == step);
            step_form(lang, o.id, step, again)
        })
        .collect();
    if o.may.is_empty() {
        p.sections.push(Section {
            title: lang.t(M::StepsTitle).to_owned(),
            testid: "no-steps",
            hint: Some(lang.t(M::NoSteps).to_owned()),
            body: String::new(),
        });
    }
    p
}

fn step_form(lang: Lang, id: i64, step: &str, again: Option<&StepRefused>) -> FormView {
    let fields = if step == "answer" {
        let chosen = again.map_or("executed", |r| r.form.answer.as_str());
        vec![
            select_field(
                "answer",
                lang.t(M::AnswerLabel),
                ANSWERS
                    .iter()
                    .map(|a| ((*a).to_owned(), order_status(lang, a), *a == chosen))
                    .collect(),
            ),
            text_field(
                "amount",
                lang.t(M::AmountHeld),
                again.map(|r| r.form.amount.clone()).unwrap_or_default(),
            ),
            text_field(
                "reason",
                lang.t(M::RefuseReason),
                again.map(|r| r.form.reason.clone()).unwrap_or_default(),
            ),
        ]
    } else if step == "dispose" {
        let chosen = again.map_or("related", |r| r.form.finding.as_str());
        vec![
            select_field(
                "finding",
                lang.t(M::Finding),
                ["related", "unrelated"]
                    .iter()
                    .map(|f| ((*f).to_owned(), lang.term(f).into_owned(), *f == chosen))
                    .collect(),
            ),
            text_field(
                "reason",
                lang.t(M::Description),
                again.map(|r| r.form.reason.clone()).unwrap_or_default(),
            ),
        ]
    } else {
        Vec::new()
    };
    FormView {
        action: format!("{}/steps", order_href(id)),
        post: true,
        title: step_name(lang, step),
        hint: None,
        button: step_name(lang, step),
        testid: format!("step-{step}"),
        hidden: vec![("step".to_owned(), step.to_owned())],
        fields,
        error: again.map(|r| r.message.clone()),
    }
}

#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    answer: String,
    /// Yuan, as people write it; the service takes fen.
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    finding: String,
}

/// Takes a step (the service checks the role, the scope and the workflow) and goes back to
/// the order; a refusal about a field is answered on the step's form.
pub async fn step(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<StepForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let id = order_id(&id)?;
    let lang = v.lang;
    let needs_amount =
        form.step == "answer" && matches!(form.answer.as_str(), "executed" | "insufficient");
    let amount_fen = if needs_amount {
        match Money::parse_yuan(&form.amount.replace([' ', '，'], "")) {
            Ok(m) => Ok(Some(m.fen())),
            Err(_) => Err(ApiError::invalid_field("amount", lang.t(M::BadAmount))),
        }
    } else {
        Ok(None)
    };
    let outcome = match amount_fen {
        Ok(amount_fen) => {
            let s = OrderStep {
                step: form.step.clone(),
                answer: (!form.answer.is_empty()).then(|| form.answer.clone()),
                amount_fen,
                reason: (!form.reason.trim().is_empty()).then(|| form.reason.trim().to_owned()),
                finding: (!form.finding.is_empty()).then(|| form.finding.clone()),
            };
            svc::order_step(&state, &v.user, id, s).await
        }
        Err(e) => Err(e),
    };
    let refused = match outcome {
        Ok(_) => {
            let to = with_query(&order_href(id), &[("done", form.step.as_str())]);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(e) if on_the_form(&e) => e,
        Err(e) => return Err(e.into()),
    };
    // The form names the amount in yuan; the service's field is its fen.
    let refused = match refused.field.as_deref() {
        Some("amount_fen") => ApiError::invalid_field("amount", lang.t(M::BadAmount)),
        _ => refused,
    };
    v.query = PageQuery::parse(&order_href(id), None);
    let o = svc::order(&state, &v.user, id).await?;
    let p = order_page(
        &state,
        &v,
        &o,
        Some(StepRefused {
            step: form.step.clone(),
            message: refusal(&refused, lang),
            form,
        }),
    )
    .await;
    Ok(page_with_status(refused.code.status(), &p))
}

#[derive(Template)]
#[template(path = "order_document.html")]
struct DocumentPage {
    frame: Frame,
    doc: Document,
    back: String,
}

pub async fn document(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = order_id(&id)?;
    let doc = svc::order_document(&state, &v.user, id).await?;
    let p = DocumentPage {
        frame: Frame::new(&state, &v, doc.title).await,
        doc,
        back: order_href(id),
    };
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- deadlines ----

pub async fn due(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let items = svc::due(&state, &v.user, DUE_DAYS).await?;
    let mut t = Table::primary("due", q, lang)
        .column("due", lang.t(M::DueAt), Align::Left)
        .column("what", lang.t(M::DueWhat), Align::Left)
        .column("order", lang.t(M::OrderId), Align::Right)
        .column("kind", lang.t(M::OrderKindCol), Align::Left)
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("document_no", lang.t(M::DocumentNo), Align::Left)
        .empty_text(lang.t(M::NoDue));
    for d in &items {
        let due = time_cell(&d.due);
        let due = if d.overdue {
            let mut c = due.with_class("status-off");
            c.text = format!("{} · {}", c.text, lang.t(M::Overdue));
            c
        } else {
            due
        };
        t.row_with_testid(
            "due-row",
            vec![
                due,
                Cell::text(lang.term(&d.what)),
                Cell::int(d.order).with_href(order_href(d.order)),
                Cell::text(lang.term(&d.kind)),
                account_cell(&d.account),
                Cell::text(d.document_no.clone().unwrap_or_default()),
            ],
        );
    }
    if let Some(csv) = t.csv_if_requested(q) {
        return Ok(csv);
    }
    let mut p = LinkagePage::new(&state, &v, lang.t(M::DuePage)).await;
    p.lead = Some(lang.t(M::DueLead).to_owned());
    p.sections.push(section(lang.t(M::DuePage), "due", &t)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- an account's registry and return plan ----

pub async fn registry(
    State(state): State<AppState>,
    v: Viewer,
    Path(handle): Path<String>,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    // The service reads the registry as of the ledger's latest transaction; the page is
    // read today, and measures executed since that transaction are in force now.
    let now = Instant::from_micros(crate::auth::now_micros()).map(|i| i.to_rfc3339_shanghai());
    let as_of = q.get("as_of").map(str::to_owned).or(now);
    let r = svc::registry(&state, &v.user, &handle, as_of.as_deref()).await?;
    let mut measures = Table::primary("measures", q, lang)
        .column("id", lang.t(M::MeasureId), Align::Left)
        .column("authority", lang.t(M::Authority), Align::Left)
        .column("kind", lang.t(M::MeasureKind), Align::Left)
        .column("requested", lang.t(M::RequestedYuan), Align::Right)
        .column("active", lang.t(M::ActiveYuan), Align::Right)
        .column("queued", lang.t(M::QueuedYuan), Align::Right)
        .column("registered", lang.t(M::Registered), Align::Left)
        .column("since", lang.t(M::Since), Align::Left)
        .column("expires", lang.t(M::ExpiresAt), Align::Left)
        .column("renewal", lang.t(M::RenewalDue), Align::Left)
        .empty_text(lang.t(M::NoMeasures));
    for m in &r.measures {
        measures.row_with_testid(
            "measure-row",
            vec![
                Cell::text(m.id.clone()),
                Cell::text(m.authority.clone()),
                Cell::text(lang.term(m.kind)),
                Cell::yuan(m.requested_fen),
                Cell::yuan(m.active_fen),
                Cell::yuan(m.queued_fen),
                time_cell(&m.registered_at),
                opt_time_cell(m.since.as_deref()),
                opt_time_cell(m.expires_at.as_deref()),
                opt_time_cell(m.renewal_due.as_deref()),
            ],
        );
    }
    let mut undisposed = Table::secondary("undisposed", q, lang)
        .column("id", lang.t(M::MeasureId), Align::Left)
        .column("screening", lang.t(M::ScreeningDue), Align::Left)
        .empty_text(lang.t(M::NoUndisposed))
        .compact();
    for u in &r.undisposed {
        undisposed.row_with_testid(
            "undisposed-row",
            vec![Cell::text(u.id.clone()), time_cell(&u.screening_due)],
        );
    }
    let mut over = Table::secondary("over", q, lang)
        .column("frozen", lang.t(M::FrozenYuan), Align::Right)
        .column("traced", lang.t(M::TracedYuan), Align::Right)
        .column("release", lang.t(M::ReleaseYuan), Align::Right)
        .column("due", lang.t(M::ReleaseDue), Align::Left)
        .empty_text(lang.t(M::NoOverFreezing))
        .compact();
    if let Some(o) = &r.over_freezing {
        over.row_with_testid(
            "over-row",
            vec![
                Cell::yuan(o.frozen_fen),
                Cell::yuan(o.traced_fen),
                Cell::yuan(o.release_fen),
                time_cell(&o.release_due),
            ],
        );
    }
    if let Some(csv) = [&measures, &undisposed, &over]
        .iter()
        .find_map(|t| t.csv_if_requested(q))
    {
        return Ok(csv);
    }
    let title = format!("{} {}", lang.t(M::RegistryPage), r.account.id_masked);
    let mut p = LinkagePage::new(&state, &v, title).await;
    p.lead = Some(lang.t(M::RegistryLead).to_owned());
    let mut account = fact(
        lang.t(M::AccountCol),
        r.account.id_masked.clone(),
        "account",
    );
    account.masked = true;
    p.facts = vec![
        account,
        fact(
            lang.t(M::BalanceYuan),
            format::yuan(r.balance_fen),
            "balance",
        ),
        fact(
            lang.t(M::ActiveHeldYuan),
            format::yuan(r.active_fen),
            "active",
        ),
        fact(lang.t(M::TracedYuan), format::yuan(r.traced_fen), "traced"),
        fact(lang.t(M::AsOf), shown(&r.as_of), "as-of"),
    ];
    if allows(v.user.role, Action::ViewTraces) {
        p.links.push(link(
            returns_href(&r.account.handle),
            lang.t(M::ReturnsPage),
            "see-returns",
        ));
    }
    if r.unmatched_rows > 0 {
        p.error = Some(lang.fill(M::UnmatchedRows, r.unmatched_rows));
    }
    p.sections
        .push(section(lang.t(M::Measures), "measures", &measures)?);
    p.sections
        .push(section(lang.t(M::Undisposed), "undisposed", &undisposed)?);
    p.sections
        .push(section(lang.t(M::OverFreezing), "over-freezing", &over)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

pub async fn returns(
    State(state): State<AppState>,
    v: Viewer,
    Path(handle): Path<String>,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let q = &v.query;
    let plan = svc::returns_plan(&state, &v.user, &handle).await?;
    let mut allocations = Table::primary("allocations", q, lang)
        .column("report", lang.t(M::ReportId), Align::Left)
        .column("victim", lang.t(M::Victim), Align::Left)
        .column("amount", lang.t(M::Amount), Align::Right)
        .column("basis", lang.t(M::Basis), Align::Left)
        .empty_text(lang.t(M::NoAllocations));
    for a in &plan.allocations {
        allocations.row_with_testid(
            "allocation-row",
            vec![
                Cell::text(a.report.clone()).with_href(trace_href(&a.report)),
                Cell::masked(a.victim.id_masked.clone()),
                Cell::yuan(a.amount_fen),
                Cell::text(lang.term(&a.basis)),
            ],
        );
    }
    let mut claims = Table::secondary("claims", q, lang)
        .column("report", lang.t(M::ReportId), Align::Left)
        .column("victim", lang.t(M::Victim), Align::Left)
        .column("loss", lang.t(M::Loss), Align::Right)
        .column("entered", lang.t(M::EnteredYuan), Align::Right)
        .column("held", lang.t(M::HeldYuan), Align::Right)
        .column("intact", lang.t(M::IntactYuan), Align::Right)
        .column("first", lang.t(M::FirstDeposit), Align::Left)
        .empty_text(lang.t(M::NoClaims));
    for c in &plan.claims {
        claims.row_with_testid(
            "claim-row",
            vec![
                Cell::text(c.report.clone()).with_href(trace_href(&c.report)),
                Cell::masked(c.victim.id_masked.clone()),
                Cell::yuan(c.loss_fen),
                Cell::yuan(c.entered_fen),
                Cell::yuan(c.held_fen),
                Cell::yuan(c.intact_fen),
                time_cell(&c.first_deposit),
            ],
        );
    }
    if let Some(csv) = [&allocations, &claims]
        .iter()
        .find_map(|t| t.csv_if_requested(q))
    {
        return Ok(csv);
    }
    let title = format!("{} {}", lang.t(M::ReturnsPage), plan.account.id_masked);
    let mut p = LinkagePage::new(&state, &v, title).await;
    p.lead = Some(lang.t(M::ReturnsLead).to_owned());
    let mut account = fact(
        lang.t(M::AccountCol),
        plan.account.id_masked.clone(),
        "account",
    );
    account.masked = true;
    account.href = Some(registry_href(&plan.account.handle));
    p.facts = vec![
        account,
        fact(
            lang.t(M::ReturnableYuan),
            format::yuan(plan.frozen_fen),
            "returnable",
        ),
        fact(
            lang.t(M::FundsFrom),
            lang.term(&plan.funds_from),
            "funds-from",
        ),
    ];
    p.sections.push(section(
        lang.t(M::Allocations),
        "allocations",
        &allocations,
    )?);
    p.sections
        .push(section(lang.t(M::Claims), "claims", &claims)?);
    Ok(page_with_status(StatusCode::OK, &p))
}

// ---- cases ----

#[derive(Deserialize, Default)]
pub struct CaseForm {
    #[serde(default)]
    case_id: String,
    #[serde(default)]
    filing_no: String,
    /// Report ids separated by commas (either width).
    #[serde(default)]
    reports: String,
    major: Option<String>,
}

pub async fn cases(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let list = svc::cases(&state, &v.user).await?;
    let t = cases_table(&v, &list);
    if let Some(csv) = t.csv_if_requested(&v.query) {
        return Ok(csv);
    }
    let mut p = cases_page(&state, &v, &t, CaseForm::default(), None).await?;
    p.notice = v.query.get("filed").map(|c| v.lang.fill(M::CaseFiled, c));
    Ok(page_with_status(StatusCode::OK, &p))
}

fn cases_table(v: &Viewer, list: &[svc::CaseView]) -> Table {
    let lang = v.lang;
    let drafts = allows(v.user.role, Action::DraftOrders);
    let mut t = Table::primary("cases", &v.query, lang)
        .column("case", lang.t(M::CaseId), Align::Left)
        .column("filing_no", lang.t(M::FilingNo), Align::Left)
        .column("filed", lang.t(M::CaseFiledAt), Align::Left)
        .column("major", lang.t(M::MajorCase), Align::Left)
        .column("reports", lang.t(M::ReportId), Align::Left)
        .column("filed_by", lang.t(M::FiledBy), Align::Left)
        .column("orders", lang.t(M::OrdersPage), Align::Left)
        .empty_text(lang.t(M::NoCases));
    if drafts {
        t = t.plain_column("freeze", lang.t(M::DraftFreezePlan));
    }
    for c in list {
        let mut cells = vec![
            Cell::text(c.case_id.clone()),
            Cell::text(c.filing_no.clone()),
            Cell::time(c.filed_at.micros),
            Cell::text(yes_no(lang, c.major)),
            Cell::text(c.reports.join(", ")),
            Cell::text(c.filed_by.clone()),
            Cell::text(lang.t(M::OrdersPage))
                .with_href(with_query("/console/orders", &[("case", &c.case_id)])),
        ];
        if drafts {
            cells.push(Cell::form(
                lang.t(M::DraftFreezePlan),
                CellForm {
                    action: format!("/console/cases/{}/freeze-plan", seg(&c.case_id)),
                    button: lang.t(M::DraftFreezePlan).to_owned(),
                    fields: Vec::new(),
                    csrf: v.csrf.clone(),
                    class: "",
                },
            ));
        }
        t.row_with_testid(format!("case-{}", c.case_id), cells);
    }
    t
}

async fn cases_page(
    state: &AppState,
    v: &Viewer,
    t: &Table,
    typed: CaseForm,
    error: Option<String>,
) -> Result<LinkagePage, Failure> {
    let lang = v.lang;
    let mut p = LinkagePage::new(state, v, lang.t(M::CasesPage)).await;
    p.lead = Some(lang.t(M::CasesLead).to_owned());
    if allows(v.user.role, Action::DraftOrders) {
        let major = Field {
            checkbox: true,
            ..text_field(
                "major",
                lang.t(M::MajorCase),
                typed.major.clone().unwrap_or_default(),
            )
        };
        let required = |f: Field| Field {
            required: true,
            ..f
        };
        p.forms.push(FormView {
            action: "/console/cases".to_owned(),
            post: true,
            title: lang.t(M::FileCase).to_owned(),
            hint: None,
            button: lang.t(M::FileCase).to_owned(),
            testid: "file-case".to_owned(),
            hidden: Vec::new(),
            fields: vec![
                required(text_field("case_id", lang.t(M::CaseId), typed.case_id)),
                required(text_field(
                    "filing_no",
                    lang.t(M::FilingNo),
                    typed.filing_no,
                )),
                required(text_field(
                    "reports",
                    lang.t(M::ReportsComma),
                    typed.reports,
                )),
                major,
            ],
            error,
        });
    }
    p.sections.push(section(lang.t(M::CasesPage), "cases", t)?);
    Ok(p)
}

/// Files the case and goes back to the list; a refusal about a field (a report outside
/// the caller's scope, a case already filed) is answered on the form, what was typed kept.
pub async fn file_case(
    State(state): State<AppState>,
    posted: Posted<CaseForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let filing = CaseFiling {
        case_id: form.case_id.trim().to_owned(),
        filing_no: form.filing_no.trim().to_owned(),
        reports: form
            .reports
            .split([',', '，', ' '])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        major: form.major.as_deref().is_some_and(|m| !m.is_empty()),
    };
    let refused = match svc::file_case(&state, &v.user, filing).await {
        Ok(case) => {
            let to = with_query("/console/cases", &[("filed", case.case_id.as_str())]);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(e) if on_the_form(&e) => e,
        Err(e) => return Err(e.into()),
    };
    v.query = PageQuery::parse("/console/cases", None);
    let list = svc::cases(&state, &v.user).await?;
    let t = cases_table(&v, &list);
    let message = refusal(&refused, v.lang);
    let p = cases_page(&state, &v, &t, form, Some(message)).await?;
    Ok(page_with_status(refused.code.status(), &p))
}

/// Drafts the case's freezes and shows the plan.
pub async fn freeze_plan(
    State(state): State<AppState>,
    Path(case): Path<String>,
    posted: Posted<RuleForm>,
) -> Result<Response, Failure> {
    let Posted {
        viewer: mut v,
        form,
    } = posted;
    let plan = svc::case_freezes(&state, &v.user, &case, Some(form.rule.as_str()), true).await?;
    v.query = PageQuery::parse("/console/cases", None);
    freeze_plan_page(&state, &v, &plan).await
}

fn freeze_table(t: Table, lines: &[FreezeLineView], lang: Lang) -> Table {
    let mut t = t
        .column("account", lang.t(M::AccountCol), Align::Left)
        .column("amount", lang.t(M::Amount), Align::Right)
        .column("balance", lang.t(M::BalanceYuan), Align::Right)
        .column("reports", lang.t(M::ReportId), Align::Left)
        .column("order", lang.t(M::OrderId), Align::Right)
        .column("not_drafted", lang.t(M::NotDrafted), Align::Left)
        .empty_text(lang.t(M::NoPlanLines));
    for l in lines {
        t.row_with_testid(
            "freeze-row",
            vec![
                account_cell(&l.account),
                Cell::yuan(l.amount_fen),
                Cell::yuan(l.balance_fen),
                Cell::text(l.reports.join(", ")),
                l.order_id
                    .map_or_else(Cell::empty, |id| Cell::int(id).with_href(order_href(id))),
                Cell::text(l.not_drafted.clone().unwrap_or_default()),
            ],
        );
    }
    t
}

async fn freeze_plan_page(
    state: &AppState,
    v: &Viewer,
    plan: &CaseFreezeView,
) -> Result<Response, Failure> {
    let lang = v.lang;
    let lines = freeze_table(Table::primary("lines", &v.query, lang), &plan.lines, lang);
    let outside = freeze_table(
        Table::secondary("outside", &v.query, lang),
        &plan.outside,
        lang,
    );
    let drafted = plan.lines.iter().filter(|l| l.order_id.is_some()).count();
    let mut p = LinkagePage::new(state, v, lang.fill(M::FreezePlanTitle, &plan.case)).await;
    p.notice = Some(lang.fill(M::DraftedN, drafted));
    p.facts = vec![
        fact(lang.t(M::ApprovalLevel), lang.term(&plan.level), "level"),
        fact(lang.t(M::TracingRule), lang.term(&plan.rule), "rule"),
        fact(lang.t(M::AsOf), shown(&plan.as_of), "as-of"),
    ];
    if let Some(n) = &plan.notify {
        p.facts.push(fact(
            lang.t(M::DueAt),
            lang.fill_all(
                M::NoticeDue,
                &[&n.accounts, &format::yuan(n.amount_fen), &shown(&n.due_by)],
            ),
            "notice",
        ));
    }
    if !plan.untraced.is_empty() {
        p.error = Some(lang.fill(M::Untraced, plan.untraced.join(", ")));
    }
    p.links = vec![link(
        with_query("/console/orders", &[("case", &plan.case)]),
        lang.t(M::SeeInQueue),
        "see-orders",
    )];
    p.sections
        .push(section(lang.t(M::PlanLines), "lines", &lines)?);
    p.sections
        .push(section(lang.t(M::OutsideAccounts), "outside", &outside)?);
    Ok(page_with_status(StatusCode::OK, &p))
}
