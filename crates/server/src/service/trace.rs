//! Police-bank linkage (issue 6) for the API and the console: a report's trace and stop
//! plan, cases and their bulk freezes, orders through approval to the bank's answer, an
//! account's freeze registry, the return plan, the deadlines due and the intake queue.
//!
//! The workflow itself is [`fanzha_trace::desk`], shared with the CLI; this layer checks
//! the role, narrows to the caller's scope (a bank sees and answers only the orders on its
//! own accounts; a station the reports and accounts of its jurisdiction), masks every
//! account and victim into a handle and a masked id, and audits:
//! - `trace.report` `{"report", "rule"}`, `stop.plan` `{"report", "drafted"}`;
//! - `case.file` `{"case"}`, `case.freeze` `{"case", "drafted"}`;
//! - `orders.list` `{"hits"}`, `lookup.order` `{"order"}`, `order.draft` `{"order"}`,
//!   `order.step` `{"order", "from", "to"}`, `order.document` `{"order", "account"}` (the
//!   document names the account in full: it is what the bank executes);
//! - `freezes.registry` and `returns.plan` `{"account"}`, `freezes.due`, `intake.list`.

use std::sync::Arc;

use fanzha_store::{EntityKind, EntityRef, OrderFilter, Scope};
use fanzha_trace::desk::{
    By, CaseFreezePlan, CaseRequest, Desk, DraftRequest, DueItem, MeasureDoc, OrderDoc, OverDoc,
    UndisposedDoc, STOP_WINDOW_MINUTES,
};
use fanzha_trace::document::Document;
use fanzha_trace::orders::{Action as Step, Answer, Level, OrderKind, Status};
use fanzha_trace::view::TraceDoc;
use fanzha_trace::{load, trace, Graph, Rule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::view::{yuan, EntityView, TimeView};
use crate::auth::{now_micros, CurrentUser};
use crate::error::{ApiError, Code};
use crate::policy::Action;
use crate::AppState;

fn account_view(state: &AppState, id: &str) -> EntityView {
    EntityView::new(
        &state.handles,
        &EntityRef {
            kind: EntityKind::Account,
            id: id.to_owned(),
        },
    )
}

fn person_view(state: &AppState, id: &str) -> EntityView {
    EntityView::new(
        &state.handles,
        &EntityRef {
            kind: EntityKind::Person,
            id: id.to_owned(),
        },
    )
}

/// The account a handle names; 400 naming `account` for anything else.
fn account_of(state: &AppState, handle: &str) -> Result<String, ApiError> {
    let e = super::open_handle(state, handle, "trace the report again")
        .map_err(|e| e.with_field("account"))?;
    if e.kind != EntityKind::Account {
        return Err(ApiError::parameter(
            "account",
            "the handle names no account",
        ));
    }
    Ok(e.id)
}

fn rule_of(rule: Option<&str>) -> Result<Rule, ApiError> {
    match rule.filter(|r| !r.is_empty()) {
        None => Ok(Rule::Fifo),
        Some(r) => r
            .parse()
            .map_err(|_| ApiError::parameter("rule", "fifo, lifo, pro-rata, libr or poison")),
    }
}

fn by(actor: &str) -> By<'_> {
    By {
        actor,
        at: now_micros(),
    }
}

async fn ledger(state: &AppState) -> Result<Arc<Graph>, ApiError> {
    state
        .ledger
        .graph(&*state.store)
        .await
        .map_err(|e| ApiError::internal(Code::Internal, &e))
}

/// The cut-off: the given instant (RFC 3339) or the latest loaded transaction.
fn as_of(g: &Graph, given: Option<&str>) -> Result<i64, ApiError> {
    match given.filter(|s| !s.is_empty()) {
        Some(s) => fanzha_core::time::Instant::parse_rfc3339(s)
            .map(|i| i.micros())
            .map_err(|e| ApiError::parameter("as_of", e.to_string())),
        None => Ok(g.latest().unwrap_or(0)),
    }
}

