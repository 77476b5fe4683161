//! Following one report's money forward under a conserving rule (FIFO, LIFO, pro-rata,
//! lowest intermediate balance); poison is [`crate::reach`].
//!
//! Each account that holds the victim's money keeps a *ledger*: the lots of money on it, each
//! either the victim's (tagged with the path of transactions that brought it) or anybody
//! else's (untraced). The rule decides which lots an outflow takes. Ledgers are stepped
//! through the accounts' histories in ledger order by a heap of "next transaction" cursors,
//! so the work is proportional to the histories of the accounts that hold the money, not to
//! the ledger. A ledger starts when the victim's money first arrives, from the account's
//! balance at that moment (one untraced lot), and is dropped when the money has all gone:
//! if some comes back, a new ledger starts from the balance then, which is the same thing
//! because every lot in it would be untraced.
//!
//! Conventions (the simulator's labels follow the same ones, crates/sim/src/labels.rs):
//! - A report's payment puts the victim's money on the payee, whatever the payer held.
//! - An outflow larger than the ledger holds is covered by money of unknown origin.
//! - Cash withdrawals, virtual-currency desks, merchants and payments to outside accounts
//!   are exits: the victim's money leaves there, and a payee the district holds gets
//!   untraced money.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::FxHashMap;

use crate::graph::{AccountIx, ExitKind, Graph, TxIx, NO_ACCOUNT};
use crate::reach;
use crate::rule::Rule;

/// Marks a lot as money that is not the victim's.
pub(crate) const UNTRACED: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lot {
    /// The path node of the victim's money, or [`UNTRACED`].
    pub(crate) node: u32,
    pub(crate) amount: i64,
}

impl Lot {
    fn traced(self) -> bool {
        self.node != UNTRACED
    }
}

/// The paths money took, as a tree: each node is one transaction and points to the node
/// before it; a root is a payment. Extending a path is one push, and lots share prefixes.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    parent: Vec<u32>,
    tx: Vec<TxIx>,
}

impl Paths {
    pub(crate) fn push(&mut self, parent: u32, tx: TxIx) -> u32 {
        self.parent.push(parent);
        self.tx.push(tx);
        (self.tx.len() - 1) as u32
    }

    /// The transactions from the payment to this node.
    pub(crate) fn expand(&self, mut node: u32) -> Vec<TxIx> {
        let mut out = Vec::new();
        while node != UNTRACED {
            out.push(self.tx[node as usize]);
            node = self.parent[node as usize];
        }
        out.reverse();
        out
    }

    /// Distinct paths of these nodes, in order.
    pub(crate) fn expand_all(&self, nodes: impl IntoIterator<Item = u32>) -> Vec<Vec<TxIx>> {
        let mut out: Vec<Vec<TxIx>> = nodes.into_iter().map(|n| self.expand(n)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

pub(crate) const ROOT: u32 = UNTRACED;

/// The victim's money still on one account at the cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub account: AccountIx,
    pub amount_fen: i64,
    /// The transactions that carried it there, from the payment on.
    pub paths: Vec<Vec<TxIx>>,
}

/// The victim's money leaving the traced system on one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The account it left from.
    pub account: AccountIx,
    /// The payee, where there is one (an outside account, a merchant, a desk).
    pub to: AccountIx,
    pub kind: ExitKind,
    pub amount_fen: i64,
    pub tx: TxIx,
    pub paths: Vec<Vec<TxIx>>,
}

/// The victim's money on one transaction: an edge of the fund-flow graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub tx: TxIx,
    pub amount_fen: i64,
}

/// A trace's result. For every rule but poison, `paid_fen` = Σ holdings + Σ exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub rule: Rule,
    pub as_of: i64,
    /// The victim's money the payments brought in (a payment that carries money the victim
    /// already lost, come back round a loop, is not counted twice).
    pub paid_fen: i64,
    pub holdings: Vec<Holding>,
    pub exits: Vec<Exit>,
    /// Every transaction that carried the victim's money, in ledger order (poison: every
    /// transaction by which the reach spread, at its whole amount).
    pub flows: Vec<Flow>,
}

