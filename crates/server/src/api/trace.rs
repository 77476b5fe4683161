//! Police-bank linkage over JSON (issue 6): intake, traces and stop plans, cases and their
//! freezes, orders from draft to the bank's answer (a bank sees and answers only the orders
//! on its own accounts, with its API key), an account's freeze registry, return plans and
//! deadlines. Each handler only turns the request into a [`service::trace`] call.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use fanzha_store::OrderFilter;
use fanzha_trace::document::Document;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::service::trace::{
    self as svc, CaseFiling, CaseFreezeView, CaseView, DueView, IntakeView, OrderDraft, OrderStep,
    OrderView, RegistryView, ReturnPlanView, RoundView, StopPlanView, TraceView,
};
use crate::service::trace::{IntakeResult, ReportEntry};
use crate::AppState;

/// A trace's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceParams {
    /// fifo (default), lifo, pro-rata, libr or poison.
    pub rule: Option<String>,
    /// The cut-off (RFC 3339); default: the latest loaded transaction.
    pub as_of: Option<String>,
    /// For plans: `true` stores the lines as draft orders.
    pub draft: Option<bool>,
}

fn id_of(path: Result<Path<String>, PathRejection>, field: &str) -> Result<String, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::from(e).with_field(field))
}

fn order_id(path: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    id_of(path, "id")?
        .parse()
        .map_err(|_| ApiError::parameter("id", "an order id is a number"))
}

/// Reports within the caller's scope, newest first, with the 30-minute stop window's
/// countdown and the stops drafted so far.
#[utoipa::path(
    get,
    path = "/api/v1/intake",
    tag = "linkage",
    security(("session" = [])),
    responses(
        (status = 200, description = "The intake queue", body = Vec<IntakeView>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role takes no reports", body = ErrorBody)
    )
)]
pub async fn intake(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<IntakeView>>, ApiError> {
    Ok(Json(svc::intake(&state, &user).await?))
}

/// A report's money followed forward by the rule: holdings (the victim's money still on
/// each account, with the paths that carried it) and exits (cash, crypto, merchant,
/// outside); accounts masked, with handles.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{report}/trace",
    tag = "linkage",
    security(("session" = [])),
    params(("report" = String, Path, description = "The report id"), TraceParams),
    responses(
        (status = 200, description = "The trace", body = TraceView),
        (status = 400, description = "A rule or time that does not parse (`field`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role traces nothing", body = ErrorBody),
        (status = 404, description = "No such report in the caller's scope", body = ErrorBody),
        (status = 409, description = "The report names a payment not among the stored transactions", body = ErrorBody)
    )
)]
pub async fn trace(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TraceParams>, QueryRejection>,
) -> Result<Json<TraceView>, ApiError> {
    let report = id_of(path, "report")?;
    let Query(p) = query?;
    let t = svc::trace_report(
        &state,
        &user,
        &report,
        p.rule.as_deref(),
        p.as_of.as_deref(),
    )
    .await?;
    Ok(Json(t.view))
}

/// The accounts to stop for a report, most urgent first, each for exactly the traced
/// holding; `draft=true` stores them as draft stop orders (an account that has had its two
/// stops is set apart with the reason).
#[utoipa::path(
    post,
    path = "/api/v1/reports/{report}/stop-plan",
    tag = "linkage",
    security(("session" = [])),
    params(("report" = String, Path, description = "The report id"), TraceParams),
    responses(
        (status = 200, description = "The plan, with the draft order ids", body = StopPlanView),
        (status = 400, description = "A rule that does not parse", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role drafts no orders", body = ErrorBody),
        (status = 404, description = "No such report in the caller's scope", body = ErrorBody),
        (status = 422, description = "poison sizes no orders (`field` = `rule`)", body = ErrorBody)
    )
)]
pub async fn stop_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TraceParams>, QueryRejection>,
) -> Result<Json<StopPlanView>, ApiError> {
    let report = id_of(path, "report")?;
    let Query(p) = query?;
    Ok(Json(
        svc::stop_plan(
            &state,
            &user,
            &report,
            p.rule.as_deref(),
            p.draft.unwrap_or(false),
        )
        .await?,
    ))
}

/// The cases filed here, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "linkage",
    security(("session" = [])),
    responses(
        (status = 200, description = "The cases", body = Vec<CaseView>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no cases", body = ErrorBody)
    )
)]
pub async fn cases(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(svc::cases(&state, &user).await?))
}

