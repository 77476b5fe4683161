//! The desk: the trace workflow (M4–M7) over the store, one implementation for the CLI, the
//! API and the console. Filing cases, drafting orders (one, a report's stops, a case's
//! freezes in bulk), moving them through approval to the bank's answer, reading an
//! account's freeze registry, the deadlines due, and the return plan.
//!
//! The rules live in [`crate::orders`] and [`crate::registry`] (pure); the desk reads and
//! writes the store around them and turns results into the documents callers print or
//! serve. Auditing is the caller's: the CLI and the server record different actors and
//! actions, and each records after the desk succeeds.

use std::collections::BTreeMap;

use fanzha_core::time::Instant;
use fanzha_store::{
    Case, EntityKind, EntityRef, NewCase, NewOrder, Order, OrderChange, OrderFilter,
    ReportPayments, Scope, Store, StoreError,
};
use serde::Serialize;
use thiserror::Error;

use crate::calendar::Calendar;
use crate::document::Document;
use crate::graph::{AccountIx, Graph};
use crate::load::{self, LoadError};
use crate::orders::{
    self, Action, Answer, Filed, Level, OrderKind, Rules, Scale, Status, WorkflowError,
};
use crate::registry::{self, Kind, Measure, Periods, Refused};
use crate::returns::{allocate, Allocation, Basis, Claim, ReturnPlan};
use crate::stop::{self, Urgency};
use crate::trace::{trace, Trace};
use crate::view::shown_time;
use crate::Rule;

/// Why the desk refused or failed. The first variants are the caller's mistakes (a 4xx at
/// the API); `Store` and `Load` are ours.
#[derive(Debug, Error)]
pub enum DeskError {
    /// A value the request gave is wrong; `field` names it.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// The rules forbid it (a third stop, a freeze before the case).
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The order is not in a status the action applies to, or the approver's level is short.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("order {0} was moved by someone else meanwhile; look at it again")]
    Moved(i64),
    #[error("case {0} is already filed")]
    Filed(String),
    /// The state the request needs is not there (a round still in its objection period).
    #[error("{0}")]
    Conflict(String),
    #[error("reading or writing the store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Load(#[from] LoadError),
}

impl DeskError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> DeskError {
        DeskError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    fn not_found(what: &'static str, id: impl ToString) -> DeskError {
        DeskError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, DeskError>;

/// Who acts, and when (UTC microseconds). Workflow times are when people act, not the
/// data's event times.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub actor: &'a str,
    pub at: i64,
}

/// A whole-account reason: 10 to 500 characters, because it is what an auditor reads.
pub const REASON_CHARS: std::ops::RangeInclusive<usize> = 10..=500;

/// LEGAL.md: the victim's payment details are to be on the control platform within 30
/// minutes of the report; the stop-payment drafts are due by then.
pub const STOP_WINDOW_MINUTES: i64 = 30;

fn check_reason(field: &'static str, reason: Option<&str>) -> Result<()> {
    if let Some(r) = reason {
        let n = r.trim().chars().count();
        if !REASON_CHARS.contains(&n) {
            return Err(DeskError::invalid(
                field,
                format!("must be 10 to 500 characters (it has {n})"),
            ));
        }
    }
    Ok(())
}

/// A case to file.
#[derive(Debug, Clone)]
pub struct CaseRequest {
    pub case_id: String,
    pub filing_no: String,
    pub reports: Vec<String>,
    pub major: bool,
    /// Default: when the request is made.
    pub filed_at: Option<i64>,
}

/// A victim's report taken in (报案受理): at a station's counter, on 110 or 96110, or in the
/// app; the payments are the victim's own transfers to the fraudsters, by transaction id.
#[derive(Debug, Clone)]
pub struct ReportIntake {
    /// `resident` (default), `foreign_permanent`, `hmt_permit`, `passport`.
    pub id_kind: Option<String>,
    pub victim_id: String,
    pub typology: String,
    pub loss_fen: i64,
    /// 110, 96110, walk_in, app or online.
    pub channel: String,
    pub community_code: Option<String>,
    pub description: Option<String>,
    pub payments: Vec<String>,
}

/// One order to draft.
#[derive(Debug, Clone)]
pub struct DraftRequest {
    pub kind: OrderKind,
    pub account: String,
    pub amount_fen: i64,
    pub report: Option<String>,
    pub case: Option<String>,
    /// The whole account rather than the traced holding, and why.
    pub whole_account: bool,
    pub reason: Option<String>,
}

/// An order as callers show it: identifiers resolved, times at Asia/Shanghai.
#[derive(Debug, Clone, Serialize)]
pub struct OrderDoc {
    pub id: i64,
    pub kind: String,
    pub account: String,
    pub report: Option<String>,
    pub case: Option<String>,
    pub amount_fen: i64,
    pub basis: String,
    pub reason: Option<String>,
    pub level: String,
    pub status: String,
    pub document_no: Option<String>,
    pub document: Option<&'static str>,
    pub created_by: String,
    pub created_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub answer: Option<String>,
    pub held_fen: Option<i64>,
    pub effective_at: Option<String>,
    pub expires_at: Option<String>,
    /// When the frozen money was screened (甄别), and the finding (JSON).
    pub disposed_at: Option<String>,
    pub disposition: Option<String>,
}

impl OrderDoc {
    pub fn new(o: &Order) -> OrderDoc {
        OrderDoc {
            id: o.id,
            kind: o.new.kind.clone(),
            account: o.new.account_id.clone(),
            report: o.new.report_id.clone(),
            case: o.new.case_id.clone(),
            amount_fen: o.new.amount_fen,
            basis: o.new.basis.clone(),
            reason: o.new.reason.clone(),
            level: o.new.level.clone(),
            status: o.status.clone(),
            document_no: o.document_no.clone(),
            document: OrderKind::parse(&o.new.kind).map(OrderKind::document_title),
            created_by: o.new.created_by.clone(),
            created_at: shown_time(o.new.created_at),
            approved_by: o.approved_by.clone(),
            approved_at: o.approved_at.map(shown_time),
            answer: o.answer.clone(),
            held_fen: o.held_fen,
            effective_at: o.effective_at.map(shown_time),
            expires_at: o.expires_at.map(shown_time),
            disposed_at: o.disposed_at.map(shown_time),
            disposition: o.disposition.clone(),
        }
    }
}

/// One line of a stop-payment plan.
#[derive(Debug, Clone, Serialize)]
pub struct StopOrder {
    pub account: String,
    pub amount_fen: i64,
    pub basis: &'static str,
    pub balance_fen: i64,
    pub urgency: Urgency,
    pub last_arrival: String,
    pub outflows_since: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The draft order stored for this line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    /// Why no draft was stored for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_drafted: Option<String>,
}

/// A report's stop-payment plan.
#[derive(Debug, Clone, Serialize)]
pub struct StopPlan {
    pub report: String,
    pub reported_at: String,
    /// The 30-minute window's end.
    pub stop_due_by: String,
    pub rule: &'static str,
    pub as_of: String,
    pub orders: Vec<StopOrder>,
    pub exited_fen: i64,
}

/// One account of a case's bulk freeze.
#[derive(Debug, Clone, Serialize)]
pub struct FreezeLine {
    pub account: String,
    /// The case's victims' money traced there (summed over its reports).
    pub amount_fen: i64,
    pub reports: Vec<String>,
    pub balance_fen: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_drafted: Option<String>,
}

/// The freezes a case's traced money calls for.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFreezePlan {
    pub case: String,
    pub rule: &'static str,
    pub as_of: String,
    /// Who must approve this batch (bulk and major cases go to the prefecture).
    pub level: Level,
    pub lines: Vec<FreezeLine>,
    /// Money that left the district to outside accounts: theirs to freeze, passed upstream.
    pub outside: Vec<FreezeLine>,
    /// Whether the case's freezes must be notified to the accounts' local police, with
    /// the notice's deadline from now.
    pub notify: Option<NoticeDue>,
    /// Reports of the case that could not be traced, and why.
    pub untraced: Vec<String>,
}

