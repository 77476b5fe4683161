//! Real-time decisions and account-opening checks (issue 5, section 6), for institutions'
//! systems calling with their API keys.
//!
//! A decision reads only memory: the live risk state ([`fanzha_risk::live`]) and the
//! request. No store query, and no audit entry per decision: at tens of thousands a second
//! a synchronous audit row each would be the whole cost of the call. Each decision is
//! counted instead (`fanzha_decisions_total` in `/metrics`, by kind and answer), and every
//! identifier in the answer is masked. An account-opening check reads the store (the
//! identity's holdings and their warnings) and is audited as `check.account_opening`.
//!
//! Parsing: a body that is not JSON, lacks a field or has a field of the wrong type is a
//! 400 naming the field; so is a value our types refuse (a card number failing its check
//! digit, a blank number, a non-positive amount, a time that is not RFC 3339).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use fanzha_core::{mask, AccountNumber, CardNumber, Instant, PartyNumber, ResidentId};
use fanzha_risk::decide::{self, Decision, DecisionReason, Party};
use fanzha_risk::live::{EntityRisk, LiveRisk, RiskSource, Space};
use fanzha_risk::opening::{self, OpeningCheck, OpeningKind};
use fanzha_store::{RiskEntity, Scope, WarnedEntity, WarningLevel, WarningStatus};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, Code, ErrorBody};
use crate::metrics::DecisionKind;
use crate::policy::{remit, Action, Remit};
use crate::AppState;

/// Largest amount accepted: ten billion yuan, far above any single payment.
const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000;

/// A payment about to be made.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PaymentRequest {
    /// The paying account: a bank card (16–19 digits starting 4, 5 or 6, with a valid
    /// check digit) or another account number (up to 64 characters).
    pub payer_account: String,
    pub payee_account: String,
    /// Positive, in fen (分).
    pub amount_fen: i64,
    /// `transfer`, `online_pay`, `pos`, `crypto_exchange`…
    pub channel: Option<String>,
    /// When it is to happen, RFC 3339; default now.
    pub ts: Option<String>,
    /// Accepted and checked for length; not scored yet.
    pub device_id: Option<String>,
    /// Accepted and checked to be an IP address; not scored yet.
    pub ip: Option<String>,
}

/// A call about to be connected.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CallRequest {
    /// Any number as dialled or presented: national, `+86…`, international, virtual.
    pub caller: String,
    pub callee: String,
    /// RFC 3339; default now.
    pub ts: Option<String>,
}

/// A message about to be delivered.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SmsRequest {
    pub sender: String,
    pub recipient: String,
    /// RFC 3339; default now.
    pub ts: Option<String>,
    /// The message text, read for lure phrases and links; not kept.
    pub text: Option<String>,
}

/// A reason behind a decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionReasonView {
    /// A rule code (`ACC-PASS-24H`) or a request signal (`PAY-NIGHT`).
    pub code: String,
    pub text_zh: String,
    pub text_en: String,
    /// Points of the score; the reasons sum to it (± rounding).
    pub contribution: f64,
}

/// What the live state holds on one party of the request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartyView {
    /// `payer`, `payee`, `caller`, `callee`, `sender`, `recipient`.
    pub role: &'static str,
    /// Masked.
    pub id: String,
    /// Whether the live state has seen it.
    pub known: bool,
    /// Whether its risk counts towards this decision.
    pub counted: bool,
    /// 0–100, when known.
    pub score: Option<u8>,
    /// `red`, `orange` or `yellow`.
    pub level: Option<&'static str>,
    pub pattern: Option<&'static str>,
    /// `live` (the rules over live features) or `stored` (a stored warning).
    pub source: Option<&'static str>,
}