/// Files a case (立案): its decision number and the reports it takes in. Freezes need one.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "linkage",
    security(("session" = [])),
    request_body = CaseFiling,
    responses(
        (status = 200, description = "Filed", body = CaseView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not a case document", body = ErrorBody),
        (status = 403, description = "The role files no cases", body = ErrorBody),
        (status = 404, description = "A report not in the caller's scope (`field` = `reports`)", body = ErrorBody),
        (status = 409, description = "Already filed", body = ErrorBody),
        (status = 422, description = "An empty number or no reports (`field`)", body = ErrorBody)
    )
)]
pub async fn file_case(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<CaseFiling>, JsonRejection>,
) -> Result<Json<CaseView>, ApiError> {
    let Json(f) = body?;
    Ok(Json(svc::file_case(&state, &user, f).await?))
}

/// The freezes the case's traced money calls for, summed per account over its reports,
/// with the approval level of the batch and the notice owed to local police;
/// `draft=true` stores them as draft freeze orders.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{case}/freeze-plan",
    tag = "linkage",
    security(("session" = [])),
    params(("case" = String, Path, description = "The case id"), TraceParams),
    responses(
        (status = 200, description = "The plan", body = CaseFreezeView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role drafts no orders", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 422, description = "poison sizes no orders (`field` = `rule`)", body = ErrorBody)
    )
)]
pub async fn case_freezes(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TraceParams>, QueryRejection>,
) -> Result<Json<CaseFreezeView>, ApiError> {
    let case = id_of(path, "case")?;
    let Query(p) = query?;
    Ok(Json(
        svc::case_freezes(
            &state,
            &user,
            &case,
            p.rule.as_deref(),
            p.draft.unwrap_or(false),
        )
        .await?,
    ))
}

/// The orders' query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderParams {
    /// One status: draft, pending, approved, sent, executed, refused, insufficient,
    /// lifted, expired, withdrawn.
    pub status: Option<String>,
    pub case: Option<String>,
    pub report: Option<String>,
}

/// Orders within the caller's scope, newest first: a bank's key sees the orders on its
/// own accounts, which it must execute.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(OrderParams),
    responses(
        (status = 200, description = "The orders, masked, with the steps the caller may take", body = Vec<OrderView>),
        (status = 400, description = "A status outside the list (`field` = `status`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no orders", body = ErrorBody)
    )
)]
pub async fn orders(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<OrderParams>, QueryRejection>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let Query(p) = query?;
    let blank = |s: Option<String>| s.filter(|s| !s.is_empty());
    let filter = OrderFilter {
        status: blank(p.status),
        case: blank(p.case),
        report: blank(p.report),
        ..OrderFilter::default()
    };
    Ok(Json(svc::orders(&state, &user, &filter).await?))
}

/// Drafts one order; the account by its handle.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "linkage",
    security(("session" = [])),
    request_body = OrderDraft,
    responses(
        (status = 200, description = "The draft", body = OrderView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not an order document, or not a handle this server issued", body = ErrorBody),
        (status = 403, description = "The role drafts no orders", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The rules refuse it: a third stop, a freeze before the case", body = ErrorBody),
        (status = 422, description = "A kind, amount or reason that is not acceptable (`field`)", body = ErrorBody)
    )
)]
pub async fn draft_order(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<OrderDraft>, JsonRejection>,
) -> Result<Json<OrderView>, ApiError> {
    let Json(d) = body?;
    Ok(Json(svc::draft_order(&state, &user, d).await?))
}