/// A notice owed to local police (LEGAL.md: more than 100 accounts in one city, or more
/// than ¥2 million in one case, within 7 days).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeDue {
    pub accounts: usize,
    pub amount_fen: i64,
    pub due_by: String,
}

/// A deadline of an order in force.
#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    pub due: String,
    #[serde(skip)]
    pub due_micros: i64,
    pub overdue: bool,
    /// stop_lapses, renewal_due, freeze_lapses or screening_due.
    pub what: &'static str,
    pub order: i64,
    pub kind: String,
    pub account: String,
    pub document_no: Option<String>,
}

/// An account's freeze registry at a moment.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryDoc {
    pub account: String,
    pub as_of: String,
    pub balance_fen: i64,
    pub active_fen: i64,
    pub traced_fen: i64,
    pub measures: Vec<MeasureDoc>,
    pub undisposed: Vec<UndisposedDoc>,
    pub over_freezing: Option<OverDoc>,
    /// `external_freezes` rows that matched no measure (a renewal or release with nothing in
    /// force, or an unknown word).
    pub unmatched_rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureDoc {
    pub id: String,
    pub authority: String,
    pub kind: &'static str,
    pub requested_fen: i64,
    pub active_fen: i64,
    pub queued_fen: i64,
    pub registered_at: String,
    pub since: Option<String>,
    pub expires_at: Option<String>,
    pub renewal_due: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UndisposedDoc {
    pub id: String,
    pub screening_due: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverDoc {
    pub frozen_fen: i64,
    pub traced_fen: i64,
    pub release_fen: i64,
    pub release_due: String,
}

/// The objection period of a return's public notice (LEGAL.md), in days.
pub const OBJECTION_DAYS: i64 = 30;
/// A bank completes a return within this many working days and sends a receipt.
pub const RETURN_WORKING_DAYS: u32 = 3;

/// A round of returns as callers show it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundDoc {
    pub id: i64,
    pub account: String,
    pub case: String,
    pub round: i64,
    /// What this round splits: the district's freezes in force less earlier rounds' shares.
    pub funds_fen: i64,
    /// noticed, decided or withdrawn.
    pub status: String,
    pub opened_by: String,
    pub opened_at: String,
    /// The objection period's end; the decision may not come before it.
    pub objections_until: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The return decision's number (返还决〔Y〕N号).
    pub decision_no: Option<String>,
    pub allocations: Vec<Allocation>,
    /// The return orders the decision made, one per share.
    pub orders: Vec<i64>,
}

/// Money returned against money lost, for one key (a case, or a Shanghai month).
#[derive(Debug, Clone, Serialize)]
pub struct RatioRow {
    pub key: String,
    pub loss_fen: i64,
    pub returned_fen: i64,
    /// returned ÷ lost, 0 when nothing was lost.
    pub ratio: f64,
}

/// The return ratio per case and per month.
#[derive(Debug, Clone, Serialize)]
pub struct Ratios {
    pub by_case: Vec<RatioRow>,
    /// Losses by the month they were reported, returns by the month the bank executed them.
    pub by_month: Vec<RatioRow>,
}

/// The workflow over one store, under one set of rules.
pub struct Desk<'s> {
    pub store: &'s dyn Store,
    pub rules: Rules,
    pub calendar: &'s Calendar,
}

