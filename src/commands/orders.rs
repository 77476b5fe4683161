//! `fanzha case file` and `fanzha order …`: cases filed here and the stop-payment, freeze,
//! renewal, release and return orders made under them, moved through the workflow whose
//! rules live in `fanzha_trace::orders` (who approves, what may be drafted, which step
//! follows). Every move is a compare-and-set in the store and an entry in the audit trail.

use anyhow::{bail, Context as _};
use fanzha_core::time::Instant;
use fanzha_store::{Order, OrderFilter, Scope};
use fanzha_trace::desk::{By, CaseRequest, Desk, DraftRequest, OrderDoc};
use fanzha_trace::orders::{Action, Answer, Level, OrderKind};
use fanzha_trace::view::shown_time;
use fanzha_trace::Rule;

use super::trace::{cut_off, ledger, yuan};
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
    /// The freezes the case's traced money calls for: every report of the case traced,
    /// the holdings summed per account, the approval level the batch needs and whether the
    /// accounts' local police must be notified.
    Freeze {
        #[arg(long = "case", value_name = "CASE_ID")]
        case_id: String,
        /// The rule that sizes the freezes (poison is refused: it is a reach, not an amount).
        #[arg(long, default_value = "fifo")]
        rule: Rule,
        /// The cut-off (RFC 3339); default: the latest loaded transaction.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Store each district account's line as a draft freeze order, one batch.
        #[arg(long)]
        draft: bool,
    },
    /// The cases filed here, newest first.
    List,
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

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::County => Level::County,
            LevelArg::Prefecture => Level::Prefecture,
        }
    }
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
    /// Record the screening (甄别) of an executed freeze's money: related to the case, or
    /// unrelated (then it is to be released within 3 days).
    Dispose {
        id: i64,
        #[arg(long, value_parser = ["related", "unrelated"])]
        finding: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// The order's document in zh-CN, as the bank receives it.
    Document { id: i64 },
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

pub async fn case(ctx: &Context, cmd: CaseCmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let desk = Desk::new(&*store);
    let actor = actor();
    let by = By {
        actor: &actor,
        at: now(),
    };
    match cmd {
        CaseCmd::File {
            case_id,
            filing_no,
            reports,
            major,
            filed_at,
        } => {
            let filed_at = filed_at
                .map(|t| {
                    Instant::parse_rfc3339(&t)
                        .with_context(|| format!("--filed-at {t:?}"))
                        .map(|i| i.micros())
                })
                .transpose()?;
            let case = desk
                .file_case(
                    by,
                    CaseRequest {
                        case_id,
                        filing_no,
                        reports,
                        major,
                        filed_at,
                    },
                )
                .await?;
            audit(
                &store,
                "cli.case.file",
                serde_json::json!({ "case": case.case_id, "major": major, "reports": case.report_ids }),
            )
            .await?;
            if ctx.json {
                print_json(
                    &serde_json::json!({ "case": case.case_id, "filed_at": shown_time(case.filed_at) }),
                )?;
            } else {
                println!(
                    "立案 case {} filed ({})",
                    case.case_id,
                    shown_time(case.filed_at)
                );
            }
        }
        CaseCmd::Freeze {
            case_id,
            rule,
            as_of,
            draft,
        } => {
            let as_of = cut_off(as_of.as_deref())?;
            desk.case(&case_id).await?;
            let g = ledger(&*store).await?;
            let as_of = as_of.unwrap_or(g.latest().unwrap_or(0));
            let plan = desk
                .case_freeze_plan(by, &g, &case_id, rule, as_of, draft)
                .await?;
            audit(
                &store,
                "cli.case.freeze",
                serde_json::json!({ "case": case_id, "rule": rule.as_str(), "lines": plan.lines.len(),
                    "drafted": plan.lines.iter().filter_map(|l| l.order_id).collect::<Vec<_>>() }),
            )
            .await?;
            if ctx.json {
                print_json(&plan)?;
                return Ok(Outcome::Clean);
            }
            println!(
                "冻结预案 freezes for case {} · rule {} · as of {} · approval {}",
                plan.case,
                plan.rule,
                plan.as_of,
                plan.level.as_str()
            );
            for l in &plan.lines {
                println!(
                    "  {:<24} {:>14} yuan (balance {})  reports {}{}",
                    l.account,
                    yuan(l.amount_fen),
                    yuan(l.balance_fen),
                    l.reports.join(","),
                    match (l.order_id, &l.not_drafted) {
                        (Some(id), _) => format!("  → draft #{id}"),
                        (None, Some(why)) => format!("  (not drafted: {why})"),
                        _ => String::new(),
                    }
                );
            }
            for l in &plan.outside {
                println!(
                    "  outside {:<16} {:>14} yuan: another district's bank; pass to the higher-level centre",
                    l.account,
                    yuan(l.amount_fen)
                );
            }
            if let Some(n) = &plan.notify {
                println!(
                    "  须通报 notify the accounts' local police by {}: {} accounts, {} yuan",
                    n.due_by,
                    n.accounts,
                    yuan(n.amount_fen)
                );
            }
            for u in &plan.untraced {
                println!("  not traced: {u}");
            }
        }
        CaseCmd::List => {
            let cases = store.cases().await?;
            audit(
                &store,
                "cli.case.list",
                serde_json::json!({ "cases": cases.len() }),
            )
            .await?;
            let docs: Vec<_> = cases
                .iter()
                .map(|c| {
                    serde_json::json!({ "case": c.case_id, "filing_no": c.filing_no,
                        "filed_at": shown_time(c.filed_at), "major": c.major, "reports": c.report_ids })
                })
                .collect();
            if ctx.json {
                print_json(&docs)?;
            } else {
                for c in &cases {
                    println!(
                        "{:<16} {:<20} {} {}{}",
                        c.case_id,
                        c.filing_no,
                        shown_time(c.filed_at),
                        c.report_ids.join(","),
                        if c.major { "  重大" } else { "" }
                    );
                }
            }
        }
    }
    Ok(Outcome::Clean)
}

pub async fn order(ctx: &Context, cmd: OrderCmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let desk = Desk::new(&*store);
    let actor = actor();
    let by = By {
        actor: &actor,
        at: now(),
    };
    let (id, action) = match cmd {
        OrderCmd::Draft {
            kind,
            account,
            amount_fen,
            report,
            case_id,
            whole_account,
            reason,
        } => {
            let o = desk
                .draft(
                    by,
                    DraftRequest {
                        kind: kind.into(),
                        account,
                        amount_fen,
                        report,
                        case: case_id,
                        whole_account,
                        reason,
                    },
                )
                .await?;
            audit(
                &store,
                "cli.order.draft",
                serde_json::json!({ "id": o.id, "kind": o.new.kind, "account": o.new.account_id,
                    "amount_fen": o.new.amount_fen, "basis": o.new.basis, "reason": o.new.reason }),
            )
            .await?;
            return show(ctx, &o);
        }
        OrderCmd::Document { id } => {
            let (_, doc) = desk.document(&Scope::All, id).await?;
            audit(
                &store,
                "cli.order.document",
                serde_json::json!({ "id": id }),
            )
            .await?;
            if ctx.json {
                print_json(&doc)?;
            } else {
                print!("{}", doc.to_text());
            }
            return Ok(Outcome::Clean);
        }
        OrderCmd::List { account } => {
            let filter = OrderFilter {
                account: account.clone(),
                ..OrderFilter::default()
            };
            let list = store.orders(&Scope::All, &filter).await?;
            audit(
                &store,
                "cli.order.list",
                serde_json::json!({ "account": account, "orders": list.len() }),
            )
            .await?;
            if ctx.json {
                print_json(&list.iter().map(OrderDoc::new).collect::<Vec<_>>())?;
            } else {
                for o in &list {
                    println!("{}", line(o));
                }
            }
            return Ok(Outcome::Clean);
        }
        OrderCmd::Submit { id } => (id, Action::Submit),
        OrderCmd::Approve { id, level } => (
            id,
            Action::Approve {
                level: level.into(),
            },
        ),
        OrderCmd::Send { id } => (id, Action::Send),
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
            (id, Action::Answer(answer))
        }
        OrderCmd::Dispose { id, finding, note } => {
            let o = desk
                .dispose(by, &Scope::All, id, &finding, note.as_deref())
                .await?;
            audit(
                &store,
                "cli.order.dispose",
                serde_json::json!({ "id": id, "finding": finding }),
            )
            .await?;
            return show(ctx, &o);
        }
        OrderCmd::Lift { id } => (id, Action::Lift),
        OrderCmd::Withdraw { id } => (id, Action::Withdraw),
    };
    let before = desk.order(&Scope::All, id).await?.status;
    let o = desk.step(by, &Scope::All, id, action).await?;
    audit(
        &store,
        "cli.order.step",
        serde_json::json!({ "id": id, "from": before, "to": o.status }),
    )
    .await?;
    show(ctx, &o)
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
        print_json(&OrderDoc::new(o))?;
    } else {
        println!("{}", line(o));
    }
    Ok(Outcome::Clean)
}