/// The report in the caller's scope (404 otherwise), with its payments in the ledger.
async fn scoped_report(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<fanzha_store::ReportPayments, ApiError> {
    let scope = user.scope()?;
    let in_scope = !state
        .store
        .report_payments(&scope, Some(id))
        .await?
        .is_empty();
    if !in_scope {
        return Err(
            ApiError::new(Code::ReportNotFound, format!("no report {id} here"))
                .with_field("report"),
        );
    }
    Ok(Desk::new(&*state.store).report(id).await?)
}

/// The report in the caller's scope, the loaded ledger, the report's payments in it, and
/// the report traced by `rule` to the cut-off (default: the latest loaded transaction).
async fn followed(
    state: &AppState,
    user: &CurrentUser,
    report: &str,
    rule: Rule,
    cut_off: Option<&str>,
) -> Result<
    (
        fanzha_store::ReportPayments,
        Arc<Graph>,
        Vec<fanzha_trace::TxIx>,
        fanzha_trace::Trace,
    ),
    ApiError,
> {
    let rep = scoped_report(state, user, report).await?;
    let g = ledger(state).await?;
    let at = as_of(&g, cut_off)?;
    let payments = load::payments(&g, &rep)
        .map_err(|e| ApiError::new(Code::WorkflowRefused, e.to_string()).with_field("report"))?;
    let t = trace(&g, &payments, rule, at);
    Ok((rep, g, payments, t))
}

// ---- trace ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldingView {
    pub account: EntityView,
    pub amount_fen: i64,
    /// The transactions that carried the money there, one list per path.
    pub paths: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExitView {
    pub account: EntityView,
    /// cash, crypto, merchant or outside.
    pub kind: String,
    pub amount_fen: i64,
    pub tx_id: String,
    /// The payee where there is one, masked.
    pub to: Option<String>,
}

/// A report's money followed forward: where it rests and where it left.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceView {
    pub report: String,
    pub rule: String,
    pub as_of: String,
    pub paid_fen: i64,
    pub held_fen: i64,
    pub exited_fen: i64,
    pub holdings: Vec<HoldingView>,
    pub exits: Vec<ExitView>,
}

/// What the console needs beside the view: the ledger and the trace, to draw the chart.
pub struct Traced {
    pub view: TraceView,
    pub graph: Arc<Graph>,
    pub trace: fanzha_trace::Trace,
    pub payments: Vec<fanzha_trace::TxIx>,
    /// Accounts of the trace with the district's stop or freeze in force (executed, not
    /// lifted or expired), for the chart to mark.
    pub frozen: std::collections::BTreeSet<String>,
}

pub async fn trace_report(
    state: &AppState,
    user: &CurrentUser,
    report: &str,
    rule: Option<&str>,
    cut_off: Option<&str>,
) -> Result<Traced, ApiError> {
    user.allow(Action::ViewTraces)?;
    let rule = rule_of(rule)?;
    let (_, g, payments, t) = followed(state, user, report, rule, cut_off).await?;
    let doc = TraceDoc::new(&g, report, &t);
    super::record(
        state,
        user,
        "trace.report",
        serde_json::json!({ "report": report, "rule": rule.as_str() }),
    )
    .await?;
    let view = TraceView {
        report: doc.report,
        rule: doc.rule.to_owned(),
        as_of: doc.as_of,
        paid_fen: doc.paid_fen,
        held_fen: doc.held_fen,
        exited_fen: doc.exited_fen,
        holdings: doc
            .holdings
            .iter()
            .map(|h| HoldingView {
                account: account_view(state, &h.account),
                amount_fen: h.amount_fen,
                paths: h.paths.clone(),
            })
            .collect(),
        exits: doc
            .exits
            .iter()
            .map(|e| ExitView {
                account: account_view(state, &e.account),
                kind: e.kind.to_owned(),
                amount_fen: e.amount_fen,
                tx_id: e.tx_id.clone(),
                to: e.to.as_deref().map(fanzha_core::mask::card),
            })
            .collect(),
    };
    let mut frozen = std::collections::BTreeSet::new();
    for status in ["executed", "insufficient"] {
        let filter = OrderFilter {
            status: Some(status.into()),
            ..OrderFilter::default()
        };
        for o in state.store.orders(&Scope::All, &filter).await? {
            let holds = matches!(o.new.kind.as_str(), "stop" | "freeze" | "renew");
            if holds && o.expires_at.is_none_or(|e| e > now_micros()) {
                frozen.insert(o.new.account_id);
            }
        }
    }
    Ok(Traced {
        view,
        graph: g,
        trace: t,
        payments,
        frozen,
    })
}

// ---- stop plan ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StopLineView {
    pub account: EntityView,
    pub amount_fen: i64,
    /// traced_holding or whole_account.
    pub basis: String,
    pub balance_fen: i64,
    /// moving, recent or resting.
    pub urgency: String,
    pub last_arrival: String,
    pub outflows_since: u32,
    pub order_id: Option<i64>,
    pub not_drafted: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StopPlanView {
    pub report: String,
    pub reported_at: String,
    /// The 30-minute window's end (LEGAL.md).
    pub stop_due_by: String,
    pub rule: String,
    pub as_of: String,
    pub orders: Vec<StopLineView>,
    pub exited_fen: i64,
}

