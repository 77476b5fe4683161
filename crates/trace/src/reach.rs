//! Poison: where the victim's money could have gone. Every account that received money
//! from a reached account after it was reached is reached too, so this is an upper bound of
//! every conserving rule's accounts, and the place to look for accounts to stop.
//!
//! Earliest arrival decides: an account reached early can pass money on in more later
//! transactions than one reached late, so each account is expanded once, at its earliest
//! arrival, in the manner of Dijkstra's algorithm with ledger positions as distances.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::graph::{AccountIx, Graph, TxIx, NO_ACCOUNT};
use crate::rule::Rule;
use crate::trace::{Exit, Flow, Holding, Trace};

/// The accounts reached, each with the transaction that reached it first.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub end: Option<TxIx>,
    /// Account → the earliest transaction that brought the money (or a payment).
    pub first: FxHashMap<AccountIx, TxIx>,
    /// Exit transactions from reached accounts after they were reached.
    pub exits: Vec<TxIx>,
    /// The payments' total.
    paid: i64,
}

/// Reaches forward from the payments to `as_of`, stopping at exits.
pub fn reach(g: &Graph, payments: &[TxIx], as_of: i64) -> Reach {
    let Some(end) = g.last_at(as_of) else {
        return Reach::default();
    };
    let mut r = Reach {
        end: Some(end),
        ..Reach::default()
    };
    let mut heap = BinaryHeap::new();
    let mut seen = FxHashSet::default();
    for &p in payments.iter().filter(|&&p| p <= end) {
        if !seen.insert(p) {
            continue;
        }
        r.paid += g.amount(p);
        r.arrive(g, p, &mut heap);
    }
    while let Some(Reverse((at, a))) = heap.pop() {
        if r.first.get(&a) != Some(&at) {
            continue;
        }
        let h = g.history(a);
        for &j in &h[g.position(a, at) + 1..] {
            if j > end {
                break;
            }
            if g.from(j) == a {
                r.arrive(g, j, &mut heap);
            }
        }
    }
    r.exits.sort_unstable();
    r
}

impl Reach {
    /// Money on transaction `i` reaches its payee, or leaves by an exit.
    fn arrive(&mut self, g: &Graph, i: TxIx, heap: &mut BinaryHeap<Reverse<(TxIx, AccountIx)>>) {
        let to = g.to(i);
        if g.exit(i).is_some() || to == NO_ACCOUNT {
            self.exits.push(i);
            return;
        }
        let better = self.first.get(&to).is_none_or(|&f| i < f);
        if better {
            self.first.insert(to, i);
            heap.push(Reverse((i, to)));
        }
    }

    /// The path that reached the account first, from the payment on.
    pub fn path(&self, g: &Graph, mut tx: TxIx) -> Vec<TxIx> {
        let mut out = vec![tx];
        // Each step goes to an earlier transaction, so this ends.
        while let Some(&prev) = self.first.get(&g.from(tx)) {
            if prev >= tx {
                break;
            }
            out.push(prev);
            tx = prev;
        }
        out.reverse();
        out
    }

    /// As a [`Trace`]: each reached account's holding is its whole balance at the cut-off,
    /// each exit the whole transaction.
    pub fn into_trace(self, g: &Graph, as_of: i64) -> Trace {
        let mut holdings: Vec<Holding> = self
            .first
            .iter()
            .filter_map(|(&a, &at)| {
                let bal = g.balance_at(a, self.end);
                (bal > 0).then(|| Holding {
                    account: a,
                    amount_fen: bal,
                    paths: vec![self.path(g, at)],
                })
            })
            .collect();
        holdings.sort_unstable_by(|a, b| {
            b.amount_fen
                .cmp(&a.amount_fen)
                .then_with(|| g.name(a.account).cmp(g.name(b.account)))
        });
        let exits = self
            .exits
            .iter()
            .map(|&i| Exit {
                account: g.from(i),
                to: g.to(i),
                kind: g.exit(i).unwrap_or(crate::graph::ExitKind::Cash),
                amount_fen: g.amount(i),
                tx: i,
                paths: vec![self.path(g, i)],
            })
            .collect();
        let mut flows: Vec<Flow> = self
            .first
            .values()
            .map(|&i| Flow {
                tx: i,
                amount_fen: g.amount(i),
            })
            .collect();
        flows.sort_unstable_by_key(|f| f.tx);
        Trace {
            rule: Rule::Poison,
            as_of,
            paid_fen: self.paid,
            holdings,
            exits,
            flows,
        }
    }
}