/// One order within the caller's scope.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not a number (`field` = `id`)", body = ErrorBody),
        (status = 404, description = "No such order in the caller's scope", body = ErrorBody)
    )
)]
pub async fn order(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<OrderView>, ApiError> {
    let id = order_id(path)?;
    Ok(Json(svc::order(&state, &user, id).await?))
}

/// A step of the order's workflow: `submit`, `withdraw`, `send`, `lift` (the drafting
/// side), `approve` (the approver, at their level), `answer` (the account's bank:
/// executed or insufficient with the amount held, or refused with the reason).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/steps",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path, description = "The order id")),
    request_body = OrderStep,
    responses(
        (status = 200, description = "The order as it now stands", body = OrderView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not a step document", body = ErrorBody),
        (status = 403, description = "The role may not take this step", body = ErrorBody),
        (status = 404, description = "No such order in the caller's scope", body = ErrorBody),
        (status = 409, description = "The order is not in a status the step applies to, the approver's level is short, or someone moved it meanwhile", body = ErrorBody),
        (status = 422, description = "A step, answer or amount that is not acceptable (`field`)", body = ErrorBody)
    )
)]
pub async fn order_step(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<OrderStep>, JsonRejection>,
) -> Result<Json<OrderView>, ApiError> {
    let id = order_id(path)?;
    let Json(s) = body?;
    Ok(Json(svc::order_step(&state, &user, id, s).await?))
}

/// The order's document in zh-CN (title, number, addressee, text, particulars with the
/// account in full, receipt): what the bank executes. Audited as `order.document`.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/document",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path, description = "The order id")),
    responses(
        (status = 200, description = "The document", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role handles no documents", body = ErrorBody),
        (status = 404, description = "No such order in the caller's scope", body = ErrorBody)
    )
)]
pub async fn order_document(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Document>, ApiError> {
    let id = order_id(path)?;
    Ok(Json(svc::order_document(&state, &user, id).await?))
}

/// An account's freeze registry across authorities: who holds what, since when, until
/// when, queued requests, freezes past screening, over-freezing.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{handle}/freezes",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(("handle" = String, Path, description = "The account's handle"), TraceParams),
    responses(
        (status = 200, description = "The registry", body = RegistryView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not an account handle this server issued", body = ErrorBody),
        (status = 404, description = "No such account in the caller's scope", body = ErrorBody)
    )
)]
pub async fn registry(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TraceParams>, QueryRejection>,
) -> Result<Json<RegistryView>, ApiError> {
    let handle = id_of(path, "handle")?;
    let Query(p) = query?;
    Ok(Json(
        svc::registry(&state, &user, &handle, p.as_of.as_deref()).await?,
    ))
}

/// The account's money allocated among the victims whose money reached it.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{handle}/return-plan",
    tag = "linkage",
    security(("session" = [])),
    params(("handle" = String, Path, description = "The account's handle")),
    responses(
        (status = 200, description = "The plan", body = ReturnPlanView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not an account handle this server issued", body = ErrorBody),
        (status = 404, description = "No such account in the caller's scope", body = ErrorBody)
    )
)]
pub async fn return_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ReturnPlanView>, ApiError> {
    let handle = id_of(path, "handle")?;
    Ok(Json(svc::returns_plan(&state, &user, &handle).await?))
}

/// The deadlines query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueParams {
    /// The window in days from now (default 10, at most 366).
    pub within_days: Option<u32>,
}

/// Stops about to lapse, renewals due, expiries and screenings due within the window, or
/// past it, on orders in force within the caller's scope.
#[utoipa::path(
    get,
    path = "/api/v1/orders/due",
    tag = "linkage",
    security(("session" = []), ("api_key" = [])),
    params(DueParams),
    responses(
        (status = 200, description = "Deadlines, earliest first", body = Vec<DueView>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "A window over 366 days", body = ErrorBody)
    )
)]
pub async fn due(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<DueParams>, QueryRejection>,
) -> Result<Json<Vec<DueView>>, ApiError> {
    let Query(p) = query?;
    Ok(Json(
        svc::due(&state, &user, p.within_days.unwrap_or(10)).await?,
    ))
}

/// The return rounds' query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundParams {
    /// One account's handle; all rounds without it.
    pub account: Option<String>,
}

/// Return rounds: the allocation noticed, its objection period, the decision and the
/// return orders it made.
#[utoipa::path(
    get,
    path = "/api/v1/return-rounds",
    tag = "linkage",
    security(("session" = [])),
    params(RoundParams),
    responses(
        (status = 200, description = "The rounds, victims masked", body = Vec<RoundView>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 400, description = "Not an account handle this server issued", body = ErrorBody),
        (status = 403, description = "The role sees no returns", body = ErrorBody)
    )
)]
pub async fn rounds(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<RoundParams>, QueryRejection>,
) -> Result<Json<Vec<RoundView>>, ApiError> {
    let Query(p) = query?;
    let handle = p.account.filter(|a| !a.is_empty());
    Ok(Json(svc::rounds(&state, &user, handle.as_deref()).await?))
}

