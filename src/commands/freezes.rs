//! `fanzha freezes show`: one account's freeze registry across authorities — who holds
//! what, since when, until when; queued requests; freezes past their screening deadline;
//! and what is frozen beyond the victims' traced money.

use anyhow::{bail, Context as _};
use fanzha_store::Scope;
use fanzha_trace::registry::{self, Kind, Periods};
use fanzha_trace::view::shown_time;
use fanzha_trace::{load, trace, Rule};

use super::trace::{cut_off, ledger, yuan};
use super::{audit, print_json, Context};
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// The account's registry at a moment (default: the latest loaded transaction).
    Show {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// The district's stops and freezes with a deadline within the window, or past it:
    /// stops about to lapse (convert them to freezes), renewals due, expiries, screenings
    /// (甄别) due. Earliest first.
    Due {
        /// The window, in days from --as-of.
        #[arg(long, default_value_t = 10)]
        within_days: u32,
        /// From when (RFC 3339); default: now.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
}

/// Every measure on the account, other authorities' and the district's own executed orders,
/// in registration order; and the `external_freezes` rows that matched none.
pub(super) async fn measures_on(
    store: &dyn fanzha_store::Store,
    account: &str,
    periods: &Periods,
) -> anyhow::Result<(Vec<registry::Measure>, Vec<usize>)> {
    let mut rows = store
        .external_freezes(Some(account))
        .await
        .context("reading external_freezes")?;
    rows.extend(registry::own_rows(
        &store.orders(None, Some(account)).await?,
    ));
    rows.sort_by_key(|r| r.registered_at);
    Ok(registry::from_external(&rows, periods))
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let (account, as_of) = match cmd {
        Cmd::Show { account, as_of } => (account, as_of),
        Cmd::Due { within_days, as_of } => return due(ctx, within_days, as_of).await,
    };
    let as_of = cut_off(as_of.as_deref())?;
    let store = ctx.store().await?;
    let g = ledger(&*store).await?;
    let Some(a) = g.account(&account).filter(|&a| g.is_inside(a)) else {
        bail!("account {account:?} is not one of the district's accounts (accounts)");
    };
    let at = as_of.unwrap_or(g.latest().unwrap_or(0));
    let end = g.last_at(at);
    let balance = g.balance_at(a, end);
    let periods = Periods::default();
    let (measures, unmatched) = measures_on(&*store, &account, &periods).await?;
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
    let overdue = registry::undisposed(&measures, &periods, at);
    // The victims' money on the account by FIFO, over every report.
    let mut traced = 0;
    for r in store.report_payments(&Scope::All, None).await? {
        if let Ok(p) = load::payments(&g, &r) {
            let t = trace(&g, &p, Rule::Fifo, at);
            traced += t
                .holdings
                .iter()
                .find(|h| h.account == a)
                .map_or(0, |h| h.amount_fen);
        }
    }
    let active: i64 = standing.iter().map(|s| s.active_fen).sum();
    // Over-freezing is ours to answer for our own measures: other authorities' victims are
    // not in this district's reports.
    let own_active: i64 = standing
        .iter()
        .filter(|s| measures[s.measure].authority == registry::OWN)
        .map(|s| s.active_fen)
        .sum();
    let over = registry::over_freezing(own_active, traced, &periods, at);
    let doc = serde_json::json!({
        "account": account,
        "as_of": shown_time(at),
        "balance_fen": balance,
        "active_fen": active,
        "traced_fen": traced,
        "measures": standing.iter().map(|s| {
            let m = &measures[s.measure];
            let since = timeline
                .iter()
                .filter(|p| p.measure == s.measure && p.until.is_none())
                .map(|p| p.since)
                .next();
            serde_json::json!({
                "id": m.id, "authority": m.authority,
                "kind": match m.kind { Kind::Stop => "stop", Kind::Freeze => "freeze" },
                "requested_fen": m.requested(at), "active_fen": s.active_fen, "queued_fen": s.queued_fen,
                "registered_at": shown_time(m.registered_at),
                "since": since.map(shown_time),
                "expires_at": m.expires_at.map(shown_time),
                "renewal_due": (m.kind == Kind::Freeze).then(|| m.expires_at.map(|e| shown_time(periods.renewal_due(e)))).flatten(),
            })
        }).collect::<Vec<_>>(),
        "undisposed": overdue.iter().map(|o| serde_json::json!({
            "id": measures[o.measure].id, "screening_due": shown_time(o.due) })).collect::<Vec<_>>(),
        "over_freezing": over.as_ref().map(|o| serde_json::json!({
            "frozen_fen": o.frozen_fen, "traced_fen": o.traced_fen, "release_fen": o.release_fen,
            "release_due": shown_time(o.due) })),
        "unmatched_rows": unmatched.len(),
    });
    audit(
        &store,
        "cli.freezes.show",
        serde_json::json!({ "account": account, "measures": standing.len() }),
    )
    .await?;
    if ctx.json {
        print_json(&doc)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "冻结登记 freeze registry, account {account} at {}: balance {} yuan, held by measures {} yuan, victims' money traced here {} yuan",
        shown_time(at),
        yuan(balance),
        yuan(active),
        yuan(traced)
    );
    for s in &standing {
        let m = &measures[s.measure];
        println!(
            "  {:<6} {:<28} {:<20} active {:>12}  queued {:>12}  registered {}  expires {}",
            match m.kind {
                Kind::Stop => "stop",
                Kind::Freeze => "freeze",
            },
            m.authority,
            m.id,
            yuan(s.active_fen),
            yuan(s.queued_fen),
            shown_time(m.registered_at),
            m.expires_at.map(shown_time).unwrap_or_default()
        );
    }
    for o in &overdue {
        println!(
            "  久冻不决 {}: screening was due {}",
            measures[o.measure].id,
            shown_time(o.due)
        );
    }
    if let Some(o) = &over {
        println!(
            "  over-frozen: our measures hold {} yuan beyond the victims' money traced here; release due {}",
            yuan(o.release_fen),
            shown_time(o.due)
        );
    }
    if !unmatched.is_empty() {
        println!(
            "  {} row(s) of external_freezes matched no measure (a renewal or release with nothing in force, or an unknown word)",
            unmatched.len()
        );
    }
    Ok(Outcome::Clean)
}

async fn due(ctx: &Context, within_days: u32, as_of: Option<String>) -> anyhow::Result<Outcome> {
    let from = cut_off(as_of.as_deref())?.unwrap_or_else(super::orders::now);
    let until = from.saturating_add(i64::from(within_days) * 86_400_000_000);
    let periods = Periods::default();
    let store = ctx.store().await?;
    let mut items: Vec<(i64, &'static str, fanzha_store::Order)> = Vec::new();
    for o in store.orders(None, None).await? {
        let in_force = matches!(o.status.as_str(), "executed" | "insufficient");
        let (Some(effective), Some(expires)) = (o.effective_at, o.expires_at) else {
            continue;
        };
        if !in_force {
            continue;
        }
        let mut push = |at: i64, what: &'static str| items.push((at, what, o.clone()));
        match o.new.kind.as_str() {
            "stop" => push(expires, "stop_lapses"),
            "freeze" | "renew" => {
                push(periods.renewal_due(expires), "renewal_due");
                push(expires, "freeze_lapses");
                let whole = o.new.basis == "whole_account";
                push(periods.screening_due(effective, whole), "screening_due");
            }
            _ => {}
        }
    }
    items.retain(|(at, _, _)| *at <= until);
    items.sort_by_key(|(at, _, o)| (*at, o.id));
    audit(
        &store,
        "cli.freezes.due",
        serde_json::json!({ "within_days": within_days, "items": items.len() }),
    )
    .await?;
    if ctx.json {
        print_json(
            &items
                .iter()
                .map(|(at, what, o)| {
                    serde_json::json!({ "due": shown_time(*at), "overdue": *at < from,
                        "what": what, "order": o.id, "kind": o.new.kind,
                        "account": o.new.account_id, "document_no": o.document_no })
                })
                .collect::<Vec<_>>(),
        )?;
        return Ok(Outcome::Clean);
    }
    println!(
        "到期提醒 deadlines to {} ({} days from {})",
        shown_time(until),
        within_days,
        shown_time(from)
    );
    for (at, what, o) in &items {
        println!(
            "  {} {:<15} #{:<5} {:<8} {:<24} {}{}",
            shown_time(*at),
            what,
            o.id,
            o.new.kind,
            o.new.account_id,
            o.document_no.as_deref().unwrap_or(""),
            if *at < from { "  OVERDUE" } else { "" }
        );
    }
    if items.is_empty() {
        println!("  nothing due");
    }
    Ok(Outcome::Clean)
}