/// The accounts reachable from the payments by at most `depth` transactions, each later
/// than the one before, up to `as_of`: the plain reachability an analyst's recursive query
/// computes (every payee counts, exits included), for comparing against one.
pub fn reach_within(g: &Graph, payments: &[TxIx], as_of: i64, depth: u32) -> FxHashSet<AccountIx> {
    let Some(end) = g.last_at(as_of) else {
        return FxHashSet::default();
    };
    let mut best: FxHashMap<AccountIx, TxIx> = FxHashMap::default();
    let mut frontier: FxHashMap<AccountIx, TxIx> = FxHashMap::default();
    for &p in payments.iter().filter(|&&p| p <= end) {
        let to = g.to(p);
        if to != NO_ACCOUNT {
            let e = frontier.entry(to).or_insert(p);
            *e = (*e).min(p);
        }
    }
    for _ in 0..depth {
        if frontier.is_empty() {
            break;
        }
        // Only arrivals earlier than every earlier layer's can reach anything new.
        frontier.retain(|a, at| best.get(a).is_none_or(|b| *at < *b));
        for (&a, &at) in &frontier {
            best.insert(a, at);
        }
        let mut next: FxHashMap<AccountIx, TxIx> = FxHashMap::default();
        for (&a, &at) in &frontier {
            let h = g.history(a);
            for &j in &h[g.position(a, at) + 1..] {
                if j > end {
                    break;
                }
                let to = g.to(j);
                if g.from(j) == a && to != NO_ACCOUNT {
                    let e = next.entry(to).or_insert(j);
                    *e = (*e).min(j);
                }
            }
        }
        frontier = next;
    }
    best.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::tests::{held, ledger};
    use crate::trace::trace;

    #[test]
    fn poison_holds_whole_balances_and_reaches_only_forward_in_time() {
        let g = ledger(
            &["V", "M", "N", "L", "W"],
            &[("M", 500), ("N", 9_000), ("L", 100)],
            &[
                ("t0", 5, "M", "L", 100, "transfer"),
                ("p1", 10, "V", "M", 1_000, "transfer"),
                ("t2", 20, "M", "N", 600, "transfer"),
                ("t3", 30, "M", "", 400, "atm_withdrawal"),
                ("t4", 40, "N", "W", 50, "transfer"),
            ],
        );
        let p = [g.find(10, "p1").unwrap()];
        let t = trace(&g, &p, Rule::Poison, 100);
        // L received from M before the money arrived, so it is not reached.
        assert_eq!(
            held(&g, &t),
            [
                ("M".to_owned(), 400),
                ("N".to_owned(), 9_550),
                ("W".to_owned(), 50)
            ]
        );
        assert_eq!(t.exits.len(), 1);
        assert_eq!(t.exits[0].amount_fen, 400);
        let w = t
            .holdings
            .iter()
            .find(|h| g.name(h.account) == "W")
            .unwrap();
        let path: Vec<&str> = w.paths[0].iter().map(|&i| g.tx_id(i)).collect();
        assert_eq!(path, ["p1", "t2", "t4"]);
    }

    #[test]
    fn depth_bounds_the_plain_reach() {
        let g = ledger(
            &["V", "A", "B", "C"],
            &[],
            &[
                ("p1", 10, "V", "A", 1_000, "transfer"),
                ("t2", 20, "A", "B", 600, "transfer"),
                ("t3", 30, "B", "C", 100, "transfer"),
                ("t4", 40, "C", "D", 50, "transfer"),
                ("t5", 50, "A", "C", 10, "transfer"),
            ],
        );
        let names = |s: FxHashSet<AccountIx>| {
            let mut v: Vec<&str> = s.into_iter().map(|a| g.name(a)).collect();
            v.sort();
            v
        };
        assert_eq!(names(reach_within(&g, &[0], 100, 1)), ["A"]);
        // C is reached in two steps by t5 (too late to pass on by t4) and in three by t3.
        assert_eq!(names(reach_within(&g, &[0], 100, 2)), ["A", "B", "C"]);
        assert_eq!(names(reach_within(&g, &[0], 100, 3)), ["A", "B", "C"]);
        assert_eq!(names(reach_within(&g, &[0], 100, 4)), ["A", "B", "C", "D"]);
    }
}
