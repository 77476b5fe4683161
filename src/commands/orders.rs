//! `fanzha case file` and `fanzha order …`: cases filed here and the stop-payment, freeze,
//! renewal, release and return orders made under them, moved through the workflow whose
//! rules live in `fanzha_trace::orders` (who approves, what may be drafted, which step
//! follows). Every move is a compare-and-set in the store and an entry in the audit trail.

use anyhow::{bail, Context as _};
use fanzha_core::time::Instant;
use fanzha_store::{NewCase, NewOrder, Order, OrderChange, Store};
use fanzha_trace::orders::{self, Action, Answer, Filed, Level, OrderKind, Rules, Scale, Status};
use fanzha_trace::registry::Kind;
use fanzha_trace::view::shown_time;

use super::trace::yuan;
use super::{audit, print_json, Context};
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum CaseCmd {
    /// File a case (立案): its decision number and date. Freezes need one.
    File {
        #[arg(long = "case", value_name = "CASE_ID")]
        case_id: String,
        /// The filing decision's number (立案决定书).
        #[arg(long)]
        filing_no: String,
        /// The reports it takes in, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        reports: Vec<String>,
        /// A major case (重大案件): freezes for a year and prefecture-level approval.
        #[arg(long)]
        major: bool,
        /// When it was filed (RFC 3339); default: now.
        #[arg(long, value_name = "TIME")]
        filed_at: Option<String>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum KindArg {
    Stop,
    Freeze,
    Renew,
    Release,
    Return,
}

impl From<KindArg> for OrderKind {
    fn from(k: KindArg) -> OrderKind {
        match k {
            KindArg::Stop => OrderKind::Stop,
            KindArg::Freeze => OrderKind::Freeze,
            KindArg::Renew => OrderKind::Renew,
            KindArg::Release => OrderKind::Release,
            KindArg::Return => OrderKind::Return,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum LevelArg {
    County,
    Prefecture,
}

#[derive(clap::Subcommand)]
pub enum OrderCmd {
    /// Draft an order on one account.
    Draft {
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        /// The amount in fen (for a stop or freeze: the traced holding, see `fanzha stop plan`).
        #[arg(long)]
        amount_fen: i64,
        #[arg(long, value_name = "REPORT_ID")]
        report: Option<String>,
        /// The case it is made under (needed for freeze, renew and return).
        #[arg(long = "case", value_name = "CASE_ID")]
        case_id: Option<String>,
        /// The whole account rather than the traced holding; needs --reason.
        #[arg(long, requires = "reason")]
        whole_account: bool,
        /// Why (10 to 500 characters).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Submit a draft for approval.
    Submit { id: i64 },
    /// Approve, signing at your level; the order gets its document number.
    Approve {
        id: i64,
        #[arg(long, value_enum)]
        level: LevelArg,
    },
    /// Mark an approved order as sent to the bank.
    Send { id: i64 },
    /// Record the bank's answer.
    Answer {
        id: i64,
        /// Executed, holding this many fen.
        #[arg(long, group = "answer", value_name = "FEN")]
        executed: Option<i64>,
        /// Refused: the account's details did not match.
        #[arg(long, group = "answer", value_name = "REASON")]
        refused: Option<String>,
        /// Less money than ordered was there; this many fen are held.
        #[arg(long, group = "answer", value_name = "FEN")]
        insufficient: Option<i64>,
    },
    /// Lift an executed stop or freeze.
    Lift { id: i64 },
    /// Withdraw an order not yet sent.
    Withdraw { id: i64 },
    /// The orders, on one account or all.
    List {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: Option<String>,
    },
}

pub(super) fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn parse_kind(s: &str) -> anyhow::Result<OrderKind> {
    OrderKind::parse(s).with_context(|| format!("a stored order of unknown kind {s:?}"))
}

fn parse_status(s: &str) -> anyhow::Result<Status> {
    Status::parse(s).with_context(|| format!("a stored order in unknown status {s:?}"))
}

fn level_of(s: &str) -> Level {
    if s == "prefecture" {
        Level::Prefecture
    } else {
        Level::County
    }
}

pub async fn case(ctx: &Context, cmd: CaseCmd) -> anyhow::Result<Outcome> {
    let CaseCmd::File {
        case_id,
        filing_no,
        reports,
        major,
        filed_at,
    } = cmd;
    let filed_at = match filed_at {
        Some(t) => Instant::parse_rfc3339(&t)
            .with_context(|| format!("--filed-at {t:?}"))?
            .micros(),
        None => now(),
    };
    if filing_no.trim().is_empty() {
        bail!("--filing-no is empty: a case is filed by its decision number");
    }
    let store = ctx.store().await?;
    for r in &reports {
        if store
            .report_payments(&fanzha_store::Scope::All, Some(r))
            .await?
            .is_empty()
        {
            bail!("--reports: report {r:?} is not in the store");
        }
    }
    let case = NewCase {
        case_id: case_id.clone(),
        filing_no,
        filed_at,
        major,
        report_ids: reports,
        filed_by: actor(),
        created_at: now(),
    };
    if !store.case_file(&case).await? {
        bail!("case {case_id:?} is already filed");
    }
    audit(
        &store,
        "cli.case.file",
        serde_json::json!({ "case": case_id, "major": major, "reports": case.report_ids }),
    )
    .await?;
    if ctx.json {
        print_json(&serde_json::json!({ "case": case_id, "filed_at": shown_time(filed_at) }))?;
    } else {
        println!("立案 case {case_id} filed ({})", shown_time(filed_at));
    }
    Ok(Outcome::Clean)
}

async fn one(store: &dyn Store, id: i64) -> anyhow::Result<Order> {
    store
        .orders(Some(id), None)
        .await?
        .into_iter()
        .next()
        .with_context(|| format!("order {id} does not exist"))
}

/// Stops placed on an account so far: every stop order not withdrawn and not refused.
async fn stops_on(store: &dyn Store, account: &str) -> anyhow::Result<u32> {
    Ok(store
        .orders(None, Some(account))
        .await?
        .iter()
        .filter(|o| o.new.kind == "stop" && !matches!(o.status.as_str(), "withdrawn" | "refused"))
        .count() as u32)
}

pub async fn order(ctx: &Context, cmd: OrderCmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let rules = Rules::default();
    match cmd {
        OrderCmd::Draft {
            kind,
            account,
            amount_fen,
            report,
            case_id,
            whole_account,
            reason,
        } => {
            let kind = OrderKind::from(kind);
            let known = fanzha_store::EntityRef {
                kind: fanzha_store::EntityKind::Account,
                id: account.clone(),
            };
            if store
                .profile(&fanzha_store::Scope::All, &known, 1)
                .await?
                .is_none()
            {
                bail!("--account {account:?} is not one of the district's accounts (accounts)");
            }
            if amount_fen <= 0 {
                bail!("--amount-fen {amount_fen}: an order is for a positive amount");
            }
            if let Some(r) = &reason {
                let n = r.trim().chars().count();
                if !(10..=500).contains(&n) {
                    bail!("--reason must be 10 to 500 characters (it has {n})");
                }
            }
            let case = match &case_id {
                Some(c) => Some(
                    store
                        .case_get(c)
                        .await?
                        .with_context(|| format!("--case {c:?} is not filed"))?,
                ),
                None => None,
            };
            let at = now();
            let filed = case.as_ref().map(|c| Filed {
                filed_at: c.filed_at,
                major: c.major,
            });
            orders::may_draft(&rules, kind, stops_on(&*store, &account).await?, filed, at)?;
            let case_accounts = match &case_id {
                Some(c) => {
                    let all = store.orders(None, None).await?;
                    1 + all
                        .iter()
                        .filter(|o| o.new.case_id.as_deref() == Some(c.as_str()))
                        .filter(|o| o.new.kind == "freeze" && o.status != "withdrawn")
                        .count()
                }
                None => 1,
            };
            let level = rules.level(
                kind,
                Scale {
                    major: filed.is_some_and(|f| f.major),
                    batch_accounts: 1,
                    case_accounts,
                },
            );
            let new = NewOrder {
                kind: kind.as_str().into(),
                account_id: account.clone(),
                report_id: report,
                case_id,
                amount_fen,
                basis: if whole_account {
                    "whole_account"
                } else {
                    "traced_holding"
                }
                .into(),
                reason,
                level: level.as_str().into(),
                created_by: actor(),
                created_at: at,
            };
            let id = store.order_add(&new).await?;
            audit(
                &store,
                "cli.order.draft",
                serde_json::json!({ "id": id, "kind": new.kind, "account": account,
                    "amount_fen": amount_fen, "basis": new.basis, "reason": new.reason }),
            )
            .await?;
            show(ctx, &one(&*store, id).await?)
        }
        OrderCmd::List { account } => {
            let list = store.orders(None, account.as_deref()).await?;
            audit(
                &store,
                "cli.order.list",
                serde_json::json!({ "account": account, "orders": list.len() }),
            )
            .await?;
            if ctx.json {
                print_json(&list.iter().map(doc).collect::<Vec<_>>())?;
            } else {
                for o in &list {
                    println!("{}", line(o));
                }
            }
            Ok(Outcome::Clean)
        }
        OrderCmd::Submit { id } => step(ctx, &store, &rules, id, Action::Submit).await,
        OrderCmd::Approve { id, level } => {
            let level = match level {
                LevelArg::County => Level::County,
                LevelArg::Prefecture => Level::Prefecture,
            };
            step(ctx, &store, &rules, id, Action::Approve { level }).await
        }
        OrderCmd::Send { id } => step(ctx, &store, &rules, id, Action::Send).await,
        OrderCmd::Answer {
            id,
            executed,
            refused,
            insufficient,
        } => {
            let answer = match (executed, refused, insufficient) {
                (Some(a), None, None) => Answer::Executed { amount_fen: a },
                (None, Some(r), None) => Answer::Refused { reason: r },
                (None, None, Some(a)) => Answer::Insufficient { amount_fen: a },
                _ => bail!("give the bank's answer: --executed FEN, --refused REASON or --insufficient FEN"),
            };
            step(ctx, &store, &rules, id, Action::Answer(answer)).await
        }
        OrderCmd::Lift { id } => step(ctx, &store, &rules, id, Action::Lift).await,
        OrderCmd::Withdraw { id } => step(ctx, &store, &rules, id, Action::Withdraw).await,
    }
}

/// One move of the workflow: the rules decide, the store moves the order only if nobody
/// moved it first.
async fn step(
    ctx: &Context,
    store: &std::sync::Arc<dyn Store>,
    rules: &Rules,
    id: i64,
    action: Action,
) -> anyhow::Result<Outcome> {
    let o = one(&**store, id).await?;
    let kind = parse_kind(&o.new.kind)?;
    let from = parse_status(&o.status)?;
    let to = orders::next(from, level_of(&o.new.level), &action)?;
    let at = now();
    let mut change = OrderChange {
        status: to.as_str().into(),
        at,
        ..OrderChange::default()
    };
    match &action {
        Action::Approve { .. } => {
            let year =
                Instant::from_micros(at).map_or(2026, |t| chrono::Datelike::year(&t.shanghai()));
            change.document_no = Some(kind.document_no(year, id as u32));
            change.approved_by = Some(actor());
            change.approved_at = Some(at);
        }
        Action::Answer(a) => {
            change.answered_at = Some(at);
            change.answer = Some(serde_json::to_string(a)?);
            let held = match a {
                Answer::Executed { amount_fen } | Answer::Insufficient { amount_fen } => {
                    Some(*amount_fen)
                }
                Answer::Refused { .. } => None,
            };
            if let Some(h) = held {
                if h < 0 || h > o.new.amount_fen {
                    bail!(
                        "the bank cannot hold {h} fen under an order for {} fen",
                        o.new.amount_fen
                    );
                }
                change.held_fen = Some(h);
                change.effective_at = Some(at);
                let major = match &o.new.case_id {
                    Some(c) => store.case_get(c).await?.is_some_and(|c| c.major),
                    None => false,
                };
                let measure = if kind == OrderKind::Stop {
                    Kind::Stop
                } else {
                    Kind::Freeze
                };
                if matches!(kind, OrderKind::Stop | OrderKind::Freeze | OrderKind::Renew) {
                    change.expires_at = Some(rules.periods.expiry(measure, at, major));
                }
            }
        }
        _ => {}
    }
    if !store.order_change(id, &o.status, &change).await? {
        bail!("order {id} was moved by someone else meanwhile; look at it again");
    }
    audit(
        store,
        "cli.order.step",
        serde_json::json!({ "id": id, "from": o.status, "to": change.status }),
    )
    .await?;
    show(ctx, &one(&**store, id).await?)
}

fn doc(o: &Order) -> serde_json::Value {
    let kind = parse_kind(&o.new.kind).ok();
    serde_json::json!({
        "id": o.id, "kind": o.new.kind, "account": o.new.account_id, "report": o.new.report_id,
        "case": o.new.case_id, "amount_fen": o.new.amount_fen, "basis": o.new.basis,
        "reason": o.new.reason, "level": o.new.level, "status": o.status,
        "document_no": o.document_no, "document": kind.map(OrderKind::document_title),
        "created_by": o.new.created_by, "created_at": shown_time(o.new.created_at),
        "approved_by": o.approved_by, "approved_at": o.approved_at.map(shown_time),
        "answer": o.answer, "held_fen": o.held_fen,
        "effective_at": o.effective_at.map(shown_time), "expires_at": o.expires_at.map(shown_time),
    })
}

fn line(o: &Order) -> String {
    format!(
        "#{:<5} {:<8} {:<10} {:<24} {:>14} yuan  {:<10} {}",
        o.id,
        o.new.kind,
        o.status,
        o.new.account_id,
        yuan(o.new.amount_fen),
        o.new.level,
        o.document_no.as_deref().unwrap_or("")
    )
}

fn show(ctx: &Context, o: &Order) -> anyhow::Result<Outcome> {
    if ctx.json {
        print_json(&doc(o))?;
    } else {
        println!("{}", line(o));
    }
    Ok(Outcome::Clean)
}

/// `fanzha stop plan --draft`: each line of the plan stored as a draft stop-payment order,
/// one batch; a line on an account that has had its stops is set apart with the reason.
pub(super) async fn draft_stops(
    store: &dyn Store,
    report: &str,
    lines: &mut [super::trace::StopOrder],
) -> anyhow::Result<()> {
    let rules = Rules::default();
    let at = now();
    let batch = lines.len();
    let level = rules.level(
        OrderKind::Stop,
        Scale {
            major: false,
            batch_accounts: batch,
            case_accounts: batch,
        },
    );
    for l in lines.iter_mut() {
        let stops = stops_on(store, &l.account).await?;
        if let Err(e) = orders::may_draft(&rules, OrderKind::Stop, stops, None, at) {
            l.not_drafted = Some(e.to_string());
            continue;
        }
        let id = store
            .order_add(&NewOrder {
                kind: OrderKind::Stop.as_str().into(),
                account_id: l.account.clone(),
                report_id: Some(report.to_owned()),
                case_id: None,
                amount_fen: l.amount_fen,
                basis: l.basis.into(),
                reason: l.reason.clone(),
                level: level.as_str().into(),
                created_by: actor(),
                created_at: at,
            })
            .await?;
        l.order_id = Some(id);
    }
    Ok(())
}
