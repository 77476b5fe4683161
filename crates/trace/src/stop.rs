//! Stop-payment planning (紧急止付, M4): from a report's trace, the accounts to stop, ranked
//! by urgency — money still moving first — then by the victim's money held, each with a
//! drafted order for exactly the traced holding.
//!
//! Why the traced holding and not the account: stopping a whole account stops its holder's
//! own money and other victims' too, which is the over-broad freezing the report complains
//! of. The whole account is an analyst's explicit choice with a recorded reason.

use serde::Serialize;

use crate::graph::{AccountIx, Graph};
use crate::trace::Trace;

/// How soon the money on an account may leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// The account has paid money out since the victim's money arrived: what is left may
    /// go with its next transfer.
    Moving,
    /// The money arrived within the last hours.
    Recent,
    /// The money has rested there for a while.
    Resting,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Moving => "moving",
            Urgency::Recent => "recent",
            Urgency::Resting => "resting",
        }
    }
}

/// One account to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopLine {
    pub account: AccountIx,
    /// The order's amount: the victim's money traced there.
    pub amount_fen: i64,
    /// The account's whole balance at the cut-off, for the analyst who must choose.
    pub balance_fen: i64,
    /// When the victim's money last arrived.
    pub last_arrival: i64,
    /// Outflows since then, up to the cut-off.
    pub outflows_since: u32,
    pub urgency: Urgency,
}

/// Money that arrived within this many hours of the cut-off counts as recent.
pub const RECENT_HOURS: i64 = 6;

/// The accounts of `t`'s holdings in the order to stop them.
pub fn plan(g: &Graph, t: &Trace) -> Vec<StopLine> {
    let end = g.last_at(t.as_of);
    let mut out: Vec<StopLine> = t
        .holdings
        .iter()
        .filter(|h| g.is_inside(h.account))
        .map(|h| {
            let last = t
                .flows
                .iter()
                .filter(|f| g.to(f.tx) == h.account)
                .map(|f| f.tx)
                .max();
            let last_arrival = last.map_or(t.as_of, |i| g.ts(i));
            let outflows_since = match (last, end) {
                (Some(l), Some(e)) => g
                    .history(h.account)
                    .iter()
                    .filter(|&&j| j > l && j <= e && g.from(j) == h.account)
                    .count() as u32,
                _ => 0,
            };
            let urgency = if outflows_since > 0 {
                Urgency::Moving
            } else if t.as_of - last_arrival <= RECENT_HOURS * 3_600_000_000 {
                Urgency::Recent
            } else {
                Urgency::Resting
            };
            StopLine {
                account: h.account,
                amount_fen: h.amount_fen,
                balance_fen: g.balance_at(h.account, end),
                last_arrival,
                outflows_since,
                urgency,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (
            a.urgency,
            std::cmp::Reverse(a.amount_fen),
            g.name(a.account),
        )
            .cmp(&(
                b.urgency,
                std::cmp::Reverse(b.amount_fen),
                g.name(b.account),
            ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Rule;
    use crate::trace::tests::ledger;
    use crate::trace::trace;

    #[test]
    fn money_still_moving_comes_first_then_the_larger_holding() {
        const H: i64 = 3_600_000_000;
        // V pays M1 and M2; M1 keeps paying out; M2's money rests; M3 got some just now.
        let g = ledger(
            &["V", "M1", "M2", "M3", "N"],
            &[("M1", 10_000)],
            &[
                ("p1", 0, "V", "M1", 5_000, "transfer"),
                ("p2", H, "V", "M2", 9_000, "transfer"),
                ("t3", 2 * H, "M1", "N", 11_000, "transfer"),
                ("t4", 3 * H, "M1", "X", 100, "transfer"),
                ("p5", 20 * H, "V", "M3", 1_000, "transfer"),
            ],
        );
        let pays = [0, 1, 4];
        let t = trace(&g, &pays, Rule::Fifo, 21 * H);
        let p = plan(&g, &t);
        let got: Vec<(&str, i64, Urgency)> = p
            .iter()
            .map(|l| (g.name(l.account), l.amount_fen, l.urgency))
            .collect();
        // FIFO: M1's own 10,000 left first in t3, with 1,000 of the victim's; 4,000 stay,
        // and t4 took 100 of them.
        assert_eq!(
            got,
            [
                ("M1", 3_900, Urgency::Moving),
                ("M3", 1_000, Urgency::Recent),
                ("M2", 9_000, Urgency::Resting),
                ("N", 1_000, Urgency::Resting),
            ]
        );
        assert_eq!(p[0].outflows_since, 2);
        assert_eq!(p[0].balance_fen, 3_900);
    }
}