/// A real-time decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    /// `allow`, `warn`, `hold` or `block`: a party at red blocks, orange holds, yellow
    /// warns; the combined score blocks at 85, holds at 65, warns at 45; the stricter wins.
    pub decision: &'static str,
    /// 0–100.
    pub score: u8,
    /// Largest contribution first.
    #[schema(value_type = Vec<DecisionReasonView>)]
    pub reasons: Vec<DecisionReason>,
    /// The parties and what the live state holds on them.
    pub entities: Vec<PartyView>,
    /// `ready`, or `warming` while the store is still being replayed (then only stored
    /// warnings and the request's own signals count, and no party is called unseen).
    pub state: &'static str,
    /// The rule set the live state scores with.
    #[schema(value_type = String)]
    pub rules_version: Arc<str>,
}

/// What is applied for.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpeningKindParam {
    BankCard,
    Sim,
}

/// An application to open a bank card or activate a SIM.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OpeningRequest {
    /// The applicant's resident identity card number (18 characters, checked).
    pub resident_id: String,
    /// The bank's or carrier's code; an institution's key may ask only for itself.
    pub institution: String,
    pub kind: OpeningKindParam,
}

/// A reason behind an account-opening answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpeningReasonView {
    pub code: &'static str,
    pub text_zh: String,
    pub text_en: String,
    /// The answer this reason leads to on its own: `allow` (a note), `review`, `refuse`.
    pub effect: &'static str,
}

/// A held card with a warning.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlaggedView {
    /// `account` or `sim`.
    pub kind: &'static str,
    /// Masked.
    pub id: String,
    pub level: &'static str,
}

/// The answer to an account-opening check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpeningView {
    /// `allow`, `review` or `refuse`.
    pub decision: &'static str,
    pub reasons: Vec<OpeningReasonView>,
    #[schema(value_type = Object)]
    pub holdings: opening::HoldingCounts,
    pub flagged: Vec<FlaggedView>,
    /// `ready` or `warming` (see the decisions).
    pub state: &'static str,
}

/// What a decision handler needs: an institution's caller allowed to decide, and the live
/// state. An extractor of its own rather than `State<AppState>`, which would clone the
/// whole state once more per call.
pub struct Decider {
    live: Arc<LiveRisk>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl FromRequestParts<AppState> for Decider {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_parts_cached(parts, state).await?;
        user.allow(Action::Decide)?;
        Ok(Decider {
            live: Arc::clone(&state.live),
            metrics: Arc::clone(&state.metrics),
        })
    }
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(Code::MalformedBody, message).with_field(field)
}

/// An account number. One shaped like a bank card — 16 to 19 digits in the UnionPay, Visa
/// or Mastercard ranges (starting 4, 5 or 6) — must pass its check digit: a typo in a card
/// number must not be judged as a different, unknown account. Anything else (a corporate
/// or payment account's digits, a platform's identifier) is kept as the bank gives it.
fn account(field: &str, s: &str) -> Result<String, ApiError> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let card_range = matches!(s.as_bytes().first(), Some(b'4' | b'5' | b'6'));
    if digits && card_range && (16..=19).contains(&s.len()) {
        return CardNumber::parse(s)
            .map(|c| c.as_str().to_owned())
            .map_err(|e| bad(field, format!("not a valid card number: {e}")));
    }
    AccountNumber::parse(None, s)
        .map(|a| a.as_str().to_owned())
        .map_err(|e| bad(field, format!("not a usable account number: {e}")))
}

fn number(field: &str, s: &str) -> Result<PartyNumber, ApiError> {
    PartyNumber::parse(s).map_err(|e| bad(field, format!("not a usable number: {e}")))
}

fn timestamp(ts: Option<&str>) -> Result<i64, ApiError> {
    match ts {
        None => Ok(crate::auth::now_micros()),
        Some(s) => Instant::parse_rfc3339(s)
            .map(|i| i.micros())
            .map_err(|_| bad("ts", "not an RFC 3339 time, e.g. 2026-03-01T09:30:00+08:00")),
    }
}