impl Trace {
    pub fn held_fen(&self) -> i64 {
        self.holdings.iter().map(|h| h.amount_fen).sum()
    }

    pub fn exited_fen(&self) -> i64 {
        self.exits.iter().map(|e| e.amount_fen).sum()
    }
}

#[derive(Debug)]
pub(crate) struct Ledger {
    pub(crate) lots: VecDeque<Lot>,
    /// Lowest-intermediate-balance only: the holder's own (untraced) money, which leaves first.
    own: i64,
    /// Position in the account's history of the next transaction to apply.
    next: usize,
}

impl Ledger {
    pub(crate) fn new(rule: Rule, opening: i64, next: usize) -> Ledger {
        let mut l = Ledger {
            lots: VecDeque::new(),
            own: 0,
            next,
        };
        l.credit(
            rule,
            Lot {
                node: UNTRACED,
                amount: opening,
            },
        );
        l
    }

    pub(crate) fn credit(&mut self, rule: Rule, lot: Lot) {
        if lot.amount <= 0 {
            return;
        }
        match rule {
            Rule::Libr if !lot.traced() => self.own += lot.amount,
            Rule::ProRata => match self.lots.iter_mut().find(|l| l.node == lot.node) {
                Some(l) => l.amount += lot.amount,
                None => self.lots.push_back(lot),
            },
            _ => match self.lots.back_mut() {
                Some(b) if b.node == lot.node => b.amount += lot.amount,
                _ => self.lots.push_back(lot),
            },
        }
    }

    /// Takes `amount` out by the rule, appending the pieces to `out`; what the ledger cannot
    /// cover is untraced money of unknown origin.
    pub(crate) fn debit(&mut self, rule: Rule, amount: i64, out: &mut Vec<Lot>) {
        let mut need = amount;
        match rule {
            Rule::ProRata => need = self.debit_pro_rata(need, out),
            _ => {
                if rule == Rule::Libr {
                    let own = need.min(self.own);
                    self.own -= own;
                    need -= own;
                    push_piece(out, UNTRACED, own);
                }
                while need > 0 {
                    let lot = if rule == Rule::Lifo {
                        self.lots.back_mut()
                    } else {
                        self.lots.front_mut()
                    };
                    let Some(lot) = lot else { break };
                    let take = need.min(lot.amount);
                    lot.amount -= take;
                    need -= take;
                    push_piece(out, lot.node, take);
                    if lot.amount == 0 {
                        if rule == Rule::Lifo {
                            self.lots.pop_back();
                        } else {
                            self.lots.pop_front();
                        }
                    }
                }
            }
        }
        push_piece(out, UNTRACED, need);
    }

    /// The outflow is split between the victim's money and everybody else's by their
    /// totals, then the victim's part among its lots (paths); both to the fen by largest
    /// remainder, so the pieces sum to the outflow exactly and the victim's share does not
    /// depend on how many paths brought the money. Returns what the ledger could not cover.
    fn debit_pro_rata(&mut self, need: i64, out: &mut Vec<Lot>) -> i64 {
        let total: i64 = self.lots.iter().map(|l| l.amount).sum();
        if need >= total {
            for l in self.lots.drain(..) {
                push_piece(out, l.node, l.amount);
            }
            return need - total;
        }
        let traced: i64 = self
            .lots
            .iter()
            .filter(|l| l.traced())
            .map(|l| l.amount)
            .sum();
        let split = largest_remainder(need, [traced, total - traced]);
        let victim = largest_remainder(
            split[0],
            self.lots
                .iter()
                .map(|l| if l.traced() { l.amount } else { 0 }),
        );
        for (l, v) in self.lots.iter_mut().zip(victim) {
            let take = if l.traced() { v } else { split[1] };
            l.amount -= take;
            push_piece(out, l.node, take);
        }
        self.lots.retain(|l| l.amount > 0);
        0
    }

