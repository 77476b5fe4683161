//! `fanzha trace` (follow a report's money) and `fanzha returns plan` (allocate an
//! account's money among the victims whose money reached it).

use std::time::Instant as Clock;

use anyhow::Context as _;
use fanzha_core::time::Instant;
use fanzha_store::{Scope, Store};
use fanzha_trace::desk::{By, Desk};
use fanzha_trace::graph::Graph;
use fanzha_trace::load::{self, PAGE};
use fanzha_trace::view::{shown_time, TraceDoc};
use fanzha_trace::{trace, trace_with, Edge, Rule};

use super::{audit, print_json, Context};
use crate::Outcome;

/// Which report to follow, by which rule, to when.
#[derive(clap::Args)]
pub struct Args {
    /// The report whose payments to follow.
    #[arg(long, value_name = "REPORT_ID")]
    report: String,
    /// The tracing rule: fifo, lifo, pro-rata, libr (lowest intermediate balance) or
    /// poison (every account reached, whole balances; an upper bound, never for amounts).
    #[arg(long, default_value = "fifo")]
    rule: Rule,
    /// The cut-off (RFC 3339); default: the latest loaded transaction.
    #[arg(long, value_name = "TIME")]
    as_of: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum ReturnsCmd {
    /// Allocate the account's money among every victim whose money reached it (FIFO
    /// tracing of every report): intact deposits, then the one time-matched victim, then
    /// pro rata by money that entered the account.
    Plan {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        /// The cut-off (RFC 3339); default: the latest loaded transaction.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// Open the next round of returns on an account under a case: the district's frozen
    /// money there (less what earlier rounds have on its way) allocated as `plan` does;
    /// pro-rata shares are published for 30 days of objections before the decision.
    Open {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        #[arg(long = "case", value_name = "CASE_ID")]
        case_id: String,
    },
    /// The return decision (返还决定书), signed at prefecture level after the objection
    /// period: one approved, numbered return order per share, to send to the bank.
    Decide {
        #[arg(long)]
        round: i64,
        #[arg(long, value_enum)]
        level: super::orders::LevelArg,
    },
    /// The return rounds, on one account or all.
    Rounds {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: Option<String>,
    },
    /// A round's document: the notice for objections, or the return decision (返还决定书).
    Document {
        #[arg(long)]
        round: i64,
    },
    /// Money returned against money lost, per case and per month.
    Ratio,
}

/// `--as-of`, read before the ledger is loaded so a mistyped time fails at once; `None`
/// means the latest loaded transaction.
pub(super) fn cut_off(as_of: Option<&str>) -> anyhow::Result<Option<i64>> {
    as_of
        .map(|s| {
            Ok(Instant::parse_rfc3339(s)
                .with_context(|| format!("--as-of {s:?}"))?
                .micros())
        })
        .transpose()
}

pub(super) async fn ledger(store: &dyn Store) -> anyhow::Result<Graph> {
    let bar = crate::progress::counter("loading transactions");
    let started = Clock::now();
    let g = load::graph(store, PAGE, &mut |n| bar.set_position(n))
        .await
        .context("loading the ledger")?;
    bar.finish_and_clear();
    tracing::info!(
        transactions = g.len(),
        accounts = g.accounts(),
        seconds = started.elapsed().as_secs_f64(),
        "ledger loaded"
    );
    Ok(g)
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let as_of = cut_off(args.as_of.as_deref())?;
    let store = ctx.store().await?;
    let report = Desk::new(&*store).report(&args.report).await?;
    let g = ledger(&*store).await?;
    let as_of = as_of.unwrap_or(g.latest().unwrap_or(0));
    let payments = load::payments(&g, &report)?;
    let t = trace(&g, &payments, args.rule, as_of);
    let doc = TraceDoc::new(&g, &report.report_id, &t);
    audit(
        &store,
        "cli.trace",
        serde_json::json!({
            "report": doc.report, "rule": doc.rule, "as_of": doc.as_of,
            "holdings": doc.holdings.len(), "exits": doc.exits.len(),
        }),
    )
    .await?;
    if ctx.json {
        print_json(&doc)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "报案 report {} · rule {} · as of {}",
        doc.report, doc.rule, doc.as_of
    );
    println!(
        "paid {} · held {} · exited {} (yuan)",
        yuan(doc.paid_fen),
        yuan(doc.held_fen),
        yuan(doc.exited_fen)
    );
    println!("holdings (accounts to stop, largest first):");
    for h in &doc.holdings {
        println!(
            "  {:<24} {:>14}  via {}",
            h.account,
            yuan(h.amount_fen),
            h.paths.first().map(|p| p.join(" → ")).unwrap_or_default()
        );
    }
    println!("exits:");
    for e in &doc.exits {
        println!(
            "  {:<24} {:>14}  {:<8} {} {}",
            e.account,
            yuan(e.amount_fen),
            e.kind,
            e.tx_id,
            e.to.as_deref().unwrap_or("")
        );
    }
    Ok(Outcome::Clean)
}

pub(super) fn yuan(fen: i64) -> String {
    fanzha_core::Money::from_fen(fen).yuan_string()
}

pub async fn returns(ctx: &Context, cmd: ReturnsCmd) -> anyhow::Result<Outcome> {
    let (account, as_of) = match cmd {
        ReturnsCmd::Plan { account, as_of } => (account, as_of),
        other => return return_rounds(ctx, other).await,
    };
    let as_of = cut_off(as_of.as_deref())?;
    let store = ctx.store().await?;
    let g = ledger(&*store).await?;
    let as_of = as_of.unwrap_or(g.latest().unwrap_or(0));
    let plan = Desk::new(&*store).returns_plan(&g, &account, as_of).await?;
    let claims = &plan.claims;
    audit(
        &store,
        "cli.returns.plan",
        serde_json::json!({ "account": account, "claims": claims.len(), "as_of": shown_time(as_of) }),
    )
    .await?;
    if ctx.json {
        print_json(&plan)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "account {} · funds {} yuan ({} at {}) · {} victims' money reached it",
        plan.account,
        yuan(plan.frozen_fen),
        if plan.funds_from == "freeze" {
            "frozen by the district"
        } else {
            "the balance: no freeze of ours registered"
        },
        shown_time(as_of),
        claims.len()
    );
    println!("claims (FIFO): report, victim, loss, entered, still held, intact, first deposit");
    for c in &plan.claims {
        println!(
            "  {:<20} {:<22} {:>14} {:>14} {:>14} {:>14}  {}",
            c.report,
            c.victim,
            yuan(c.loss_fen),
            yuan(c.entered_fen),
            yuan(c.held_fen),
            yuan(c.intact_fen),
            c.first_deposit
        );
    }
    println!("allocation:");
    for x in &plan.allocations {
        println!(
            "  {:<20} {:<22} {:>14}  {}",
            x.report,
            x.victim,
            yuan(x.amount_fen),
            x.basis.as_str()
        );
    }
    Ok(Outcome::Clean)
}

/// The return workflow after the plan: rounds opened, decided, listed; the return ratio.
async fn return_rounds(ctx: &Context, cmd: ReturnsCmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let desk = Desk::new(&*store);
    let actor = super::orders::actor();
    let by = By {
        actor: &actor,
        at: super::orders::now(),
    };
    let (action, doc) = match cmd {
        ReturnsCmd::Plan { .. } => unreachable!("the plan is answered by `returns`"),
        ReturnsCmd::Open { account, case_id } => {
            desk.case(&case_id).await?;
            let g = ledger(&*store).await?;
            let r = desk.open_round(by, &g, &account, &case_id).await?;
            if !ctx.json {
                println!(
                    "返还第{}轮 round {} on {} under case {}: {} yuan among {} victims; objections until {}",
                    r.round,
                    r.id,
                    r.account,
                    r.case,
                    yuan(r.funds_fen),
                    r.allocations.len(),
                    r.objections_until
                );
            }
            ("cli.returns.open", serde_json::to_value(&r)?)
        }
        ReturnsCmd::Decide { round, level } => {
            let r = desk.decide_round(by, round, level.into()).await?;
            if !ctx.json {
                println!(
                    "{} round {}: return orders {:?} approved; send them to the bank (`order send`), receipts due within 3 working days",
                    r.decision_no.as_deref().unwrap_or_default(),
                    r.id,
                    r.orders
                );
            }
            ("cli.returns.decide", serde_json::to_value(&r)?)
        }
        ReturnsCmd::Rounds { account } => {
            let rounds = desk.rounds(account.as_deref()).await?;
            if !ctx.json {
                for r in &rounds {
                    println!(
                        "#{:<4} {:<24} case {:<12} round {} {:<9} {:>14} yuan  objections until {}  {}",
                        r.id,
                        r.account,
                        r.case,
                        r.round,
                        r.status,
                        yuan(r.funds_fen),
                        r.objections_until,
                        r.decision_no.as_deref().unwrap_or("")
                    );
                }
            }
            ("cli.returns.rounds", serde_json::to_value(&rounds)?)
        }
        ReturnsCmd::Document { round } => {
            let d = desk.round_document(round).await?;
            if !ctx.json {
                print!("{}", d.to_text());
            }
            (
                "cli.returns.document",
                serde_json::json!({ "id": round, "document": d }),
            )
        }
        ReturnsCmd::Ratio => {
            let r = desk.ratios().await?;
            if !ctx.json {
                println!("返还率 return ratio: returned / lost");
                for (what, rows) in [("case", &r.by_case), ("month", &r.by_month)] {
                    for x in rows {
                        println!(
                            "  {what:<5} {:<14} lost {:>16}  returned {:>16}  {:>6.2}%",
                            x.key,
                            yuan(x.loss_fen),
                            yuan(x.returned_fen),
                            x.ratio * 100.0
                        );
                    }
                }
            }
            ("cli.returns.ratio", serde_json::to_value(&r)?)
        }
    };
    audit(&store, action, serde_json::json!({ "id": doc.get("id") })).await?;
    if ctx.json {
        print_json(&doc)?;
    }
    Ok(Outcome::Clean)
}

/// `fanzha eval trace`: every stored report traced by FIFO against labels/holdings.csv.
pub async fn eval(ctx: &Context, labels: &std::path::Path) -> anyhow::Result<Outcome> {
    let path = labels.join("holdings.csv");
    let mut r =
        csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut expected = Vec::new();
    for (i, rec) in r.deserialize::<(String, String, i64)>().enumerate() {
        expected.push(rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?);
    }
    let store = ctx.store().await?;
    let g = ledger(&*store).await?;
    let as_of = g.latest().unwrap_or(0);
    let started = Clock::now();
    let mut reports = store.report_payments(&Scope::All, None).await?;
    // A victim may report fewer payments than they made; the labels' holdings follow all
    // of them, so the engine is scored on the payments the labels name.
    let truth = label_payments(&labels.join("victims.csv"))?;
    let mut underreported = 0;
    for rep in &mut reports {
        let Some(ids) = truth.get(&rep.report_id) else {
            continue;
        };
        if ids.len() != rep.payments.len() {
            underreported += 1;
        }
        rep.payments = store
            .transfers_by_id(ids)
            .await?
            .into_iter()
            .map(|t| (t.tx_id, Some(t.ts)))
            .collect();
    }
    let mut untraceable = 0;
    let mut payments = Vec::new();
    for rep in &reports {
        match load::payments(&g, rep) {
            Ok(p) => payments.push((rep.report_id.clone(), p)),
            Err(e) => {
                untraceable += 1;
                tracing::warn!(error = %e, "report not traced");
            }
        }
    }
    let score = |edge: Edge| {
        let traces: Vec<(String, fanzha_trace::Trace)> = payments
            .iter()
            .map(|(r, p)| (r.clone(), trace_with(&g, p, Rule::Fifo, as_of, edge)))
            .collect();
        fanzha_trace::eval::evaluate(&g, &expected, &traces, untraceable, edge == Edge::Follow)
    };
    let following = score(Edge::Follow);
    let stopping = score(Edge::Stop);
    let seconds = started.elapsed().as_secs_f64();
    audit(
        &store,
        "cli.eval.trace",
        serde_json::json!({ "labels": labels, "reports": following.reports }),
    )
    .await?;
    if ctx.json {
        print_json(&serde_json::json!({
            "following_outside": following, "stopping_at_outside": stopping, "seconds": seconds,
            "underreported": underreported,
        }))?;
    } else {
        println!(
            "{} reports traced by FIFO twice in {seconds:.2} s ({} not traceable; {underreported} name fewer payments than the victim made, traced with all of them)",
            following.reports, following.untraceable
        );
        for (name, ev) in [
            ("following outside accounts, as the labels do", &following),
            (
                "stopping at outside accounts, as the product does",
                &stopping,
            ),
        ] {
            println!(
                "  {name}: {} of {} labelled holdings match to the fen ({:.4}); {} differ, {} extra; {} of {} reports exact; {} of {} fen",
                ev.exact, ev.expected, ev.exact_share(), ev.differ, ev.extra,
                ev.exact_reports, ev.reports, ev.matched_fen, ev.expected_fen
            );
        }
        println!(
            "  ({} labelled holdings are on outside accounts; where the two differ, the money left the district and came back)",
            following.outside
        );
    }
    // The engine is right when it reproduces the labels under their own convention.
    Ok(if following.differ == 0 && following.extra == 0 {
        Outcome::Clean
    } else {
        Outcome::Rejected
    })
}

/// labels/victims.csv: each reported victim's payments, as the simulator made them.
fn label_payments(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::HashMap<String, Vec<String>>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let h = r.headers()?.clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .with_context(|| format!("{}: no column {name}", path.display()))
    };
    let (rep, pays) = (col("report_id")?, col("payment_tx_ids")?);
    let mut out = std::collections::HashMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let (Some(id), Some(p)) = (rec.get(rep), rec.get(pays)) else {
            continue;
        };
        if !id.is_empty() {
            out.insert(
                id.to_owned(),
                p.split('|')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// The demo's traced report: the one whose money is most still held (the most to stop and
/// freeze), by FIFO; its stop plan drafted as orders (a rerun drafts nothing twice), so the
/// console's order queue has work in it.
pub(super) async fn most_held_report(
    store: &dyn Store,
) -> anyhow::Result<Option<(TraceDoc, fanzha_trace::desk::StopPlan)>> {
    let reports = store.report_payments(&Scope::All, None).await?;
    let g = ledger(store).await?;
    let as_of = g.latest().unwrap_or(0);
    let best = reports
        .iter()
        .filter_map(|r| Some((r, load::payments(&g, r).ok()?)))
        .filter(|(_, p)| !p.is_empty())
        .map(|(r, p)| (r, trace(&g, &p, Rule::Fifo, as_of)))
        .max_by_key(|(r, t)| (t.held_fen(), r.loss_fen));
    let Some((r, t)) = best else {
        return Ok(None);
    };
    let actor = super::orders::actor();
    let by = By {
        actor: &actor,
        at: super::orders::now(),
    };
    let plan = Desk::new(store)
        .stop_plan(by, &g, r, &t, None, true)
        .await?;
    Ok(Some((TraceDoc::new(&g, &r.report_id, &t), plan)))
}

/// One line per exit kind: "cash 1,200.00, outside 3,400.00".
pub(super) fn exits_by_kind(doc: &TraceDoc) -> String {
    let mut by: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for e in &doc.exits {
        *by.entry(e.kind).or_default() += e.amount_fen;
    }
    by.iter()
        .map(|(k, v)| format!("{k} {}", fanzha_core::Money::from_fen(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(clap::Subcommand)]
pub enum StopCmd {
    /// The accounts to stop for a report, most urgent first (money still moving, then the
    /// larger holding), each order drafted for exactly the traced holding.
    Plan {
        /// The report, and the rule that sizes the orders (poison is refused: it is a
        /// reach, not an amount).
        #[command(flatten)]
        which: Args,
        /// Stop this account whole rather than its traced holding; needs --reason.
        #[arg(long, value_name = "ACCOUNT_ID", requires = "reason")]
        whole_account: Option<String>,
        /// Why the whole account (10 to 500 characters); recorded in the audit trail.
        #[arg(long)]
        reason: Option<String>,
        /// Store each line as a draft stop-payment order (`fanzha order list`), except on
        /// an account that has had its two stops.
        #[arg(long)]
        draft: bool,
    },
}

pub async fn stop(ctx: &Context, cmd: StopCmd) -> anyhow::Result<Outcome> {
    let StopCmd::Plan {
        which: Args {
            report: report_id,
            rule,
            as_of,
        },
        whole_account,
        reason,
        draft,
    } = cmd;
    let as_of = cut_off(as_of.as_deref())?;
    let store = ctx.store().await?;
    let desk = Desk::new(&*store);
    let rep = desk.report(&report_id).await?;
    let g = ledger(&*store).await?;
    let as_of = as_of.unwrap_or(g.latest().unwrap_or(0));
    let started = Clock::now();
    let payments = load::payments(&g, &rep)?;
    let t = trace(&g, &payments, rule, as_of);
    let actor = super::orders::actor();
    let by = By {
        actor: &actor,
        at: super::orders::now(),
    };
    let whole = whole_account.as_deref().zip(reason.as_deref());
    let plan = desk.stop_plan(by, &g, &rep, &t, whole, draft).await?;
    let plan_ms = started.elapsed().as_secs_f64() * 1e3;
    audit(
        &store,
        "cli.stop.plan",
        serde_json::json!({ "report": rep.report_id, "rule": rule.as_str(), "orders": plan.orders.len(),
            "whole_account": whole_account, "reason": reason,
            "drafted": plan.orders.iter().filter_map(|o| o.order_id).collect::<Vec<_>>() }),
    )
    .await?;
    let mut doc = serde_json::to_value(&plan)?;
    doc["plan_ms"] = serde_json::json!(plan_ms);
    if ctx.json {
        print_json(&doc)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "止付预案 stop-payment plan, report {} (reported {}; drafts due by {}) · rule {} · as of {} · {:.1} ms",
        plan.report, plan.reported_at, plan.stop_due_by, plan.rule, plan.as_of, plan_ms
    );
    let orders = &plan.orders;
    for o in orders {
        println!(
            "  {:<8} {:<24} {:>14} yuan ({}; balance {})  last in {}  {} out since",
            o.urgency.as_str(),
            o.account,
            yuan(o.amount_fen),
            o.basis,
            yuan(o.balance_fen),
            o.last_arrival,
            o.outflows_since
        );
    }
    if orders.is_empty() {
        println!("  nothing of the victim's money is still held: see `fanzha trace` for the exits");
    }
    Ok(Outcome::Clean)
}
