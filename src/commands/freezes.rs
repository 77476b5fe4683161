//! `fanzha freezes show`: one account's freeze registry across authorities — who holds
//! what, since when, until when; queued requests; freezes past their screening deadline;
//! and what is frozen beyond the victims' traced money.

use fanzha_store::Scope;
use fanzha_trace::desk::Desk;
use fanzha_trace::view::shown_time;

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

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let (account, as_of) = match cmd {
        Cmd::Show { account, as_of } => (account, as_of),
        Cmd::Due { within_days, as_of } => return due(ctx, within_days, as_of).await,
    };
    let as_of = cut_off(as_of.as_deref())?;
    let store = ctx.store().await?;
    let g = ledger(&*store).await?;
    let at = as_of.unwrap_or(g.latest().unwrap_or(0));
    let doc = Desk::new(&*store).registry(&g, &account, at).await?;
    audit(
        &store,
        "cli.freezes.show",
        serde_json::json!({ "account": account, "measures": doc.measures.len() }),
    )
    .await?;
    if ctx.json {
        print_json(&doc)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "冻结登记 freeze registry, account {account} at {}: balance {} yuan, held by measures {} yuan, victims' money traced here {} yuan",
        doc.as_of,
        yuan(doc.balance_fen),
        yuan(doc.active_fen),
        yuan(doc.traced_fen)
    );
    for m in &doc.measures {
        println!(
            "  {:<6} {:<28} {:<20} active {:>12}  queued {:>12}  registered {}  expires {}",
            m.kind,
            m.authority,
            m.id,
            yuan(m.active_fen),
            yuan(m.queued_fen),
            m.registered_at,
            m.expires_at.as_deref().unwrap_or_default()
        );
    }
    for o in &doc.undisposed {
        println!("  久冻不决 {}: screening was due {}", o.id, o.screening_due);
    }
    if let Some(o) = &doc.over_freezing {
        println!(
            "  over-frozen: our measures hold {} yuan beyond the victims' money traced here; release due {}",
            yuan(o.release_fen),
            o.release_due
        );
    }
    if doc.unmatched_rows > 0 {
        println!(
            "  {} row(s) of external_freezes matched no measure (a renewal or release with nothing in force, or an unknown word)",
            doc.unmatched_rows
        );
    }
    Ok(Outcome::Clean)
}

async fn due(ctx: &Context, within_days: u32, as_of: Option<String>) -> anyhow::Result<Outcome> {
    let from = cut_off(as_of.as_deref())?.unwrap_or_else(super::orders::now);
    let until = from.saturating_add(i64::from(within_days) * 86_400_000_000);
    let store = ctx.store().await?;
    let items = Desk::new(&*store).due(&Scope::All, from, until).await?;
    audit(
        &store,
        "cli.freezes.due",
        serde_json::json!({ "within_days": within_days, "items": items.len() }),
    )
    .await?;
    if ctx.json {
        print_json(&items)?;
        return Ok(Outcome::Clean);
    }
    println!(
        "到期提醒 deadlines to {} ({} days from {})",
        shown_time(until),
        within_days,
        shown_time(from)
    );
    for d in &items {
        println!(
            "  {} {:<15} #{:<5} {:<8} {:<24} {}{}",
            d.due,
            d.what,
            d.order,
            d.kind,
            d.account,
            d.document_no.as_deref().unwrap_or(""),
            if d.overdue { "  OVERDUE" } else { "" }
        );
    }
    if items.is_empty() {
        println!("  nothing due");
    }
    Ok(Outcome::Clean)
}