/// The case a round is opened under.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundOpening {
    pub case: String,
}

/// Opens the next round of returns on the account under a case: the district's frozen
/// money there allocated among the victims; pro-rata shares wait 30 days for objections.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{handle}/return-rounds",
    tag = "linkage",
    security(("session" = [])),
    params(("handle" = String, Path, description = "The account's handle")),
    request_body = RoundOpening,
    responses(
        (status = 200, description = "The round, noticed", body = RoundView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role drafts no orders", body = ErrorBody),
        (status = 404, description = "No such case, or account in the caller's scope", body = ErrorBody),
        (status = 409, description = "A round on the account awaits its decision", body = ErrorBody),
        (status = 422, description = "No freeze of the district's on the account, or nothing left to return (`field` = `account`)", body = ErrorBody)
    )
)]
pub async fn open_round(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<RoundOpening>, JsonRejection>,
) -> Result<Json<RoundView>, ApiError> {
    let handle = id_of(path, "handle")?;
    let Json(b) = body?;
    Ok(Json(
        svc::open_round(&state, &user, &handle, &b.case).await?,
    ))
}

/// The return decision (返还决定书): prefecture level, after the objection period; one
/// approved, numbered return order per share.
#[utoipa::path(
    post,
    path = "/api/v1/return-rounds/{id}/decision",
    tag = "linkage",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The round id")),
    responses(
        (status = 200, description = "Decided, with its return orders", body = RoundView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only the approver decides", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody),
        (status = 409, description = "Decided already, objections still open, or a county-level signature", body = ErrorBody)
    )
)]
pub async fn decide_round(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<RoundView>, ApiError> {
    let id = id_of(path, "id")?
        .parse()
        .map_err(|_| ApiError::parameter("id", "a round id is a number"))?;
    Ok(Json(svc::decide_round(&state, &user, id).await?))
}

/// Money returned against money lost, per case and per month (返还率).
#[utoipa::path(
    get,
    path = "/api/v1/returns/ratio",
    tag = "linkage",
    security(("session" = [])),
    responses(
        (status = 200, description = "Ratios per case and per month", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no returns", body = ErrorBody)
    )
)]
pub async fn ratio(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<fanzha_trace::desk::Ratios>, ApiError> {
    Ok(Json(svc::ratios(&state, &user).await?))
}

/// Intake's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TakeParams {
    /// `true` drafts the stop plan at once.
    pub stop_plan: Option<bool>,
}

/// Takes a victim's report in (报案受理): the victim's identity, typology, loss, channel and
/// payments checked, nothing stored unless all are right; with `stop_plan=true` the
/// stop-payment orders are drafted at once, within the 30-minute window.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "linkage",
    security(("session" = [])),
    params(TakeParams),
    request_body = ReportEntry,
    responses(
        (status = 200, description = "Taken in, with the stop plan when asked", body = IntakeResult),
        (status = 400, description = "Not a report document", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role takes no reports", body = ErrorBody),
        (status = 422, description = "An identity, word, amount, payment or community that is not acceptable (`field`)", body = ErrorBody)
    )
)]
pub async fn take_report(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<TakeParams>, QueryRejection>,
    body: Result<Json<ReportEntry>, JsonRejection>,
) -> Result<Json<IntakeResult>, ApiError> {
    let Query(p) = query?;
    let Json(entry) = body?;
    Ok(Json(
        svc::take_report(&state, &user, entry, p.stop_plan.unwrap_or(false)).await?,
    ))
}

/// A round's document in zh-CN: the notice published for objections (公告), or once decided
/// the return decision (冻结资金返还决定书) with its table of shares. Audited as
/// `returns.document`.
#[utoipa::path(
    get,
    path = "/api/v1/return-rounds/{id}/document",
    tag = "linkage",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The round id")),
    responses(
        (status = 200, description = "The document", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role handles no returns", body = ErrorBody),
        (status = 404, description = "No such round", body = ErrorBody)
    )
)]
pub async fn round_document(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Document>, ApiError> {
    let id = id_of(path, "id")?
        .parse()
        .map_err(|_| ApiError::parameter("id", "a round id is a number"))?;
    Ok(Json(svc::round_document(&state, &user, id).await?))
}