fn short_text(field: &str, s: Option<&str>, max: usize) -> Result<(), ApiError> {
    match s {
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => Err(bad(
            field,
            format!("at most {max} characters, no control characters"),
        )),
        _ => Ok(()),
    }
}

fn party_view(party: &Party, id: String) -> PartyView {
    let risk = party.risk.as_deref();
    PartyView {
        role: party.role,
        id,
        known: risk.is_some(),
        counted: party.counts,
        score: risk.map(score_of),
        level: risk.and_then(|r| r.level).map(|l| l.as_str()),
        pattern: risk.and_then(|r| r.pattern).map(|p| p.as_str()),
        source: risk.map(|r| match r.source {
            RiskSource::Live => "live",
            RiskSource::Stored => "stored",
        }),
    }
}

fn score_of(r: &EntityRisk) -> u8 {
    r.score.round().clamp(0.0, 100.0) as u8
}

fn state_word(live: &LiveRisk) -> &'static str {
    if live.is_ready() {
        "ready"
    } else {
        "warming"
    }
}

fn answer(
    state: &Decider,
    kind: DecisionKind,
    d: Decision,
    parties: &[Party],
    ids: [String; 2],
) -> Json<DecisionView> {
    state.metrics.decision(kind, d.outcome.index());
    let entities = parties
        .iter()
        .zip(ids)
        .map(|(p, id)| party_view(p, id))
        .collect();
    Json(DecisionView {
        decision: d.outcome.as_str(),
        score: d.score,
        reasons: d.reasons,
        entities,
        state: state_word(&state.live),
        rules_version: state.live.rules_version(),
    })
}

/// Whether the live state should be trusted to say a party was never seen.
fn seen(live: &LiveRisk, risk: &Option<Arc<EntityRisk>>) -> Option<bool> {
    live.is_ready().then_some(risk.is_some())
}

/// Allow, warn, hold or block a payment, from the live risk of both accounts and the
/// payment's own signals (a never-seen payee, a large or round amount, one just under a
/// monitoring threshold, at night, to a crypto exchange). Counted, not audited.
#[utoipa::path(
    post,
    path = "/api/v1/decisions/payment",
    tag = "decisions",
    security(("api_key" = []), ("session" = [])),
    request_body = PaymentRequest,
    responses(
        (status = 200, description = "The decision, identifiers masked", body = DecisionView),
        (status = 400, description = "Not a payment document, or a field our types refuse; `field` names it", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Only banks' and carriers' keys ask for decisions", body = ErrorBody),
        (status = 415, description = "Body not declared as JSON", body = ErrorBody)
    )
)]
pub async fn payment(
    state: Decider,
    body: Result<Json<PaymentRequest>, JsonRejection>,
) -> Result<Json<DecisionView>, ApiError> {
    let Json(req) = body?;
    let payer = account("payer_account", &req.payer_account)?;
    let payee = account("payee_account", &req.payee_account)?;
    if req.amount_fen <= 0 || req.amount_fen > MAX_AMOUNT_FEN {
        return Err(bad(
            "amount_fen",
            "a positive whole number of fen, at most 10 billion yuan",
        ));
    }
    let ts = timestamp(req.ts.as_deref())?;
    short_text("channel", req.channel.as_deref(), 32)?;
    short_text("device_id", req.device_id.as_deref(), 128)?;
    if let Some(ip) = &req.ip {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| bad("ip", "not an IPv4 or IPv6 address"))?;
    }
    let live = &state.live;
    let parties = [
        Party {
            role: "payer",
            risk: live.get(Space::Account, &payer),
            counts: true,
        },
        Party {
            role: "payee",
            risk: live.get(Space::Account, &payee),
            counts: true,
        },
    ];
    let mut signals = Vec::new();
    decide::payment_signals(
        live.config(),
        req.amount_fen,
        ts,
        req.channel.as_deref(),
        seen(&state.live, &parties[1].risk),
        &mut signals,
    );
    let d = decide::decide(&parties, &signals);
    Ok(answer(
        &state,
        DecisionKind::Payment,
        d,
        &parties,
        [mask::card(&payer), mask::card(&payee)],
    ))
}