/// A report's stop plan; with `draft`, stored as draft stop orders.
pub async fn stop_plan(
    state: &AppState,
    user: &CurrentUser,
    report: &str,
    rule: Option<&str>,
    draft: bool,
) -> Result<StopPlanView, ApiError> {
    user.allow(Action::ViewTraces)?;
    if draft {
        user.allow(Action::DraftOrders)?;
    }
    let rule = rule_of(rule)?;
    let (rep, g, _, t) = followed(state, user, report, rule, None).await?;
    let actor = user.actor();
    let plan = Desk::new(&*state.store)
        .stop_plan(by(&actor), &g, &rep, &t, None, draft)
        .await?;
    super::record(
        state,
        user,
        "stop.plan",
        serde_json::json!({ "report": report,
            "drafted": plan.orders.iter().filter_map(|o| o.order_id).collect::<Vec<_>>() }),
    )
    .await?;
    Ok(StopPlanView {
        report: plan.report,
        reported_at: plan.reported_at,
        stop_due_by: plan.stop_due_by,
        rule: plan.rule.to_owned(),
        as_of: plan.as_of,
        exited_fen: plan.exited_fen,
        orders: plan
            .orders
            .iter()
            .map(|o| StopLineView {
                account: account_view(state, &o.account),
                amount_fen: o.amount_fen,
                basis: o.basis.to_owned(),
                balance_fen: o.balance_fen,
                urgency: o.urgency.as_str().to_owned(),
                last_arrival: o.last_arrival.clone(),
                outflows_since: o.outflows_since,
                order_id: o.order_id,
                not_drafted: o.not_drafted.clone(),
            })
            .collect(),
    })
}

// ---- cases ----

/// A case to file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFiling {
    pub case_id: String,
    /// The filing decision's number (立案决定书).
    pub filing_no: String,
    pub reports: Vec<String>,
    #[serde(default)]
    pub major: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub case_id: String,
    pub filing_no: String,
    pub filed_at: TimeView,
    pub major: bool,
    pub reports: Vec<String>,
    pub filed_by: String,
}

impl CaseView {
    fn new(c: &fanzha_store::Case) -> CaseView {
        CaseView {
            case_id: c.case_id.clone(),
            filing_no: c.filing_no.clone(),
            filed_at: TimeView::new(c.filed_at),
            major: c.major,
            reports: c.report_ids.clone(),
            filed_by: c.filed_by.clone(),
        }
    }
}

pub async fn file_case(
    state: &AppState,
    user: &CurrentUser,
    f: CaseFiling,
) -> Result<CaseView, ApiError> {
    user.allow(Action::DraftOrders)?;
    for r in &f.reports {
        scoped_report(state, user, r)
            .await
            .map_err(|e| e.with_field("reports"))?;
    }
    let actor = user.actor();
    let case = Desk::new(&*state.store)
        .file_case(
            by(&actor),
            CaseRequest {
                case_id: f.case_id,
                filing_no: f.filing_no,
                reports: f.reports,
                major: f.major,
                filed_at: None,
            },
        )
        .await?;
    super::record(
        state,
        user,
        "case.file",
        serde_json::json!({ "case": case.case_id }),
    )
    .await?;
    Ok(CaseView::new(&case))
}

