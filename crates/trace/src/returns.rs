//! Allocating an account's frozen money among the victims whose money reached it
//! (冻结资金返还, LEGAL.md), in the order the return rules give:
//!
//! 1. `intact`: a victim's deposit that arrived after the account's last outflow is still
//!    there untouched, and goes back whole;
//! 2. `time_matched`: where FIFO tracing leaves only one victim's money on the account, it
//!    goes to that victim;
//! 3. `pro_rata`: the rest is split in proportion to each victim's money that entered the
//!    account (for a first-level card, their payments into it).
//!
//! Nobody gets more than they lost; when the claims exceed the funds they are scaled so the
//! shares sum to the funds (the platform's reading of the rule, LEGAL.md). Shares are exact
//! to the fen by the largest-remainder method, ties to the earliest deposit.

use serde::{Deserialize, Serialize};

use crate::graph::{AccountIx, Graph, TxIx};
use crate::trace::{largest_remainder, Trace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Intact,
    TimeMatched,
    ProRata,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Intact => "intact",
            Basis::TimeMatched => "time_matched",
            Basis::ProRata => "pro_rata",
        }
    }
}

/// One victim's claim on the account, from the FIFO trace of their report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub report: String,
    pub victim: String,
    pub loss_fen: i64,
    /// The victim's money that entered the account, over every transaction.
    pub entered_fen: i64,
    /// The victim's money FIFO leaves on the account at the cut-off.
    pub held_fen: i64,
    /// The part of `entered_fen` that arrived after the account's last outflow.
    pub intact_fen: i64,
    /// The first transaction that brought the victim's money to the account.
    pub first_deposit: TxIx,
}

impl Claim {
    /// The claim of one report on account `a`, from its FIFO trace; `None` when none of the
    /// victim's money entered the account.
    pub fn from_trace(
        g: &Graph,
        a: AccountIx,
        t: &Trace,
        report: &str,
        victim: &str,
        loss_fen: i64,
    ) -> Option<Claim> {
        let last_out = last_outflow(g, a, g.last_at(t.as_of));
        let mut entered = 0;
        let mut intact = 0;
        let mut first = None;
        for f in t.flows.iter().filter(|f| g.to(f.tx) == a) {
            entered += f.amount_fen;
            if last_out.is_none_or(|o| f.tx > o) {
                intact += f.amount_fen;
            }
            first.get_or_insert(f.tx);
        }
        let held = t
            .holdings
            .iter()
            .find(|h| h.account == a)
            .map_or(0, |h| h.amount_fen);
        Some(Claim {
            report: report.to_owned(),
            victim: victim.to_owned(),
            loss_fen: loss_fen.max(0),
            entered_fen: entered,
            held_fen: held,
            // What FIFO holds bounds what can be intact (the trace's own conservation).
            intact_fen: intact.min(held),
            first_deposit: first?,
        })
    }
}

/// The account's last outflow at or before `end`.
pub fn last_outflow(g: &Graph, a: AccountIx, end: Option<TxIx>) -> Option<TxIx> {
    let end = end?;
    g.history(a)
        .iter()
        .rev()
        .skip_while(|&&j| j > end)
        .find(|&&j| g.from(j) == a)
        .copied()
}

/// One victim's share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub report: String,
    pub victim: String,
    pub amount_fen: i64,
    pub basis: Basis,
}

/// The plan for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnPlan {
    pub account: String,
    pub frozen_fen: i64,
    /// Where `frozen_fen` comes from: `freeze` (the district's freezes in force on the
    /// account, as the registry serves them) or `balance` (none: the balance, so an analyst
    /// can plan before freezing).
    pub funds_from: &'static str,
    pub allocations: Vec<Allocation>,
    /// The claims the allocation was made from, so every share can be checked.
    pub claims: Vec<ClaimDoc>,
}

/// A claim as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimDoc {
    pub report: String,
    pub victim: String,
    pub loss_fen: i64,
    pub entered_fen: i64,
    pub held_fen: i64,
    pub intact_fen: i64,
    pub first_deposit: String,
}

impl Claim {
    pub fn doc(&self, g: &Graph) -> ClaimDoc {
        ClaimDoc {
            report: self.report.clone(),
            victim: self.victim.clone(),
            loss_fen: self.loss_fen,
            entered_fen: self.entered_fen,
            held_fen: self.held_fen,
            intact_fen: self.intact_fen,
            first_deposit: g.tx_id(self.first_deposit).to_owned(),
        }
    }
}