/// Allow, warn, hold or block a call, from the caller's live risk and its number (an
/// international or virtual-operator caller, one never seen). The callee's state is shown,
/// not scored. Counted, not audited.
#[utoipa::path(
    post,
    path = "/api/v1/decisions/call",
    tag = "decisions",
    security(("api_key" = []), ("session" = [])),
    request_body = CallRequest,
    responses(
        (status = 200, description = "The decision, numbers masked", body = DecisionView),
        (status = 400, description = "Not a call document, or a blank number; `field` names it", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Only banks' and carriers' keys ask for decisions", body = ErrorBody),
        (status = 415, description = "Body not declared as JSON", body = ErrorBody)
    )
)]
pub async fn call(
    state: Decider,
    body: Result<Json<CallRequest>, JsonRejection>,
) -> Result<Json<DecisionView>, ApiError> {
    let Json(req) = body?;
    let caller = number("caller", &req.caller)?;
    let callee = number("callee", &req.callee)?;
    timestamp(req.ts.as_deref())?;
    let live = &state.live;
    let parties = [
        Party {
            role: "caller",
            risk: live.get(Space::Number, caller.normalized()),
            counts: true,
        },
        Party {
            role: "callee",
            risk: live.get(Space::Number, callee.normalized()),
            counts: false,
        },
    ];
    let mut signals = Vec::new();
    decide::call_signals(
        caller.class(),
        seen(&state.live, &parties[0].risk),
        &mut signals,
    );
    let d = decide::decide(&parties, &signals);
    Ok(answer(
        &state,
        DecisionKind::Call,
        d,
        &parties,
        [caller.masked(), callee.masked()],
    ))
}

/// Allow, warn, hold or block an SMS, from the sender's live risk, its number and the
/// text (lure phrases, links; the text is not kept). Counted, not audited.
#[utoipa::path(
    post,
    path = "/api/v1/decisions/sms",
    tag = "decisions",
    security(("api_key" = []), ("session" = [])),
    request_body = SmsRequest,
    responses(
        (status = 200, description = "The decision, numbers masked", body = DecisionView),
        (status = 400, description = "Not an SMS document, or a blank number; `field` names it", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Only banks' and carriers' keys ask for decisions", body = ErrorBody),
        (status = 415, description = "Body not declared as JSON", body = ErrorBody)
    )
)]
pub async fn sms(
    state: Decider,
    body: Result<Json<SmsRequest>, JsonRejection>,
) -> Result<Json<DecisionView>, ApiError> {
    let Json(req) = body?;
    let sender = number("sender", &req.sender)?;
    let recipient = number("recipient", &req.recipient)?;
    timestamp(req.ts.as_deref())?;
    let live = &state.live;
    let parties = [
        Party {
            role: "sender",
            risk: live.get(Space::Number, sender.normalized()),
            counts: true,
        },
        Party {
            role: "recipient",
            risk: live.get(Space::Number, recipient.normalized()),
            counts: false,
        },
    ];
    let mut signals = Vec::new();
    decide::sms_signals(sender.class(), req.text.as_deref(), &mut signals);
    let d = decide::decide(&parties, &signals);
    Ok(answer(
        &state,
        DecisionKind::Sms,
        d,
        &parties,
        [sender.masked(), recipient.masked()],
    ))
}