pub async fn cases(state: &AppState, user: &CurrentUser) -> Result<Vec<CaseView>, ApiError> {
    user.allow(Action::ViewTraces)?;
    Ok(state
        .store
        .cases()
        .await?
        .iter()
        .map(CaseView::new)
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FreezeLineView {
    pub account: EntityView,
    pub amount_fen: i64,
    pub reports: Vec<String>,
    pub balance_fen: i64,
    pub order_id: Option<i64>,
    pub not_drafted: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    pub accounts: usize,
    pub amount_fen: i64,
    pub due_by: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseFreezeView {
    pub case: String,
    pub rule: String,
    pub as_of: String,
    /// county or prefecture.
    pub level: String,
    pub lines: Vec<FreezeLineView>,
    /// Outside accounts: another district's banks, passed to the higher-level centre.
    pub outside: Vec<FreezeLineView>,
    pub notify: Option<NoticeView>,
    pub untraced: Vec<String>,
}

pub async fn case_freezes(
    state: &AppState,
    user: &CurrentUser,
    case: &str,
    rule: Option<&str>,
    draft: bool,
) -> Result<CaseFreezeView, ApiError> {
    user.allow(Action::ViewTraces)?;
    if draft {
        user.allow(Action::DraftOrders)?;
    }
    let rule = rule_of(rule)?;
    let desk = Desk::new(&*state.store);
    desk.case(case).await?;
    let g = ledger(state).await?;
    let actor = user.actor();
    let plan: CaseFreezePlan = desk
        .case_freeze_plan(by(&actor), &g, case, rule, g.latest().unwrap_or(0), draft)
        .await?;
    super::record(
        state,
        user,
        "case.freeze",
        serde_json::json!({ "case": case,
            "drafted": plan.lines.iter().filter_map(|l| l.order_id).collect::<Vec<_>>() }),
    )
    .await?;
    let line = |l: &fanzha_trace::desk::FreezeLine| FreezeLineView {
        account: account_view(state, &l.account),
        amount_fen: l.amount_fen,
        reports: l.reports.clone(),
        balance_fen: l.balance_fen,
        order_id: l.order_id,
        not_drafted: l.not_drafted.clone(),
    };
    Ok(CaseFreezeView {
        case: plan.case.clone(),
        rule: plan.rule.to_owned(),
        as_of: plan.as_of.clone(),
        level: plan.level.as_str().to_owned(),
        lines: plan.lines.iter().map(line).collect(),
        outside: plan.outside.iter().map(line).collect(),
        notify: plan.notify.map(|n| NoticeView {
            accounts: n.accounts,
            amount_fen: n.amount_fen,
            due_by: n.due_by,
        }),
        untraced: plan.untraced,
    })
}

// ---- orders ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    /// stop, freeze, renew, release or return.
    pub kind: String,
    pub account: EntityView,
    pub report: Option<String>,
    pub case: Option<String>,
    pub amount_fen: i64,
    pub amount_yuan: String,
    /// traced_holding or whole_account.
    pub basis: String,
    pub reason: Option<String>,
    /// Who must approve: county or prefecture.
    pub level: String,
    pub status: String,
    pub document_no: Option<String>,
    /// The document's title (协助冻结财产通知书…).
    pub document: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// The bank's answer as recorded (JSON).
    pub answer: Option<String>,
    pub held_fen: Option<i64>,
    pub effective_at: Option<String>,
    pub expires_at: Option<String>,
    /// When the frozen money was screened (甄别), and the finding (JSON).
    pub disposed_at: Option<String>,
    pub disposition: Option<String>,
    /// The steps this caller may take on it now: submit, withdraw, approve, send, answer,
    /// lift.
    pub may: Vec<String>,
}

/// The approval level a user signs at: an approver whose jurisdiction is a prefecture's
/// 4-digit code (or shorter) signs for the prefecture; anyone else at county level.
pub fn signing_level(user: &CurrentUser) -> Level {
    match &user.jurisdiction {
        Some(j) if j.len() <= 4 => Level::Prefecture,
        _ => Level::County,
    }
}

fn may(user: &CurrentUser, o: &fanzha_store::Order) -> Vec<String> {
    let Some(status) = Status::parse(&o.status) else {
        return Vec::new();
    };
    let needed = if o.new.level == "prefecture" {
        Level::Prefecture
    } else {
        Level::County
    };
    let mut out = Vec::new();
    let mut offer = |action: Action, step: Step, name: &str| {
        if user.allow(action).is_ok() && fanzha_trace::orders::next(status, needed, &step).is_ok() {
            out.push(name.to_owned());
        }
    };
    offer(Action::DraftOrders, Step::Submit, "submit");
    offer(Action::DraftOrders, Step::Withdraw, "withdraw");
    offer(
        Action::ApproveOrders,
        Step::Approve {
            level: signing_level(user),
        },
        "approve",
    );
    offer(Action::DraftOrders, Step::Send, "send");
    offer(
        Action::AnswerOrders,
        Step::Answer(Answer::Executed { amount_fen: 0 }),
        "answer",
    );
    offer(Action::DraftOrders, Step::Lift, "lift");
    let screened = matches!(o.new.kind.as_str(), "freeze" | "renew")
        && matches!(o.status.as_str(), "executed" | "insufficient");
    if screened && o.disposed_at.is_none() && user.allow(Action::DraftOrders).is_ok() {
        out.push("dispose".to_owned());
    }
    out
}

fn order_view(state: &AppState, user: &CurrentUser, o: &fanzha_store::Order) -> OrderView {
    let d = OrderDoc::new(o);
    OrderView {
        id: d.id,
        kind: d.kind,
        account: account_view(state, &d.account),
        report: d.report,
        case: d.case,
        amount_fen: d.amount_fen,
        amount_yuan: yuan(d.amount_fen),
        basis: d.basis,
        reason: d.reason,
        level: d.level,
        status: d.status,
        document_no: d.document_no,
        document: d.document.map(str::to_owned),
        created_by: d.created_by,
        created_at: d.created_at,
        approved_by: d.approved_by,
        approved_at: d.approved_at,
        answer: d.answer,
        held_fen: d.held_fen,
        effective_at: d.effective_at,
        expires_at: d.expires_at,
        disposed_at: d.disposed_at,
        disposition: d.disposition,
        may: may(user, o),
    }
}

/// The most orders one listing returns.
pub const ORDERS_MAX: usize = 2_000;

/// Orders within the caller's scope, newest first.
pub async fn orders(
    state: &AppState,
    user: &CurrentUser,
    filter: &OrderFilter,
) -> Result<Vec<OrderView>, ApiError> {
    user.allow(Action::ViewOrders)?;
    if let Some(s) = &filter.status {
        if Status::parse(s).is_none() {
            return Err(ApiError::parameter(
                "status",
                "draft, pending, approved, sent, executed, refused, insufficient, lifted, expired or withdrawn",
            ));
        }
    }
    let scope = user.scope()?;
    let mut list = state.store.orders(&scope, filter).await?;
    list.reverse();
    list.truncate(ORDERS_MAX);
    super::record(
        state,
        user,
        "orders.list",
        serde_json::json!({ "hits": list.len(), "status": filter.status, "case": filter.case }),
    )
    .await?;
    Ok(list.iter().map(|o| order_view(state, user, o)).collect())
}

pub async fn order(state: &AppState, user: &CurrentUser, id: i64) -> Result<OrderView, ApiError> {
    user.allow(Action::ViewOrders)?;
    let o = Desk::new(&*state.store).order(&user.scope()?, id).await?;
    super::record(
        state,
        user,
        "lookup.order",
        serde_json::json!({ "order": id }),
    )
    .await?;
    Ok(order_view(state, user, &o))
}

/// One order to draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderDraft {
    /// stop, freeze, renew, release or return.
    pub kind: String,
    /// The account's handle (from a trace, a plan or a profile).
    pub account: String,
    pub amount_fen: i64,
    pub report: Option<String>,
    pub case: Option<String>,
    /// The whole account rather than the traced holding; needs `reason`.
    #[serde(default)]
    pub whole_account: bool,
    pub reason: Option<String>,
}

pub async fn draft_order(
    state: &AppState,
    user: &CurrentUser,
    d: OrderDraft,
) -> Result<OrderView, ApiError> {
    user.allow(Action::DraftOrders)?;
    let kind = OrderKind::parse(&d.kind)
        .ok_or_else(|| ApiError::invalid_field("kind", "stop, freeze, renew, release or return"))?;
    let account = account_of(state, &d.account)?;
    let actor = user.actor();
    let o = Desk::new(&*state.store)
        .draft(
            by(&actor),
            DraftRequest {
                kind,
                account,
                amount_fen: d.amount_fen,
                report: d.report,
                case: d.case,
                whole_account: d.whole_account,
                reason: d.reason,
            },
        )
        .await?;
    super::record(
        state,
        user,
        "order.draft",
        serde_json::json!({ "order": o.id }),
    )
    .await?;
    Ok(order_view(state, user, &o))
}

/// A step of an order's workflow.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStep {
    /// submit, withdraw, approve, send, answer or lift.
    pub step: String,
    /// For `answer`: executed, refused or insufficient.
    pub answer: Option<String>,
    /// For an executed or insufficient answer: what the bank holds, in fen.
    pub amount_fen: Option<i64>,
    /// For a refusal: why (the account's details did not match); for `dispose`: the note.
    pub reason: Option<String>,
    /// For `dispose` (甄别): `related` or `unrelated` to the case.
    pub finding: Option<String>,
}