    fn holds_traced(&self) -> bool {
        self.lots.iter().any(|l| l.traced() && l.amount > 0)
    }
}

/// Appends a piece, merged only with the one before it: the order of the pieces is the
/// order the payee's ledger receives them in, which FIFO and LIFO depend on.
fn push_piece(out: &mut Vec<Lot>, node: u32, amount: i64) {
    if amount <= 0 {
        return;
    }
    match out.last_mut() {
        Some(p) if p.node == node => p.amount += amount,
        _ => out.push(Lot { node, amount }),
    }
}

/// Splits `total` in proportion to `weights` to the unit, by the largest-remainder method;
/// ties go to the earlier weight. `total` must not exceed the weights' sum for the shares
/// to stay within their weights.
pub fn largest_remainder(total: i64, weights: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let weights: Vec<i64> = weights.into_iter().map(|w| w.max(0)).collect();
    let sum: i128 = weights.iter().map(|&w| w as i128).sum();
    if sum == 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut rems: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    let mut given: i64 = 0;
    for (k, &w) in weights.iter().enumerate() {
        let exact = total as i128 * w as i128;
        let q = (exact / sum) as i64;
        shares.push(q);
        given += q;
        rems.push((exact % sum, k));
    }
    rems.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, k) in rems.iter().take((total - given) as usize) {
        shares[k] += 1;
    }
    shares
}

struct Run<'g> {
    g: &'g Graph,
    rule: Rule,
    end: TxIx,
    edge: Edge,
    payments: Vec<TxIx>,
    ledgers: FxHashMap<AccountIx, Ledger>,
    heap: BinaryHeap<Reverse<(TxIx, AccountIx)>>,
    paths: Paths,
    paid: i64,
    exits: Vec<Exit>,
    flows: Vec<Flow>,
    pieces: Vec<Lot>,
}

/// Follows the payments (positions in `g`) forward to `as_of` under `rule`.
pub fn trace(g: &Graph, payments: &[TxIx], rule: Rule, as_of: i64) -> Trace {
    trace_with(g, payments, rule, as_of, Edge::Stop)
}

/// What a trace does at a payment to an account outside the district's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The money has left the district's view: an `outside` exit (the product's rule).
    Stop,
    /// Follow it on where the data shows the outside account paying on, as the simulator's
    /// labels do; for checking the engine against them, not for orders, because an outside
    /// account's history in the district's data is partial.
    Follow,
}

/// [`trace`], with the district's edge handled as `edge` says.
pub fn trace_with(g: &Graph, payments: &[TxIx], rule: Rule, as_of: i64, edge: Edge) -> Trace {
    if rule == Rule::Poison {
        return reach::reach(g, payments, as_of).into_trace(g, as_of);
    }
    let empty = Trace {
        rule,
        as_of,
        paid_fen: 0,
        holdings: Vec::new(),
        exits: Vec::new(),
        flows: Vec::new(),
    };
    let Some(end) = g.last_at(as_of) else {
        return empty;
    };
    let mut payments: Vec<TxIx> = payments.iter().copied().filter(|&p| p <= end).collect();
    payments.sort_unstable();
    payments.dedup();
    let mut run = Run {
        g,
        rule,
        end,
        edge,
        heap: payments.iter().map(|&p| Reverse((p, g.to(p)))).collect(),
        payments,
        ledgers: FxHashMap::default(),
        paths: Paths::default(),
        paid: 0,
        exits: Vec::new(),
        flows: Vec::new(),
        pieces: Vec::new(),
    };
    let mut last = None;
    while let Some(Reverse((i, a))) = run.heap.pop() {
        if last == Some(i) {
            continue;
        }
        let due = run.is_payment(i)
            || run
                .ledgers
                .get(&a)
                .is_some_and(|l| g.history(a).get(l.next) == Some(&i));
        if due {
            last = Some(i);
            run.apply(i);
        }
    }
    run.finish(empty)
}