/// Allow, review or refuse opening a bank card or activating a SIM: the identity's cards
/// and SIMs across every institution against the legal caps, and warnings on any of them
/// (stored, or in the live state). Audited as `check.account_opening`.
#[utoipa::path(
    post,
    path = "/api/v1/checks/account-opening",
    tag = "decisions",
    security(("api_key" = []), ("session" = [])),
    request_body = OpeningRequest,
    responses(
        (status = 200, description = "The answer with its reasons and counts, identifiers masked", body = OpeningView),
        (status = 400, description = "Not an application document, or an invalid resident id; `field` names it", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Not a bank's or carrier's key, or another institution's application", body = ErrorBody),
        (status = 415, description = "Body not declared as JSON", body = ErrorBody),
        (status = 503, description = "The check could not be audited", body = ErrorBody)
    )
)]
pub async fn account_opening(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<OpeningRequest>, JsonRejection>,
) -> Result<Json<OpeningView>, ApiError> {
    user.allow(Action::Decide)?;
    let Json(req) = body?;
    let id = ResidentId::parse(&req.resident_id)
        .map_err(|e| bad("resident_id", format!("not a valid resident id: {e}")))?;
    let institution = req.institution.trim();
    if institution.is_empty() || institution.len() > 64 || institution.chars().any(char::is_control)
    {
        return Err(bad("institution", "an institution code, 1–64 characters"));
    }
    if remit(user.role) == Remit::Institution && user.institution.as_deref() != Some(institution) {
        return Err(ApiError::new(
            Code::Forbidden,
            "an institution checks applications made to itself",
        )
        .with_field("institution"));
    }
    let holdings = state.store.holdings(id.as_str()).await?;
    let mut flags = Vec::new();
    let mut flagged = Vec::new();
    for h in &holdings {
        let (space, kind) = match h.kind {
            "account" => (Space::Account, RiskEntity::Account),
            _ => (Space::Number, RiskEntity::Sim),
        };
        let live = state
            .live
            .get(space, &h.id)
            .and_then(|r| r.level.map(|l| (l, r.source)));
        let stored = state
            .store
            .warning_get(&Scope::All, &WarnedEntity::new(kind, h.id.as_str()))
            .await?
            .filter(|w| {
                matches!(
                    w.status,
                    WarningStatus::Open
                        | WarningStatus::Confirmed
                        | WarningStatus::ActionTaken
                        | WarningStatus::Appealed
                )
            })
            .map(|w| match w.level {
                WarningLevel::Yellow => fanzha_risk::rules::Level::Yellow,
                WarningLevel::Orange => fanzha_risk::rules::Level::Orange,
                WarningLevel::Red => fanzha_risk::rules::Level::Red,
            });
        let level = match (live.map(|l| l.0), stored) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(level) = level {
            flags.push(level);
            flagged.push(FlaggedView {
                kind: h.kind,
                id: match space {
                    Space::Account => mask::card(&h.id),
                    Space::Number => mask::phone(&h.id),
                },
                level: level.as_str(),
            });
        }
    }
    let kind = match req.kind {
        OpeningKindParam::BankCard => OpeningKind::BankCard,
        OpeningKindParam::Sim => OpeningKind::Sim,
    };
    let check: OpeningCheck = opening::account_opening(
        kind,
        institution,
        &holdings,
        &flags,
        &state.live.config().caps,
    );
    state
        .audit
        .append(
            &user.actor(),
            "check.account_opening",
            &serde_json::json!({
                "id": id.as_str(),
                "institution": institution,
                "kind": match kind { OpeningKind::BankCard => "bank_card", OpeningKind::Sim => "sim" },
                "decision": check.outcome.as_str(),
            }),
        )
        .await?;
    state
        .metrics
        .decision(DecisionKind::AccountOpening, check.outcome.index());
    Ok(Json(OpeningView {
        decision: check.outcome.as_str(),
        reasons: check
            .reasons
            .into_iter()
            .map(|r| OpeningReasonView {
                code: r.code,
                text_zh: r.text_zh,
                text_en: r.text_en,
                effect: r.effect.as_str(),
            })
            .collect(),
        holdings: check.counts,
        flagged,
        state: state_word(&state.live),
    }))
}