impl<'s> Desk<'s> {
    pub fn new(store: &'s dyn Store) -> Desk<'s> {
        Desk {
            store,
            // Checked at start by the programs, so an error here cannot be new.
            rules: Rules::configured().unwrap_or_default(),
            calendar: Calendar::configured().unwrap_or(Calendar::shipped()),
        }
    }

    /// The report, with at least one payment to follow.
    pub async fn report(&self, id: &str) -> Result<ReportPayments> {
        let r = self
            .store
            .report_payments(&Scope::All, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DeskError::not_found("report", id))?;
        if r.payments.is_empty() {
            return Err(DeskError::invalid(
                "report",
                format!(
                    "report {id} names no payments (report_payments): there is nothing to trace"
                ),
            ));
        }
        Ok(r)
    }

    /// Stores a new report and its payments, each checked: the victim's identity by its
    /// kind's rules, the typology and channel from the vocabulary, a positive loss, and
    /// every payment a stored transaction (a payment the district's data does not hold
    /// cannot be traced: ask the bank for it first). Nothing is stored unless all of it is
    /// right. The report's id is `R` and the Shanghai time to the microsecond.
    pub async fn take_report(&self, by: By<'_>, r: ReportIntake) -> Result<ReportPayments> {
        use fanzha_core::schema::{Kind as DataKind, Row, Value};
        use fanzha_core::vocab::{ReportChannel, Typology};
        use fanzha_core::{IdKind, PersonId};
        let kind: IdKind = r
            .id_kind
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or("resident")
            .parse()
            .map_err(|e: fanzha_core::IdError| DeskError::invalid("id_kind", e.to_string()))?;
        let victim = PersonId::parse(kind, r.victim_id.trim())
            .map_err(|e| DeskError::invalid("victim_id", e.to_string()))?;
        let typology: Typology =
            r.typology
                .parse()
                .map_err(|e: fanzha_core::vocab::VocabError| {
                    DeskError::invalid("typology", e.to_string())
                })?;
        let channel: ReportChannel =
            r.channel
                .parse()
                .map_err(|e: fanzha_core::vocab::VocabError| {
                    DeskError::invalid("channel", e.to_string())
                })?;
        if r.loss_fen <= 0 {
            return Err(DeskError::invalid(
                "loss_fen",
                "a loss is a positive amount of fen",
            ));
        }
        let mut payments: Vec<String> = r.payments.iter().map(|p| p.trim().to_owned()).collect();
        payments.retain(|p| !p.is_empty());
        payments.sort();
        payments.dedup();
        if payments.is_empty() {
            return Err(DeskError::invalid(
                "payments",
                "name the victim's payments (transaction ids) so the money can be followed",
            ));
        }
        let found = self.store.transfers_by_id(&payments).await?;
        if let Some(missing) = payments
            .iter()
            .find(|p| !found.iter().any(|t| &t.tx_id == *p))
        {
            return Err(DeskError::invalid(
                "payments",
                format!("{missing} is not among the stored transactions: obtain the victim's statement first"),
            ));
        }
        let text = |s: &str| Value::Text(s.to_owned());
        let opt = |s: Option<&String>| {
            s.map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map_or(Value::Null, |s| Value::Text(s.to_owned()))
        };
        let id = Instant::from_micros(by.at).map_or_else(
            || format!("R{}", by.at),
            |t| format!("R{}", t.shanghai().format("%Y%m%d%H%M%S%6f")),
        );
        let row = |values: Vec<Value>| fanzha_store::Item {
            row: Row {
                values,
                extra: None,
            },
            origin: fanzha_store::Origin {
                file: format!("intake:{}", by.actor).into(),
                line: 1,
                original: Vec::new(),
            },
        };
        let mut report = fanzha_store::Batch::new(DataKind::Reports);
        report.items.push(row(vec![
            text(&id),
            Value::Int(by.at),
            text(victim.as_str()),
            text(typology.as_str()),
            Value::Int(r.loss_fen),
            opt(r.description.as_ref()),
            opt(r.community_code.as_ref()),
            text(channel.as_str()),
        ]));
        let mut links = fanzha_store::Batch::new(DataKind::ReportPayments);
        for p in &payments {
            links.items.push(row(vec![text(&id), text(p)]));
        }
        // The links first: a report is listed only once it can be followed.
        for batch in [links, report] {
            let outcome = self.store.write_batch(batch).await?;
            if let Some(c) = outcome.conflicts.first() {
                return Err(DeskError::invalid("report", c.reason.clone()));
            }
        }
        self.report(&id).await
    }

    pub async fn file_case(&self, by: By<'_>, req: CaseRequest) -> Result<Case> {
        if req.case_id.trim().is_empty() {
            return Err(DeskError::invalid("case", "is empty"));
        }
        if req.filing_no.trim().is_empty() {
            return Err(DeskError::invalid(
                "filing_no",
                "is empty: a case is filed by its decision number (立案决定书)",
            ));
        }
        if req.reports.is_empty() {
            return Err(DeskError::invalid(
                "reports",
                "a case takes in at least one report",
            ));
        }
        for r in &req.reports {
            if self
                .store
                .report_payments(&Scope::All, Some(r))
                .await?
                .is_empty()
            {
                return Err(DeskError::invalid(
                    "reports",
                    format!("report {r} is not in the store"),
                ));
            }
        }
        let case = NewCase {
            case_id: req.case_id.clone(),
            filing_no: req.filing_no,
            filed_at: req.filed_at.unwrap_or(by.at),
            major: req.major,
            report_ids: req.reports,
            filed_by: by.actor.to_owned(),
            created_at: by.at,
        };
        if !self.store.case_file(&case).await? {
            return Err(DeskError::Filed(req.case_id));
        }
        Ok(case)
    }

    pub async fn case(&self, id: &str) -> Result<Case> {
        self.store
            .case_get(id)
            .await?
            .ok_or_else(|| DeskError::not_found("case", id))
    }

    /// One order within the caller's scope (a bank: on its own accounts).
    pub async fn order(&self, scope: &Scope, id: i64) -> Result<Order> {
        self.store
            .orders(scope, &OrderFilter::id(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| DeskError::not_found("order", id))
    }

    /// An order within the caller's scope and its document, addressed to the account's
    /// bank as the district's records name it.
    pub async fn document(&self, scope: &Scope, id: i64) -> Result<(Order, Document)> {
        let o = self.order(scope, id).await?;
        let case = match &o.new.case_id {
            Some(c) => self.store.case_get(c).await?,
            None => None,
        };
        let account = EntityRef {
            kind: EntityKind::Account,
            id: o.new.account_id.clone(),
        };
        let bank = self
            .store
            .profile(&Scope::All, &account, 1)
            .await?
            .and_then(|p| p.attributes.into_iter().find(|a| a.key == "bank_code"))
            .map(|a| a.value);
        let doc = Document::of_order(&o, case.as_ref(), bank.as_deref());
        Ok((o, doc))
    }

    /// Stops placed on an account so far: every stop order not withdrawn and not refused.
    async fn stops_on(&self, account: &str) -> Result<u32> {
        Ok(self
            .store
            .orders(&Scope::All, &OrderFilter::account(account))
            .await?
            .iter()
            .filter(|o| {
                o.new.kind == "stop" && !matches!(o.status.as_str(), "withdrawn" | "refused")
            })
            .count() as u32)
    }

    /// Accounts with a freeze in the case that is not withdrawn or refused.
    async fn case_freezes(&self, case: &str) -> Result<BTreeMap<String, i64>> {
        let mut out = BTreeMap::new();
        for o in self
            .store
            .orders(&Scope::All, &OrderFilter::case(case))
            .await?
        {
            if o.new.kind == "freeze" && !matches!(o.status.as_str(), "withdrawn" | "refused") {
                out.insert(o.new.account_id, o.id);
            }
        }
        Ok(out)
    }

    async fn is_district_account(&self, account: &str) -> Result<bool> {
        let e = EntityRef {
            kind: EntityKind::Account,
            id: account.to_owned(),
        };
        Ok(self.store.profile(&Scope::All, &e, 1).await?.is_some())
    }

    pub async fn draft(&self, by: By<'_>, req: DraftRequest) -> Result<Order> {
        if req.amount_fen <= 0 {
            return Err(DeskError::invalid(
                "amount_fen",
                format!("{}: an order is for a positive amount", req.amount_fen),
            ));
        }
        if req.whole_account && req.reason.is_none() {
            return Err(DeskError::invalid(
                "reason",
                "a whole-account order needs the reason it is not the traced holding",
            ));
        }
        check_reason("reason", req.reason.as_deref())?;
        if !self.is_district_account(&req.account).await? {
            return Err(DeskError::invalid(
                "account",
                format!(
                    "{} is not one of the district's accounts (accounts)",
                    req.account
                ),
            ));
        }
        let case = match &req.case {
            Some(c) => Some(self.case(c).await?),
            None => None,
        };
        let filed = case.as_ref().map(|c| Filed {
            filed_at: c.filed_at,
            major: c.major,
        });
        orders::may_draft(
            &self.rules,
            req.kind,
            self.stops_on(&req.account).await?,
            filed,
            by.at,
        )?;
        let case_accounts = match &req.case {
            Some(c) if req.kind == OrderKind::Freeze => 1 + self.case_freezes(c).await?.len(),
            _ => 1,
        };
        let level = self.rules.level(
            req.kind,
            Scale {
                major: filed.is_some_and(|f| f.major),
                batch_accounts: 1,
                case_accounts,
            },
        );
        let new = NewOrder {
            kind: req.kind.as_str().into(),
            account_id: req.account,
            report_id: req.report,
            case_id: req.case,
            amount_fen: req.amount_fen,
            basis: if req.whole_account {
                "whole_account"
            } else {
                "traced_holding"
            }
            .into(),
            reason: req.reason,
            level: level.as_str().into(),
            created_by: by.actor.to_owned(),
            created_at: by.at,
            round_id: None,
        };
        let id = self.store.order_add(&new).await?;
        self.order(&Scope::All, id).await
    }

    /// A report's stop-payment plan from its trace; with `draft`, each line stored as a draft
    /// stop order, one batch (a line on an account that has had its stops is set apart with
    /// the reason). `whole` stops that account whole, for the reason given.
    pub async fn stop_plan(
        &self,
        by: By<'_>,
        g: &Graph,
        report: &ReportPayments,
        t: &Trace,
        whole: Option<(&str, &str)>,
        draft: bool,
    ) -> Result<StopPlan> {
        if t.rule == Rule::Poison {
            return Err(DeskError::invalid(
                "rule",
                "poison gives reach, not amounts: size stop orders with fifo, lifo, pro-rata or libr",
            ));
        }
        check_reason("reason", whole.map(|w| w.1))?;
        let lines = stop::plan(g, t);
        if let Some((w, _)) = whole {
            if !lines.iter().any(|l| g.name(l.account) == w) {
                return Err(DeskError::invalid(
                    "whole_account",
                    format!("{w}: the report's money is not traced to that account"),
                ));
            }
        }
        let mut orders: Vec<StopOrder> = lines
            .iter()
            .map(|l| {
                let name = g.name(l.account);
                let reason = whole.filter(|w| w.0 == name).map(|w| w.1.to_owned());
                StopOrder {
                    account: name.to_owned(),
                    amount_fen: if reason.is_some() {
                        l.balance_fen
                    } else {
                        l.amount_fen
                    },
                    basis: if reason.is_some() {
                        "whole_account"
                    } else {
                        "traced_holding"
                    },
                    balance_fen: l.balance_fen,
                    urgency: l.urgency,
                    last_arrival: shown_time(l.last_arrival),
                    outflows_since: l.outflows_since,
                    reason,
                    order_id: None,
                    not_drafted: None,
                }
            })
            .collect();
        if draft {
            let level = self.rules.level(
                OrderKind::Stop,
                Scale {
                    major: false,
                    batch_accounts: orders.len(),
                    case_accounts: orders.len(),
                },
            );
            // A plan posted twice (a reload) must not stop the same money twice: a stop for
            // this report still in the workflow is the one to follow.
            let open: BTreeMap<String, i64> = self
                .store
                .orders(
                    &Scope::All,
                    &OrderFilter {
                        report: Some(report.report_id.clone()),
                        ..OrderFilter::default()
                    },
                )
                .await?
                .into_iter()
                .filter(|o| {
                    o.new.kind == "stop"
                        && matches!(
                            o.status.as_str(),
                            "draft" | "pending" | "approved" | "sent" | "executed" | "insufficient"
                        )
                })
                .map(|o| (o.new.account_id, o.id))
                .collect();
            for l in &mut orders {
                if let Some(id) = open.get(&l.account) {
                    l.not_drafted = Some(format!(
                        "stop order {id} for this report is already in the workflow"
                    ));
                    continue;
                }
                let stops = self.stops_on(&l.account).await?;
                if let Err(e) = orders::may_draft(&self.rules, OrderKind::Stop, stops, None, by.at)
                {
                    l.not_drafted = Some(e.to_string());
                    continue;
                }
                let id = self
                    .store
                    .order_add(&NewOrder {
                        kind: OrderKind::Stop.as_str().into(),
                        account_id: l.account.clone(),
                        report_id: Some(report.report_id.clone()),
                        case_id: None,
                        amount_fen: l.amount_fen,
                        basis: l.basis.into(),
                        reason: l.reason.clone(),
                        level: level.as_str().into(),
                        created_by: by.actor.to_owned(),
                        created_at: by.at,
                        round_id: None,
                    })
                    .await?;
                l.order_id = Some(id);
            }
        }
        Ok(StopPlan {
            report: report.report_id.clone(),
            reported_at: shown_time(report.ts),
            stop_due_by: shown_time(report.ts + STOP_WINDOW_MINUTES * 60_000_000),
            rule: t.rule.as_str(),
            as_of: shown_time(t.as_of),
            orders,
            exited_fen: t.exited_fen(),
        })
    }

    /// The freezes a case's traced money calls for: every report of the case traced by
    /// `rule`, the holdings summed per account. With `draft`, each district account without
    /// a freeze in the case gets a draft freeze for its traced sum, at the level the batch
    /// needs; outside accounts are listed apart (another district's banks: passed upstream).
    pub async fn case_freeze_plan(
        &self,
        by: By<'_>,
        g: &Graph,
        case_id: &str,
        rule: Rule,
        as_of: i64,
        draft: bool,
    ) -> Result<CaseFreezePlan> {
        if rule == Rule::Poison {
            return Err(DeskError::invalid(
                "rule",
                "poison gives reach, not amounts: size freezes with fifo, lifo, pro-rata or libr",
            ));
        }
        let case = self.case(case_id).await?;
        orders::may_draft(
            &self.rules,
            OrderKind::Freeze,
            0,
            Some(Filed {
                filed_at: case.filed_at,
                major: case.major,
            }),
            by.at,
        )?;
        let mut held: BTreeMap<AccountIx, (i64, Vec<String>)> = BTreeMap::new();
        let mut untraced = Vec::new();
        for r in &case.report_ids {
            let report = match self.report(r).await {
                Ok(rep) => rep,
                Err(e @ (DeskError::NotFound { .. } | DeskError::Invalid { .. })) => {
                    untraced.push(format!("{r}: {e}"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let payments = match load::payments(g, &report) {
                Ok(p) => p,
                Err(e) => {
                    untraced.push(format!("{r}: {e}"));
                    continue;
                }
            };
            for h in trace(g, &payments, rule, as_of).holdings {
                let e = held.entry(h.account).or_default();
                e.0 += h.amount_fen;
                e.1.push(r.clone());
            }
        }
        let end = g.last_at(as_of);
        let line = |a: AccountIx, (amount, reports): (i64, Vec<String>)| FreezeLine {
            account: g.name(a).to_owned(),
            amount_fen: amount,
            reports,
            balance_fen: g.balance_at(a, end),
            order_id: None,
            not_drafted: None,
        };
        let (inside, outside): (Vec<_>, Vec<_>) = held
            .into_iter()
            .filter(|(_, (amount, _))| *amount > 0)
            .partition(|(a, _)| g.is_inside(*a));
        let mut lines: Vec<FreezeLine> = inside.into_iter().map(|(a, v)| line(a, v)).collect();
        let mut outside: Vec<FreezeLine> = outside.into_iter().map(|(a, v)| line(a, v)).collect();
        lines.sort_by(|a, b| {
            b.amount_fen
                .cmp(&a.amount_fen)
                .then(a.account.cmp(&b.account))
        });
        outside.sort_by(|a, b| {
            b.amount_fen
                .cmp(&a.amount_fen)
                .then(a.account.cmp(&b.account))
        });
        let existing = self.case_freezes(case_id).await?;
        for l in &mut lines {
            if let Some(id) = existing.get(&l.account) {
                l.not_drafted = Some(format!("the case already has freeze order {id} on it"));
            }
        }
        let new = lines.iter().filter(|l| l.not_drafted.is_none()).count();
        let level = self.rules.level(
            OrderKind::Freeze,
            Scale {
                major: case.major,
                batch_accounts: new,
                case_accounts: existing.len() + new,
            },
        );
        if draft {
            for l in lines.iter_mut().filter(|l| l.not_drafted.is_none()) {
                let id = self
                    .store
                    .order_add(&NewOrder {
                        kind: OrderKind::Freeze.as_str().into(),
                        account_id: l.account.clone(),
                        report_id: (l.reports.len() == 1).then(|| l.reports[0].clone()),
                        case_id: Some(case_id.to_owned()),
                        amount_fen: l.amount_fen,
                        basis: "traced_holding".into(),
                        reason: None,
                        level: level.as_str().into(),
                        created_by: by.actor.to_owned(),
                        created_at: by.at,
                        round_id: None,
                    })
                    .await?;
                l.order_id = Some(id);
            }
        }
        // Fanzha is one district's platform: its accounts are all in its city, so the city
        // count is the case's district accounts under freeze.
        let accounts = existing.len() + new;
        let amount_fen: i64 = lines.iter().map(|l| l.amount_fen).sum();
        let notify = self
            .rules
            .must_notify(accounts, amount_fen)
            .then(|| NoticeDue {
                accounts,
                amount_fen,
                due_by: shown_time(by.at + i64::from(self.rules.notify_days) * 86_400_000_000),
            });
        Ok(CaseFreezePlan {
            case: case_id.to_owned(),
            rule: rule.as_str(),
            as_of: shown_time(as_of),
            level,
            lines,
            outside,
            notify,
            untraced,
        })
    }

    /// One move of the workflow: the rules decide, the store moves the order only if nobody
    /// moved it first. `scope` narrows which orders the caller may move (a bank answers
    /// only orders on its own accounts).
    pub async fn step(&self, by: By<'_>, scope: &Scope, id: i64, action: Action) -> Result<Order> {
        let o = self.order(scope, id).await?;
        let kind = OrderKind::parse(&o.new.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("order {id}: unknown kind {:?}", o.new.kind))
        })?;
        let from = Status::parse(&o.status).ok_or_else(|| {
            StoreError::Corrupt(format!("order {id}: unknown status {:?}", o.status))
        })?;
        let needed = if o.new.level == "prefecture" {
            Level::Prefecture
        } else {
            Level::County
        };
        let to = orders::next(from, needed, &action)?;
        let mut change = OrderChange {
            status: to.as_str().into(),
            at: by.at,
            ..OrderChange::default()
        };
        match &action {
            Action::Approve { .. } => {
                let year = year_of(by.at);
                change.document_no = Some(kind.document_no(year, id as u32));
                change.approved_by = Some(by.actor.to_owned());
                change.approved_at = Some(by.at);
            }
            Action::Answer(a) => {
                change.answered_at = Some(by.at);
                change.answer = Some(answer_text(a));
                let held = match a {
                    Answer::Executed { amount_fen } | Answer::Insufficient { amount_fen } => {
                        Some(*amount_fen)
                    }
                    Answer::Refused { reason } => {
                        if reason.trim().is_empty() {
                            return Err(DeskError::invalid("reason", "a refusal says why"));
                        }
                        None
                    }
                };
                if let Some(h) = held {
                    if h < 0 || h > o.new.amount_fen {
                        return Err(DeskError::invalid(
                            "amount_fen",
                            format!(
                                "the bank cannot hold {h} fen under an order for {} fen",
                                o.new.amount_fen
                            ),
                        ));
                    }
                    change.held_fen = Some(h);
                    change.effective_at = Some(by.at);
                    let major = match &o.new.case_id {
                        Some(c) => self.store.case_get(c).await?.is_some_and(|c| c.major),
                        None => false,
                    };
                    let measure = if kind == OrderKind::Stop {
                        Kind::Stop
                    } else {
                        Kind::Freeze
                    };
                    if matches!(kind, OrderKind::Stop | OrderKind::Freeze | OrderKind::Renew) {
                        change.expires_at = Some(self.rules.periods.expiry(measure, by.at, major));
                    }
                }
            }
            _ => {}
        }
        if !self.store.order_change(id, &o.status, &change).await? {
            return Err(DeskError::Moved(id));
        }
        self.order(&Scope::All, id).await
    }

    /// Every measure on the account, other authorities' and the district's own executed
    /// orders, in registration order; and the `external_freezes` rows that matched none.
    pub async fn measures_on(&self, account: &str) -> Result<(Vec<Measure>, Vec<usize>)> {
        let mut rows = self.store.external_freezes(Some(account)).await?;
        let own = self
            .store
            .orders(&Scope::All, &OrderFilter::account(account))
            .await?;
        rows.extend(registry::own_rows(&own));
        rows.sort_by_key(|r| r.registered_at);
        let (mut measures, unmatched) = registry::from_external(&rows, &self.rules.periods);
        // Our freezes carry their screening and whether they hold the whole account.
        for o in &own {
            let Some(no) = &o.document_no else { continue };
            if let Some(m) = measures
                .iter_mut()
                .find(|m| m.authority == registry::OWN && &m.id == no)
            {
                m.disposed_at = o.disposed_at;
                m.whole_account = o.new.basis == "whole_account";
            }
        }
        Ok((measures, unmatched))
    }

    /// Records the screening (甄别) of an executed freeze's money: `related` to the case
    /// (it stays frozen) or `unrelated` (it is to be released within 3 days, LEGAL.md; the
    /// release is listed as due until the freeze is lifted). Once per freeze.
    pub async fn dispose(
        &self,
        by: By<'_>,
        scope: &Scope,
        id: i64,
        finding: &str,
        note: Option<&str>,
    ) -> Result<Order> {
        if !matches!(finding, "related" | "unrelated") {
            return Err(DeskError::invalid("finding", "related or unrelated"));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 500) {
            return Err(DeskError::invalid("note", "at most 500 characters"));
        }
        let o = self.order(scope, id).await?;
        let screened = matches!(o.new.kind.as_str(), "freeze" | "renew")
            && matches!(o.status.as_str(), "executed" | "insufficient");
        if !screened {
            return Err(DeskError::Conflict(format!(
                "order {id} is a {} {}: only a freeze in force is screened",
                o.status, o.new.kind
            )));
        }
        if o.disposed_at.is_some() {
            return Err(DeskError::Conflict(format!(
                "order {id} was screened already"
            )));
        }
        let change = OrderChange {
            status: o.status.clone(),
            disposed_at: Some(by.at),
            disposition: Some(
                serde_json::json!({ "finding": finding, "note": note, "by": by.actor }).to_string(),
            ),
            at: by.at,
            ..OrderChange::default()
        };
        if !self.store.order_change(id, &o.status, &change).await? {
            return Err(DeskError::Moved(id));
        }
        self.order(&Scope::All, id).await
    }

    /// The victims' money on the account at `at` by FIFO, over every stored report: what
    /// freezes are measured against and returns are made from.
    async fn claims_on(&self, g: &Graph, a: AccountIx, at: i64) -> Result<(i64, Vec<Claim>)> {
        let mut traced = 0;
        let mut claims = Vec::new();
        for r in self.store.report_payments(&Scope::All, None).await? {
            // A report whose payments are not all stored cannot be traced: left out, not
            // guessed at.
            let Ok(p) = load::payments(g, &r) else {
                continue;
            };
            let t = trace(g, &p, Rule::Fifo, at);
            traced += t
                .holdings
                .iter()
                .find(|h| h.account == a)
                .map_or(0, |h| h.amount_fen);
            claims.extend(Claim::from_trace(
                g,
                a,
                &t,
                &r.report_id,
                &r.victim_id,
                r.loss_fen,
            ));
        }
        Ok((traced, claims))
    }

    fn district_account(g: &Graph, account: &str) -> Result<AccountIx> {
        g.account(account)
            .filter(|&a| g.is_inside(a))
            .ok_or_else(|| {
                DeskError::invalid(
                    "account",
                    format!("{account} is not one of the district's accounts (accounts)"),
                )
            })
    }

    /// The account's freeze registry at `at`: who holds what, since when, until when;
    /// queued requests; freezes past their screening deadline; what is frozen beyond the
    /// victims' traced money.
    pub async fn registry(&self, g: &Graph, account: &str, at: i64) -> Result<RegistryDoc> {
        let a = Self::district_account(g, account)?;
        let end = g.last_at(at);
        let balance = g.balance_at(a, end);
        let periods: &Periods = &self.rules.periods;
        let (measures, unmatched) = self.measures_on(account).await?;
        let standing = registry::standing(&measures, balance, at);
        // The balance over time, for "since when": after each of the account's transactions.
        let balances: Vec<(i64, i64)> = g
            .history(a)
            .iter()
            .enumerate()
            .filter(|&(_, &i)| Some(i) <= end)
            .map(|(pos, &i)| (g.ts(i), g.balance_before(a, pos + 1)))
            .collect();
        let timeline = registry::timeline(&measures, &balances, at);
        let overdue = registry::undisposed(&measures, periods, at);
        let (traced, _) = self.claims_on(g, a, at).await?;
        let active: i64 = standing.iter().map(|s| s.active_fen).sum();
        // Over-freezing is ours to answer for our own measures: other authorities' victims
        // are not in this district's reports.
        let own_active: i64 = standing
            .iter()
            .filter(|s| measures[s.measure].authority == registry::OWN)
            .map(|s| s.active_fen)
            .sum();
        let over = registry::over_freezing(own_active, traced, periods, at);
        Ok(RegistryDoc {
            account: account.to_owned(),
            as_of: shown_time(at),
            balance_fen: balance,
            active_fen: active,
            traced_fen: traced,
            measures: standing
                .iter()
                .map(|s| {
                    let m = &measures[s.measure];
                    let since = timeline
                        .iter()
                        .find(|p| p.measure == s.measure && p.until.is_none())
                        .map(|p| shown_time(p.since));
                    MeasureDoc {
                        id: m.id.clone(),
                        authority: m.authority.clone(),
                        kind: match m.kind {
                            Kind::Stop => "stop",
                            Kind::Freeze => "freeze",
                        },
                        requested_fen: m.requested(at),
                        active_fen: s.active_fen,
                        queued_fen: s.queued_fen,
                        registered_at: shown_time(m.registered_at),
                        since,
                        expires_at: m.expires_at.map(shown_time),
                        renewal_due: (m.kind == Kind::Freeze)
                            .then(|| m.expires_at.map(|e| shown_time(periods.renewal_due(e))))
                            .flatten(),
                    }
                })
                .collect(),
            undisposed: overdue
                .iter()
                .map(|o| UndisposedDoc {
                    id: measures[o.measure].id.clone(),
                    screening_due: shown_time(o.due),
                })
                .collect(),
            over_freezing: over.map(|o| OverDoc {
                frozen_fen: o.frozen_fen,
                traced_fen: o.traced_fen,
                release_fen: o.release_fen,
                release_due: shown_time(o.due),
            }),
            unmatched_rows: unmatched.len(),
        })
    }

    /// The return plan for an account: its money allocated among every victim whose money
    /// reached it. The funds are the district's freezes in force on it, as the registry
    /// serves them beside other authorities' (whose victims are theirs to return to); with
    /// none, the balance, so an analyst can plan before freezing.
    pub async fn returns_plan(&self, g: &Graph, account: &str, at: i64) -> Result<ReturnPlan> {
        let a = Self::district_account(g, account)?;
        let (_, claims) = self.claims_on(g, a, at).await?;
        let balance = g.balance_at(a, g.last_at(at));
        let (measures, _) = self.measures_on(account).await?;
        let frozen: i64 = registry::standing(&measures, balance, at)
            .iter()
            .filter(|s| {
                let m = &measures[s.measure];
                m.authority == registry::OWN && m.kind == Kind::Freeze
            })
            .map(|s| s.active_fen)
            .sum();
        let (funds, funds_from) = if frozen > 0 {
            (frozen, "freeze")
        } else {
            (balance, "balance")
        };
        Ok(ReturnPlan {
            account: account.to_owned(),
            frozen_fen: funds,
            funds_from,
            allocations: allocate(funds, &claims),
            claims: claims.iter().map(|c| c.doc(g)).collect(),
        })
    }

    /// The stops and freezes in force within `scope` with a deadline before `until`, or
    /// past it: stops about to lapse (convert them to freezes), renewals due, expiries,
    /// screenings (甄别) due. Earliest first.
    pub async fn due(&self, scope: &Scope, from: i64, until: i64) -> Result<Vec<DueItem>> {
        let periods = &self.rules.periods;
        let mut items = Vec::new();
        for o in self.store.orders(scope, &OrderFilter::default()).await? {
            // A return sent to the bank: its receipt is due within the working days.
            if o.new.kind == "return" && o.status == "sent" {
                let at = self
                    .calendar
                    .after_working_days(o.updated_at, RETURN_WORKING_DAYS);
                if at <= until {
                    items.push(DueItem {
                        due: shown_time(at),
                        due_micros: at,
                        overdue: at < from,
                        what: "return_receipt_due",
                        order: o.id,
                        kind: o.new.kind.clone(),
                        account: o.new.account_id.clone(),
                        document_no: o.document_no.clone(),
                    });
                }
                continue;
            }
            let in_force = matches!(o.status.as_str(), "executed" | "insufficient");
            let (Some(effective), Some(expires)) = (o.effective_at, o.expires_at) else {
                continue;
            };
            if !in_force {
                continue;
            }
            let mut push = |at: i64, what: &'static str| {
                if at <= until {
                    items.push(DueItem {
                        due: shown_time(at),
                        due_micros: at,
                        overdue: at < from,
                        what,
                        order: o.id,
                        kind: o.new.kind.clone(),
                        account: o.new.account_id.clone(),
                        document_no: o.document_no.clone(),
                    });
                }
            };
            match o.new.kind.as_str() {
                "stop" => push(expires, "stop_lapses"),
                "freeze" | "renew" => {
                    push(periods.renewal_due(expires), "renewal_due");
                    push(expires, "freeze_lapses");
                    let whole = o.new.basis == "whole_account";
                    match (o.disposed_at, o.disposition.as_deref()) {
                        (None, _) => push(periods.screening_due(effective, whole), "screening_due"),
                        (Some(at), Some(d)) if finding_of(d) == Some("unrelated".into()) => {
                            push(periods.release_due(at), "release_due");
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        items.sort_by_key(|d| (d.due_micros, d.order));
        Ok(items)
    }

    /// One stored round, on an account when given (a narrower read), else among all.
    async fn round(&self, id: i64, account: Option<&str>) -> Result<fanzha_store::Round> {
        self.store
            .rounds(account)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| DeskError::not_found("round", id))
    }

    fn round_doc(&self, r: &fanzha_store::Round, orders: Vec<i64>) -> Result<RoundDoc> {
        let allocations = shares_of(r)?;
        Ok(RoundDoc {
            id: r.id,
            account: r.new.account_id.clone(),
            case: r.new.case_id.clone(),
            round: r.new.round,
            funds_fen: r.new.funds_fen,
            status: r.new.status.clone(),
            opened_by: r.new.opened_by.clone(),
            opened_at: shown_time(r.new.opened_at),
            objections_until: shown_time(r.new.objections_until),
            decided_by: r.decided_by.clone(),
            decided_at: r.decided_at.map(shown_time),
            decision_no: r.decision_no.clone(),
            allocations,
            orders,
        })
    }

    /// A round's document: the notice published for objections, or once decided the return
    /// decision with its table of shares.
    pub async fn round_document(&self, id: i64) -> Result<Document> {
        let r = self.round(id, None).await?;
        let shares = shares_of(&r)?;
        let case = self.store.case_get(&r.new.case_id).await?;
        Ok(Document::of_round(&r, &shares, case.as_ref()))
    }

    /// Return rounds, on one account or all, with the orders each decision made.
    pub async fn rounds(&self, account: Option<&str>) -> Result<Vec<RoundDoc>> {
        let orders = self
            .store
            .orders(
                &Scope::All,
                &OrderFilter {
                    account: account.map(str::to_owned),
                    ..OrderFilter::default()
                },
            )
            .await?;
        self.store
            .rounds(account)
            .await?
            .iter()
            .map(|r| {
                let made = orders
                    .iter()
                    .filter(|o| o.new.round_id == Some(r.id))
                    .map(|o| o.id)
                    .collect();
                self.round_doc(r, made)
            })
            .collect()
    }

    /// Opens the next round of returns on an account under a case: the money the district's
    /// freezes hold there, less what earlier rounds gave, allocated among every victim whose
    /// money reached it (each claim less what earlier rounds gave that victim). Shares split
    /// pro rata are published for objections for 30 days before a decision; intact and
    /// time-matched shares need no notice.
    pub async fn open_round(
        &self,
        by: By<'_>,
        g: &Graph,
        account: &str,
        case_id: &str,
    ) -> Result<RoundDoc> {
        let case = self.case(case_id).await?;
        orders::may_draft(
            &self.rules,
            OrderKind::Return,
            0,
            Some(Filed {
                filed_at: case.filed_at,
                major: case.major,
            }),
            by.at,
        )?;
        let earlier = self.store.rounds(Some(account)).await?;
        if let Some(r) = earlier.iter().find(|r| r.new.status == "noticed") {
            return Err(DeskError::Conflict(format!(
                "round {} on this account awaits its decision (objections until {})",
                r.new.round,
                shown_time(r.new.objections_until)
            )));
        }
        // Workflow times are the people's, after the data: the freezes in force now.
        let at = by.at.max(g.latest().unwrap_or(0));
        let a = Self::district_account(g, account)?;
        let (_, mut claims) = self.claims_on(g, a, at).await?;
        let plan = self.returns_plan(g, account, at).await?;
        if plan.funds_from != "freeze" {
            return Err(DeskError::invalid(
                "account",
                "no freeze of the district's is in force on it: returns come from frozen money",
            ));
        }
        // Earlier decisions' return orders: what the bank paid has already left the freeze
        // (an executed return releases it); what is still on its way must not be split
        // again. Both count against the victim's claim; a refused or withdrawn one neither.
        let mut given: BTreeMap<String, i64> = BTreeMap::new();
        let mut on_its_way = 0;
        for o in self
            .store
            .orders(&Scope::All, &OrderFilter::account(account))
            .await?
            .iter()
            .filter(|o| o.new.kind == "return" && o.new.round_id.is_some())
        {
            let amount = match o.status.as_str() {
                "executed" | "insufficient" | "lifted" => o.held_fen.unwrap_or(0),
                "refused" | "withdrawn" => 0,
                _ => {
                    on_its_way += o.new.amount_fen;
                    o.new.amount_fen
                }
            };
            if let Some(r) = &o.new.report_id {
                *given.entry(r.clone()).or_default() += amount;
            }
        }
        let funds = plan.frozen_fen - on_its_way;
        for c in &mut claims {
            c.loss_fen -= given.get(&c.report).copied().unwrap_or(0);
        }
        claims.retain(|c| c.loss_fen > 0);
        let allocations = allocate(funds.max(0), &claims);
        if allocations.is_empty() {
            return Err(DeskError::invalid(
                "account",
                "nothing is left to return: no frozen money remains, or every victim whose money reached it has been given their loss",
            ));
        }
        let noticed = allocations.iter().any(|x| x.basis == Basis::ProRata);
        let round = fanzha_store::NewRound {
            account_id: account.to_owned(),
            case_id: case_id.to_owned(),
            round: earlier.len() as i64 + 1,
            funds_fen: funds,
            plan: serde_json::to_string(&allocations)
                .map_err(|e| StoreError::Corrupt(format!("a return plan: {e}")))?,
            status: "noticed".into(),
            opened_by: by.actor.to_owned(),
            opened_at: by.at,
            objections_until: if noticed {
                by.at + OBJECTION_DAYS * 86_400_000_000
            } else {
                by.at
            },
        };
        let id = self
            .store
            .round_open(&round)
            .await?
            .ok_or_else(|| DeskError::Conflict("another round was opened meanwhile".into()))?;
        let stored = self.round(id, Some(account)).await?;
        self.round_doc(&stored, Vec::new())
    }

    /// The return decision (返还决定书), at prefecture level and not before the objection
    /// period ends: one return order per share, approved by the decision and numbered, to be
    /// sent to the bank, whose receipt is due within 3 working days of sending.
    pub async fn decide_round(&self, by: By<'_>, id: i64, level: Level) -> Result<RoundDoc> {
        let r = self.round(id, None).await?;
        if r.new.status != "noticed" {
            return Err(DeskError::Conflict(format!(
                "round {id} is {}: it is decided once",
                r.new.status
            )));
        }
        if level < Level::Prefecture {
            return Err(WorkflowError::Level {
                needed: Level::Prefecture,
                given: level,
            }
            .into());
        }
        if by.at < r.new.objections_until {
            return Err(DeskError::Conflict(format!(
                "the objection period runs until {}",
                shown_time(r.new.objections_until)
            )));
        }
        let year = year_of(by.at);
        let decision_no = format!("返还决〔{year}〕{id}号");
        if !self
            .store
            .round_decide(id, by.actor, by.at, &decision_no)
            .await?
        {
            return Err(DeskError::Conflict(format!(
                "round {id} was decided meanwhile"
            )));
        }
        let shares = shares_of(&r)?;
        let mut made = Vec::new();
        for s in &shares {
            let oid = self
                .store
                .order_add(&NewOrder {
                    kind: OrderKind::Return.as_str().into(),
                    account_id: r.new.account_id.clone(),
                    report_id: Some(s.report.clone()),
                    case_id: Some(r.new.case_id.clone()),
                    amount_fen: s.amount_fen,
                    basis: s.basis.as_str().into(),
                    reason: None,
                    level: Level::Prefecture.as_str().into(),
                    created_by: by.actor.to_owned(),
                    created_at: by.at,
                    round_id: Some(id),
                })
                .await?;
            // The decision is the approval: the order starts approved, numbered.
            let approved = OrderChange {
                status: Status::Approved.as_str().into(),
                document_no: Some(OrderKind::Return.document_no(year, oid as u32)),
                approved_by: Some(by.actor.to_owned()),
                approved_at: Some(by.at),
                at: by.at,
                ..OrderChange::default()
            };
            if !self.store.order_change(oid, "draft", &approved).await? {
                return Err(DeskError::Moved(oid));
            }
            made.push(oid);
        }
        let decided = self.round(id, Some(&r.new.account_id)).await?;
        self.round_doc(&decided, made)
    }

    /// Money returned (return orders the bank executed) against money lost, per case and
    /// per Shanghai month.
    pub async fn ratios(&self) -> Result<Ratios> {
        let reports = self.store.report_payments(&Scope::All, None).await?;
        let loss: BTreeMap<&str, (i64, i64)> = reports
            .iter()
            .map(|r| (r.report_id.as_str(), (r.loss_fen, r.ts)))
            .collect();
        let returns: Vec<Order> = self
            .store
            .orders(&Scope::All, &OrderFilter::default())
            .await?
            .into_iter()
            .filter(|o| {
                o.new.kind == "return"
                    && matches!(o.status.as_str(), "executed" | "insufficient" | "lifted")
            })
            .collect();
        let month = |t: i64| {
            Instant::from_micros(t)
                .map_or_else(String::new, |i| i.shanghai().format("%Y-%m").to_string())
        };
        let row = |key: String, loss_fen: i64, returned_fen: i64| RatioRow {
            key,
            loss_fen,
            returned_fen,
            ratio: if loss_fen > 0 {
                returned_fen as f64 / loss_fen as f64
            } else {
                0.0
            },
        };
        let by_case = self
            .store
            .cases()
            .await?
            .into_iter()
            .map(|c| {
                let lost = c
                    .report_ids
                    .iter()
                    .filter_map(|r| loss.get(r.as_str()))
                    .map(|l| l.0)
                    .sum();
                let back = returns
                    .iter()
                    .filter(|o| o.new.case_id.as_deref() == Some(c.case_id.as_str()))
                    .filter_map(|o| o.held_fen)
                    .sum();
                row(c.case_id, lost, back)
            })
            .collect();
        let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (l, ts) in loss.values() {
            months.entry(month(*ts)).or_default().0 += l;
        }
        for o in &returns {
            if let (Some(at), Some(h)) = (o.answered_at, o.held_fen) {
                months.entry(month(at)).or_default().1 += h;
            }
        }
        Ok(Ratios {
            by_case,
            by_month: months.into_iter().map(|(k, (l, b))| row(k, l, b)).collect(),
        })
    }
}

/// The Shanghai calendar year of an instant, as document numbers carry it.
fn year_of(at: i64) -> i32 {
    Instant::from_micros(at).map_or(2026, |t| chrono::Datelike::year(&t.shanghai()))
}

/// A round's shares as stored (its plan, exactly as noticed).
fn shares_of(r: &fanzha_store::Round) -> Result<Vec<Allocation>> {
    serde_json::from_str(&r.new.plan).map_err(|e| {
        StoreError::Corrupt(format!(
            "return round {}: its plan does not read: {e}",
            r.id
        ))
        .into()
    })
}

/// The finding of a stored disposition.
fn finding_of(disposition: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(disposition).ok()?;
    v["finding"].as_str().map(str::to_owned)
}

/// The bank's answer as stored: the answer's JSON, which every reader parses back.
fn answer_text(a: &Answer) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| format!("{a:?}"))
}