impl Run<'_> {
    fn is_payment(&self, i: TxIx) -> bool {
        self.payments.binary_search(&i).is_ok()
    }

    /// Moves the account's cursor past `i` and queues its next transaction.
    fn advance(&mut self, a: AccountIx, i: TxIx) {
        let Some(l) = self.ledgers.get_mut(&a) else {
            return;
        };
        let h = self.g.history(a);
        if h.get(l.next) == Some(&i) {
            l.next += 1;
            if let Some(&j) = h.get(l.next) {
                if j <= self.end {
                    self.heap.push(Reverse((j, a)));
                }
            }
        }
    }

    fn apply(&mut self, i: TxIx) {
        let g = self.g;
        let (from, to, amount) = (g.from(i), g.to(i), g.amount(i));
        let mut pieces = std::mem::take(&mut self.pieces);
        pieces.clear();
        match self.ledgers.get_mut(&from) {
            Some(l) => l.debit(self.rule, amount, &mut pieces),
            None => push_piece(&mut pieces, UNTRACED, amount),
        }
        self.advance(from, i);
        if self.ledgers.get(&from).is_some_and(|l| !l.holds_traced()) {
            self.ledgers.remove(&from);
        }
        // Each traced piece's path goes one transaction further.
        for p in pieces.iter_mut().filter(|p| p.traced()) {
            p.node = self.paths.push(p.node, i);
        }
        if self.is_payment(i) {
            // The payment's untraced part is the victim's fresh money; a part already
            // traced is the victim's money come back round, not counted twice.
            let mut root = None;
            for p in pieces.iter_mut().filter(|p| !p.traced()) {
                p.node = *root.get_or_insert_with(|| self.paths.push(ROOT, i));
                self.paid += p.amount;
            }
        }
        let traced: i64 = pieces.iter().filter(|p| p.traced()).map(|p| p.amount).sum();
        if traced > 0 {
            self.flows.push(Flow {
                tx: i,
                amount_fen: traced,
            });
        }
        let exit = g
            .exit(i)
            .filter(|&k| !(k == ExitKind::Outside && self.edge == Edge::Follow));
        match exit {
            Some(kind) => {
                if traced > 0 {
                    self.exits.push(Exit {
                        account: from,
                        to,
                        kind,
                        amount_fen: traced,
                        tx: i,
                        paths: pieces
                            .iter()
                            .filter(|p| p.traced())
                            .map(|p| self.paths.expand(p.node))
                            .collect(),
                    });
                }
                // A payee the district holds still receives the money, as its own.
                if let Some(l) = self.ledgers.get_mut(&to) {
                    l.credit(
                        self.rule,
                        Lot {
                            node: UNTRACED,
                            amount,
                        },
                    );
                }
                self.advance(to, i);
            }
            None if to != NO_ACCOUNT => {
                if traced > 0 && !self.ledgers.contains_key(&to) {
                    let pos = g.position(to, i);
                    let opening = g.balance_before(to, pos);
                    self.ledgers
                        .insert(to, Ledger::new(self.rule, opening, pos));
                }
                if let Some(l) = self.ledgers.get_mut(&to) {
                    for &p in &pieces {
                        l.credit(self.rule, p);
                    }
                }
                self.advance(to, i);
            }
            None => {}
        }
        self.pieces = pieces;
    }

    fn finish(self, mut out: Trace) -> Trace {
        let mut holdings: Vec<Holding> = self
            .ledgers
            .iter()
            .filter_map(|(&a, l)| {
                let traced = l.lots.iter().filter(|p| p.traced());
                let amount: i64 = traced.clone().map(|p| p.amount).sum();
                (amount > 0).then(|| Holding {
                    account: a,
                    amount_fen: amount,
                    paths: self.paths.expand_all(traced.map(|p| p.node)),
                })
            })
            .collect();
        holdings.sort_unstable_by(|a, b| {
            b.amount_fen
                .cmp(&a.amount_fen)
                .then_with(|| self.g.name(a.account).cmp(self.g.name(b.account)))
        });
        let mut exits = self.exits;
        for e in &mut exits {
            e.paths.sort_unstable();
            e.paths.dedup();
        }
        out.paid_fen = self.paid;
        out.holdings = holdings;
        out.exits = exits;
        out.flows = self.flows;
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::graph::tests::tx;
    use crate::graph::GraphBuilder;

    /// A ledger from `(id, ts, from, to, amount, channel)` rows; accounts named in `inside`
    /// are the district's, `opening` gives balances at time 0.
    pub(crate) fn ledger(
        inside: &[&str],
        opening: &[(&str, i64)],
        rows: &[(&str, i64, &str, &str, i64, &str)],
    ) -> Graph {
        let mut b = GraphBuilder::new();
        for a in inside {
            b.account(a).unwrap();
        }
        for &(a, bal) in opening {
            b.opening(a, 0, bal).unwrap();
        }
        for &(id, ts, from, to, amount, channel) in rows {
            b.tx(tx(id, ts, from, to, amount, channel)).unwrap();
        }
        b.finish().unwrap()
    }

    pub(crate) fn held(g: &Graph, t: &Trace) -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = t
            .holdings
            .iter()
            .map(|h| (g.name(h.account).to_owned(), h.amount_fen))
            .collect();
        v.sort();
        v
    }

    fn ids(g: &Graph, path: &[TxIx]) -> Vec<String> {
        path.iter().map(|&i| g.tx_id(i).to_owned()).collect()
    }

    /// The victim V pays 1,000 to M, which already holds 500 of its holder's money; M then
    /// sends 600 to N and 400 to cash, and later receives 300 more from its holder.
    fn commingled() -> Graph {
        ledger(
            &["V", "M", "N", "H"],
            &[("V", 5_000), ("M", 500), ("H", 5_000)],
            &[
                ("p1", 10, "V", "M", 1_000, "transfer"),
                ("t2", 20, "M", "N", 600, "transfer"),
                ("t3", 30, "M", "", 400, "atm_withdrawal"),
                ("t4", 40, "H", "M", 300, "transfer"),
            ],
        )
    }

    #[test]
    fn each_rule_splits_commingled_money_its_own_way() {
        let g = commingled();
        let p = [g.find(10, "p1").unwrap()];
        /// A rule, the holdings it leaves and what it lets exit.
        type Case<'a> = (Rule, &'a [(&'a str, i64)], i64);
        let expect: [Case; 4] = [
            // FIFO: the 500 of own money leaves first, in the 600 to N.
            (Rule::Fifo, &[("M", 500), ("N", 100)], 400),
            // LIFO: the victim's 1,000 is newest: 600 to N, 400 to cash.
            (Rule::Lifo, &[("N", 600)], 400),
            // Pro-rata: 2/3 of each outflow is the victim's: 400 to N, 267 to cash.
            (Rule::ProRata, &[("M", 333), ("N", 400)], 267),
            // Lowest intermediate balance: own money first (500 of the 600), the victim's
            // 900 is then cut to 500 by the cash; the 300 later does not refill it.
            (Rule::Libr, &[("M", 500), ("N", 100)], 400),
        ];
        for (rule, holdings, exited) in expect {
            let t = trace(&g, &p, rule, 100);
            let want: Vec<(String, i64)> =
                holdings.iter().map(|&(a, v)| (a.to_owned(), v)).collect();
            assert_eq!(held(&g, &t), want, "{rule}");
            assert_eq!(t.exited_fen(), exited, "{rule}");
            assert_eq!(t.paid_fen, 1_000);
            assert_eq!(t.held_fen() + t.exited_fen(), t.paid_fen, "{rule}");
        }
    }

    #[test]
    fn paths_and_exits_name_the_transactions() {
        let g = commingled();
        let t = trace(&g, &[0], Rule::Lifo, 100);
        let n = &t.holdings[0];
        assert_eq!(g.name(n.account), "N");
        assert_eq!(n.paths.len(), 1);
        assert_eq!(ids(&g, &n.paths[0]), ["p1", "t2"]);
        let e = &t.exits[0];
        assert_eq!(
            (e.kind, e.amount_fen, g.tx_id(e.tx)),
            (ExitKind::Cash, 400, "t3")
        );
        assert_eq!(ids(&g, &e.paths[0]), ["p1", "t3"]);
        assert_eq!(g.name(e.account), "M");
        assert_eq!(e.to, NO_ACCOUNT);
    }

    #[test]
    fn the_cut_off_stops_the_trace_in_time() {
        let g = commingled();
        let t = trace(&g, &[0], Rule::Fifo, 15);
        assert_eq!(held(&g, &t), [("M".to_owned(), 1_000)]);
        assert!(t.exits.is_empty());
        let t = trace(&g, &[0], Rule::Fifo, 5);
        assert_eq!(t.paid_fen, 0, "the payment is after the cut-off");
    }

    #[test]
    fn outflows_beyond_the_known_money_are_of_unknown_origin() {
        // M had no opening balance: the 1,500 out covers the victim's 1,000 and 500 more.
        let g = ledger(
            &["V", "M", "N"],
            &[],
            &[
                ("p1", 10, "V", "M", 1_000, "transfer"),
                ("t2", 20, "M", "N", 1_500, "transfer"),
                ("t3", 30, "N", "Z", 200, "transfer"),
            ],
        );
        for rule in [Rule::Fifo, Rule::Lifo, Rule::ProRata, Rule::Libr] {
            let t = trace(&g, &[0], rule, 100);
            assert_eq!(t.held_fen() + t.exited_fen(), 1_000, "{rule}");
            assert!(t.exits.iter().all(|e| e.kind == ExitKind::Outside));
        }
        let t = trace(&g, &[0], Rule::Fifo, 100);
        assert_eq!(held(&g, &t), [("N".to_owned(), 800)]);
        assert_eq!(t.exited_fen(), 200, "Z is outside the district");
    }

    #[test]
    fn money_round_a_loop_is_not_counted_twice() {
        let g = ledger(
            &["V", "M", "N"],
            &[],
            &[
                ("p1", 10, "V", "M", 1_000, "transfer"),
                ("t2", 20, "M", "N", 1_000, "transfer"),
                ("t3", 30, "N", "M", 700, "transfer"),
                ("t4", 40, "M", "N", 200, "transfer"),
            ],
        );
        let t = trace(&g, &[0], Rule::Fifo, 100);
        assert_eq!(held(&g, &t), [("M".to_owned(), 500), ("N".to_owned(), 500)]);
        let m = t
            .holdings
            .iter()
            .find(|h| g.name(h.account) == "M")
            .unwrap();
        assert_eq!(ids(&g, &m.paths[0]), ["p1", "t2", "t3"]);
        assert_eq!(t.flows.len(), 4);
    }

    #[test]
    fn largest_remainder_sums_exactly_and_breaks_ties_to_the_earlier() {
        assert_eq!(largest_remainder(10, [1, 1, 1]), [4, 3, 3]);
        assert_eq!(largest_remainder(2, [1, 1, 1]), [1, 1, 0]);
        assert_eq!(largest_remainder(0, [5, 5]), [0, 0]);
        assert_eq!(largest_remainder(7, [0, 0]), [0, 0]);
        let s = largest_remainder(1_000_003, [333, 333, 334]);
        assert_eq!(s.iter().sum::<i64>(), 1_000_003);
    }
}