pub async fn order_step(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    s: OrderStep,
) -> Result<OrderView, ApiError> {
    if s.step == "dispose" {
        user.allow(Action::DraftOrders)?;
        let scope = user.scope()?;
        let desk = Desk::new(&*state.store);
        let actor = user.actor();
        let finding = s.finding.as_deref().unwrap_or_default();
        let o = desk
            .dispose(by(&actor), &scope, id, finding, s.reason.as_deref())
            .await?;
        super::record(
            state,
            user,
            "order.dispose",
            serde_json::json!({ "order": id, "finding": finding }),
        )
        .await?;
        return Ok(order_view(state, user, &o));
    }
    let (action, step) = match s.step.as_str() {
        "submit" => (Action::DraftOrders, Step::Submit),
        "withdraw" => (Action::DraftOrders, Step::Withdraw),
        "send" => (Action::DraftOrders, Step::Send),
        "lift" => (Action::DraftOrders, Step::Lift),
        "approve" => (
            Action::ApproveOrders,
            Step::Approve {
                level: signing_level(user),
            },
        ),
        "answer" => {
            let amount = || {
                s.amount_fen.ok_or_else(|| {
                    ApiError::invalid_field(
                        "amount_fen",
                        "an executed or insufficient answer says what is held",
                    )
                })
            };
            let answer = match s.answer.as_deref() {
                Some("executed") => Answer::Executed {
                    amount_fen: amount()?,
                },
                Some("insufficient") => Answer::Insufficient {
                    amount_fen: amount()?,
                },
                Some("refused") => Answer::Refused {
                    reason: s.reason.clone().unwrap_or_default(),
                },
                _ => {
                    return Err(ApiError::invalid_field(
                        "answer",
                        "executed, refused or insufficient",
                    ))
                }
            };
            (Action::AnswerOrders, Step::Answer(answer))
        }
        _ => {
            return Err(ApiError::invalid_field(
                "step",
                "submit, withdraw, approve, send, answer, lift or dispose",
            ))
        }
    };
    user.allow(action)?;
    let scope = user.scope()?;
    let desk = Desk::new(&*state.store);
    let from = desk.order(&scope, id).await?.status;
    let actor = user.actor();
    let o = desk.step(by(&actor), &scope, id, step).await?;
    super::record(
        state,
        user,
        "order.step",
        serde_json::json!({ "order": id, "from": from, "to": o.status }),
    )
    .await?;
    Ok(order_view(state, user, &o))
}