/// Splits `funds` among the claims by the three rules in order.
pub fn allocate(funds: i64, claims: &[Claim]) -> Vec<Allocation> {
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by_key(|&k| (claims[k].first_deposit, k));
    let mut left = funds.max(0);
    let mut got = vec![0i64; claims.len()];
    let mut out = Vec::new();
    let mut give = |k: usize, want: i64, basis: Basis, left: &mut i64, got: &mut [i64]| {
        let c = &claims[k];
        let amount = want.min(c.loss_fen - got[k]).min(*left).max(0);
        if amount > 0 {
            got[k] += amount;
            *left -= amount;
            out.push(Allocation {
                report: c.report.clone(),
                victim: c.victim.clone(),
                amount_fen: amount,
                basis,
            });
        }
    };
    for &k in &order {
        give(k, claims[k].intact_fen, Basis::Intact, &mut left, &mut got);
    }
    let matched: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&k| claims[k].held_fen > claims[k].intact_fen)
        .collect();
    if let [k] = matched[..] {
        let c = &claims[k];
        give(
            k,
            c.held_fen - c.intact_fen,
            Basis::TimeMatched,
            &mut left,
            &mut got,
        );
    }
    let wants: Vec<i64> = order
        .iter()
        .map(|&k| {
            let c = &claims[k];
            (c.entered_fen - got[k]).min(c.loss_fen - got[k]).max(0)
        })
        .collect();
    let total: i64 = wants.iter().sum();
    let shares = if total <= left {
        wants
    } else {
        largest_remainder(left, wants)
    };
    for (&k, share) in order.iter().zip(shares) {
        give(k, share, Basis::ProRata, &mut left, &mut got);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Rule;
    use crate::trace::tests::ledger;
    use crate::trace::trace;

    fn claim(report: &str, loss: i64, entered: i64, held: i64, intact: i64, first: TxIx) -> Claim {
        Claim {
            report: report.into(),
            victim: format!("v-{report}"),
            loss_fen: loss,
            entered_fen: entered,
            held_fen: held,
            intact_fen: intact,
            first_deposit: first,
        }
    }

    fn sums(a: &[Allocation]) -> Vec<(&str, i64, Basis)> {
        a.iter()
            .map(|x| (x.report.as_str(), x.amount_fen, x.basis))
            .collect()
    }

    #[test]
    fn intact_first_then_the_one_matched_victim_then_pro_rata() {
        let claims = [
            claim("r1", 10_000, 10_000, 0, 0, 1),
            claim("r2", 5_000, 5_000, 3_000, 0, 2),
            claim("r3", 2_000, 2_000, 2_000, 2_000, 9),
        ];
        // r3's deposit is intact; r2 is the only one with money FIFO still holds; the last
        // 1,000 splits by what is left of each claim, 10,000 to 2,000.
        let a = allocate(6_000, &claims);
        assert_eq!(
            sums(&a),
            [
                ("r3", 2_000, Basis::Intact),
                ("r2", 3_000, Basis::TimeMatched),
                ("r1", 833, Basis::ProRata),
                ("r2", 167, Basis::ProRata),
            ]
        );
    }

    #[test]
    fn scaled_shares_sum_to_the_funds_and_never_exceed_a_loss() {
        let claims = [
            claim("r1", 1_000, 3_000, 0, 0, 1),
            claim("r2", 3_000, 3_000, 0, 0, 2),
            claim("r3", 3_000, 3_000, 0, 0, 3),
        ];
        // Claims are capped by loss: 1,000 + 3,000 + 3,000 = 7,000 > 5,000 of funds.
        let a = allocate(5_000, &claims);
        assert_eq!(
            sums(&a),
            [
                ("r1", 714, Basis::ProRata),
                ("r2", 2_143, Basis::ProRata),
                ("r3", 2_143, Basis::ProRata),
            ]
        );
        // Funds above the claims: each gets the claim, the rest stays frozen.
        let a = allocate(50_000, &claims);
        assert_eq!(a.iter().map(|x| x.amount_fen).sum::<i64>(), 7_000);
        // Equal remainders: the odd fen goes to the earliest deposit.
        let equal = [
            claim("r1", 1_000, 1_000, 0, 0, 7),
            claim("r2", 1_000, 1_000, 0, 0, 3),
            claim("r3", 1_000, 1_000, 0, 0, 5),
        ];
        assert_eq!(
            sums(&allocate(1_000, &equal)),
            [
                ("r2", 334, Basis::ProRata),
                ("r3", 333, Basis::ProRata),
                ("r1", 333, Basis::ProRata),
            ]
        );
    }

    #[test]
    fn claims_come_from_fifo_traces() {
        // Two victims pay M; M forwards 1,200 (all of victim 1's money and 200 of victim
        // 2's), then victim 2 pays again.
        let g = ledger(
            &["V1", "V2", "M", "N"],
            &[],
            &[
                ("p1", 10, "V1", "M", 1_000, "transfer"),
                ("p2", 20, "V2", "M", 800, "transfer"),
                ("t3", 30, "M", "N", 1_200, "transfer"),
                ("p4", 40, "V2", "M", 300, "transfer"),
            ],
        );
        let m = g.account("M").unwrap();
        let t1 = trace(&g, &[0], Rule::Fifo, 100);
        let t2 = trace(&g, &[1, 3], Rule::Fifo, 100);
        let c1 = Claim::from_trace(&g, m, &t1, "r1", "V1", 1_000).unwrap();
        assert_eq!((c1.entered_fen, c1.held_fen, c1.intact_fen), (1_000, 0, 0));
        let c2 = Claim::from_trace(&g, m, &t2, "r2", "V2", 1_100).unwrap();
        assert_eq!(
            (c2.entered_fen, c2.held_fen, c2.intact_fen),
            (1_100, 900, 300)
        );
        let n = g.account("N").unwrap();
        let v = g.account("V1").unwrap();
        assert!(Claim::from_trace(&g, v, &t1, "r1", "V1", 1_000).is_none());
        let funds = g.balance_at(m, g.last_at(100));
        assert_eq!(
            sums(&allocate(funds, &[c1, c2])),
            [("r2", 300, Basis::Intact), ("r2", 600, Basis::TimeMatched)]
        );
        assert_eq!(last_outflow(&g, n, g.last_at(100)), None);
    }
}