/// An order's document, with the account in full: what the bank executes and the approver
/// signs. Only those who handle orders open it, and each opening is audited.
pub async fn order_document(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Document, ApiError> {
    user.allow(Action::ViewOrders)?;
    if [
        Action::DraftOrders,
        Action::ApproveOrders,
        Action::AnswerOrders,
    ]
    .iter()
    .all(|&a| user.allow(a).is_err())
    {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("the role {} does not handle orders' documents", user.role),
        ));
    }
    let (o, doc) = Desk::new(&*state.store)
        .document(&user.scope()?, id)
        .await?;
    super::record(
        state,
        user,
        "order.document",
        serde_json::json!({ "order": id, "account": o.new.account_id }),
    )
    .await?;
    Ok(doc)
}

// ---- registry, returns, deadlines ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistryView {
    pub account: EntityView,
    pub as_of: String,
    pub balance_fen: i64,
    pub active_fen: i64,
    pub traced_fen: i64,
    #[schema(value_type = Vec<Object>)]
    pub measures: Vec<MeasureDoc>,
    #[schema(value_type = Vec<Object>)]
    pub undisposed: Vec<UndisposedDoc>,
    #[schema(value_type = Option<Object>)]
    pub over_freezing: Option<OverDoc>,
    pub unmatched_rows: usize,
}

pub async fn registry(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    cut_off: Option<&str>,
) -> Result<RegistryView, ApiError> {
    user.allow(Action::ViewOrders)?;
    let account = in_scope_account(state, user, handle).await?;
    let g = ledger(state).await?;
    let at = as_of(&g, cut_off)?;
    let doc = Desk::new(&*state.store).registry(&g, &account, at).await?;
    super::record(
        state,
        user,
        "freezes.registry",
        serde_json::json!({ "account": account }),
    )
    .await?;
    Ok(RegistryView {
        account: account_view(state, &account),
        as_of: doc.as_of,
        balance_fen: doc.balance_fen,
        active_fen: doc.active_fen,
        traced_fen: doc.traced_fen,
        measures: doc.measures,
        undisposed: doc.undisposed,
        over_freezing: doc.over_freezing,
        unmatched_rows: doc.unmatched_rows,
    })
}

/// The account a handle names, if it is within the caller's scope (404 otherwise, as a
/// missing one).
async fn in_scope_account(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
) -> Result<String, ApiError> {
    let account = account_of(state, handle)?;
    let e = EntityRef {
        kind: EntityKind::Account,
        id: account.clone(),
    };
    if state.store.profile(&user.scope()?, &e, 1).await?.is_none() {
        return Err(
            ApiError::new(Code::EntityNotFound, "no such account here").with_field("account")
        );
    }
    Ok(account)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocationView {
    pub report: String,
    pub victim: EntityView,
    pub amount_fen: i64,
    /// intact, time_matched or pro_rata.
    pub basis: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimView {
    pub report: String,
    pub victim: EntityView,
    pub loss_fen: i64,
    pub entered_fen: i64,
    pub held_fen: i64,
    pub intact_fen: i64,
    pub first_deposit: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnPlanView {
    pub account: EntityView,
    pub frozen_fen: i64,
    /// freeze (the district's freezes in force) or balance (none registered).
    pub funds_from: String,
    pub allocations: Vec<AllocationView>,
    pub claims: Vec<ClaimView>,
}

pub async fn returns_plan(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
) -> Result<ReturnPlanView, ApiError> {
    user.allow(Action::ViewOrders)?;
    user.allow(Action::ViewTraces)?;
    let account = in_scope_account(state, user, handle).await?;
    let g = ledger(state).await?;
    // The freezes in force now: orders are stamped when people act, after the data.
    let at = now_micros().max(g.latest().unwrap_or(0));
    let plan = Desk::new(&*state.store)
        .returns_plan(&g, &account, at)
        .await?;
    super::record(
        state,
        user,
        "returns.plan",
        serde_json::json!({ "account": account }),
    )
    .await?;
    Ok(ReturnPlanView {
        account: account_view(state, &account),
        frozen_fen: plan.frozen_fen,
        funds_from: plan.funds_from.to_owned(),
        allocations: plan
            .allocations
            .iter()
            .map(|a| AllocationView {
                report: a.report.clone(),
                victim: person_view(state, &a.victim),
                amount_fen: a.amount_fen,
                basis: a.basis.as_str().to_owned(),
            })
            .collect(),
        claims: plan
            .claims
            .iter()
            .map(|c| ClaimView {
                report: c.report.clone(),
                victim: person_view(state, &c.victim),
                loss_fen: c.loss_fen,
                entered_fen: c.entered_fen,
                held_fen: c.held_fen,
                intact_fen: c.intact_fen,
                first_deposit: c.first_deposit.clone(),
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueView {
    pub due: String,
    pub overdue: bool,
    /// stop_lapses, renewal_due, freeze_lapses or screening_due.
    pub what: String,
    pub order: i64,
    pub kind: String,
    pub account: EntityView,
    pub document_no: Option<String>,
}

/// The longest window of `due`, in days.
pub const DUE_MAX_DAYS: u32 = 366;

pub async fn due(
    state: &AppState,
    user: &CurrentUser,
    within_days: u32,
) -> Result<Vec<DueView>, ApiError> {
    user.allow(Action::ViewOrders)?;
    if within_days > DUE_MAX_DAYS {
        return Err(ApiError::parameter("within_days", "at most 366"));
    }
    let from = now_micros();
    let until = from.saturating_add(i64::from(within_days) * 86_400_000_000);
    let items: Vec<DueItem> = Desk::new(&*state.store)
        .due(&user.scope()?, from, until)
        .await?;
    super::record(
        state,
        user,
        "freezes.due",
        serde_json::json!({ "within_days": within_days, "hits": items.len() }),
    )
    .await?;
    Ok(items
        .into_iter()
        .map(|d| DueView {
            due: d.due,
            overdue: d.overdue,
            what: d.what.to_owned(),
            order: d.order,
            kind: d.kind,
            account: account_view(state, &d.account),
            document_no: d.document_no,
        })
        .collect())
}

// ---- intake ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeView {
    pub report: String,
    pub reported_at: TimeView,
    pub victim: EntityView,
    pub typology: String,
    pub loss_fen: i64,
    pub payments: usize,
    /// The 30-minute window's end.
    pub stop_due_by: TimeView,
    /// Seconds left in the window (negative: past it).
    pub seconds_left: i64,
    /// Stop orders drafted for it so far.
    pub stops_drafted: usize,
}

/// The most reports the intake queue shows.
pub const INTAKE_MAX: usize = 200;

/// Reports within the caller's scope, newest first, with the stop-payment window's
/// countdown and the stops drafted for each.
pub async fn intake(state: &AppState, user: &CurrentUser) -> Result<Vec<IntakeView>, ApiError> {
    user.allow(Action::ViewTraces)?;
    let scope = user.scope()?;
    let mut reports = state.store.report_payments(&scope, None).await?;
    reports.sort_by(|a, b| b.ts.cmp(&a.ts).then(a.report_id.cmp(&b.report_id)));
    reports.truncate(INTAKE_MAX);
    // Stops drafted per report, counted once rather than per row.
    let mut stops: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for o in state
        .store
        .orders(&Scope::All, &OrderFilter::default())
        .await?
    {
        if let (true, Some(r)) = (o.new.kind == "stop", o.new.report_id) {
            *stops.entry(r).or_default() += 1;
        }
    }
    let now = now_micros();
    super::record(
        state,
        user,
        "intake.list",
        serde_json::json!({ "hits": reports.len() }),
    )
    .await?;
    Ok(reports
        .iter()
        .map(|r| {
            let due = r.ts + STOP_WINDOW_MINUTES * 60_000_000;
            IntakeView {
                report: r.report_id.clone(),
                reported_at: TimeView::new(r.ts),
                victim: person_view(state, &r.victim_id),
                typology: r.typology.clone(),
                loss_fen: r.loss_fen,
                payments: r.payments.len(),
                stop_due_by: TimeView::new(due),
                seconds_left: (due - now) / 1_000_000,
                stops_drafted: stops.get(&r.report_id).copied().unwrap_or(0),
            }
        })
        .collect())
}

// ---- return rounds ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    pub id: i64,
    pub account: EntityView,
    pub case: String,
    pub round: i64,
    pub funds_fen: i64,
    /// noticed or decided.
    pub status: String,
    pub opened_by: String,
    pub opened_at: String,
    /// The end of the 30-day objection period (the opening itself when no share is split
    /// pro rata); the decision may not come before it.
    pub objections_until: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_no: Option<String>,
    pub allocations: Vec<AllocationView>,
    /// The return orders the decision made.
    pub orders: Vec<i64>,
}

fn round_view(state: &AppState, r: fanzha_trace::desk::RoundDoc) -> RoundView {
    RoundView {
        id: r.id,
        account: account_view(state, &r.account),
        case: r.case,
        round: r.round,
        funds_fen: r.funds_fen,
        status: r.status,
        opened_by: r.opened_by,
        opened_at: r.opened_at,
        objections_until: r.objections_until,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        decision_no: r.decision_no,
        allocations: r
            .allocations
            .iter()
            .map(|a| AllocationView {
                report: a.report.clone(),
                victim: person_view(state, &a.victim),
                amount_fen: a.amount_fen,
                basis: a.basis.as_str().to_owned(),
            })
            .collect(),
        orders: r.orders,
    }
}

/// Return rounds, on one account (by handle, within the caller's scope) or all.
pub async fn rounds(
    state: &AppState,
    user: &CurrentUser,
    handle: Option<&str>,
) -> Result<Vec<RoundView>, ApiError> {
    user.allow(Action::ViewTraces)?;
    let account = match handle {
        Some(h) => Some(in_scope_account(state, user, h).await?),
        None => None,
    };
    let list = Desk::new(&*state.store).rounds(account.as_deref()).await?;
    super::record(
        state,
        user,
        "returns.rounds",
        serde_json::json!({ "account": account, "hits": list.len() }),
    )
    .await?;
    Ok(list.into_iter().map(|r| round_view(state, r)).collect())
}

/// Opens the next round of returns on an account under a case.
pub async fn open_round(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    case: &str,
) -> Result<RoundView, ApiError> {
    user.allow(Action::DraftOrders)?;
    let account = in_scope_account(state, user, handle).await?;
    let desk = Desk::new(&*state.store);
    desk.case(case).await?;
    let g = ledger(state).await?;
    let actor = user.actor();
    let r = desk.open_round(by(&actor), &g, &account, case).await?;
    super::record(
        state,
        user,
        "returns.open",
        serde_json::json!({ "round": r.id, "account": account, "case": case }),
    )
    .await?;
    Ok(round_view(state, r))
}

/// The return decision on a round, signed at the approver's level (prefecture needed).
pub async fn decide_round(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<RoundView, ApiError> {
    user.allow(Action::ApproveOrders)?;
    let actor = user.actor();
    let r = Desk::new(&*state.store)
        .decide_round(by(&actor), id, signing_level(user))
        .await?;
    super::record(
        state,
        user,
        "returns.decide",
        serde_json::json!({ "round": id, "orders": r.orders }),
    )
    .await?;
    Ok(round_view(state, r))
}

/// Money returned against money lost, per case and per month: figures naming no one.
pub async fn ratios(
    state: &AppState,
    user: &CurrentUser,
) -> Result<fanzha_trace::desk::Ratios, ApiError> {
    user.allow(Action::ViewTraces)?;
    Ok(Desk::new(&*state.store).ratios().await?)
}

// ---- report intake ----

/// A victim's report as entered at intake.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    /// `resident` (default), `foreign_permanent`, `hmt_permit`, `passport`.
    pub id_kind: Option<String>,
    pub victim_id: String,
    /// The scam type: order_brushing, fake_investment, fake_loan, fake_customer_service,
    /// impersonating_officials, romance, fake_credit_repair, ai_face_voice, other.
    pub typology: String,
    pub loss_fen: i64,
    /// 110, 96110, walk_in, app or online.
    pub channel: String,
    /// The victim's community; a station's user must give one in its jurisdiction.
    pub community_code: Option<String>,
    pub description: Option<String>,
    /// The victim's payments to the fraudsters, by transaction id.
    pub payments: Vec<String>,
}

/// A report taken in, and its stop plan drafted when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeResult {
    pub report: String,
    pub reported_at: TimeView,
    /// The 30-minute window's end.
    pub stop_due_by: TimeView,
    pub stop_plan: Option<StopPlanView>,
}

/// Takes a report in; with `plan`, its stop plan is drafted at once (the 30 minutes run from
/// now).
pub async fn take_report(
    state: &AppState,
    user: &CurrentUser,
    entry: ReportEntry,
    plan: bool,
) -> Result<IntakeResult, ApiError> {
    user.allow(Action::DraftOrders)?;
    if let Scope::Jurisdiction(j) = user.scope()? {
        let inside = entry
            .community_code
            .as_deref()
            .is_some_and(|c| c.starts_with(j.as_str()));
        if !inside {
            return Err(ApiError::invalid_field(
                "community_code",
                format!("a report taken here is of a community within {j}"),
            ));
        }
    }
    let actor = user.actor();
    let r = Desk::new(&*state.store)
        .take_report(
            by(&actor),
            fanzha_trace::desk::ReportIntake {
                id_kind: entry.id_kind,
                victim_id: entry.victim_id,
                typology: entry.typology,
                loss_fen: entry.loss_fen,
                channel: entry.channel,
                community_code: entry.community_code,
                description: entry.description,
                payments: entry.payments,
            },
        )
        .await?;
    super::record(
        state,
        user,
        "report.take",
        serde_json::json!({ "report": r.report_id, "payments": r.payments.len() }),
    )
    .await?;
    let stop_plan = if plan {
        Some(stop_plan(state, user, &r.report_id, None, true).await?)
    } else {
        None
    };
    Ok(IntakeResult {
        report: r.report_id,
        reported_at: TimeView::new(r.ts),
        stop_due_by: TimeView::new(r.ts + STOP_WINDOW_MINUTES * 60_000_000),
        stop_plan,
    })
}

/// A round's document with victims and the account in full: the notice for objections, or
/// the return decision. For those who handle orders; each opening audited.
pub async fn round_document(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<Document, ApiError> {
    if user.allow(Action::DraftOrders).is_err() {
        user.allow(Action::ApproveOrders)?;
    }
    let doc = Desk::new(&*state.store).round_document(id).await?;
    super::record(
        state,
        user,
        "returns.document",
        serde_json::json!({ "round": id }),
    )
    .await?;
    Ok(doc)
}
