//! Property tests of the tracing invariants (DESIGN.md): for every rule but poison, money is
//! conserved, a holding never exceeds the account's balance, nobody is attributed more than
//! they paid, only later transactions carry money, and poison's reach covers every other
//! rule's. The lazy trace (ledgers only where the money is) is also checked against an
//! eager one that keeps a ledger on every account from the start.

use proptest::prelude::*;

use crate::graph::{Graph, GraphBuilder, NewTx, TxIx, NO_ACCOUNT};
use crate::reach::reach;
use crate::rule::Rule;
use crate::trace::{trace, Ledger, Lot, UNTRACED};

const INSIDE: [&str; 6] = ["A", "B", "C", "D", "E", "V"];

#[derive(Debug, Clone)]
struct Row {
    from: usize,
    to: usize,
    amount: i64,
    channel: usize,
    ts: i64,
}

/// Parties: 0–5 inside, 6 outside, 7 none (cash).
fn party(k: usize) -> Option<&'static str> {
    match k {
        0..=5 => Some(INSIDE[k]),
        6 => Some("X"),
        _ => None,
    }
}

fn build(opening: &[i64], rows: &[Row]) -> Graph {
    let mut b = GraphBuilder::new();
    for (a, &bal) in INSIDE.iter().zip(opening) {
        b.account(a).unwrap();
        b.opening(a, 0, bal).unwrap();
    }
    let ids: Vec<String> = (0..rows.len()).map(|i| format!("t{i:03}")).collect();
    for (r, id) in rows.iter().zip(&ids) {
        let (mut from, mut to) = (party(r.from), party(r.to));
        if from.is_none() && to.is_none() {
            to = Some("A");
        }
        if from == to {
            from = None;
        }
        b.tx(NewTx {
            tx_id: id,
            ts: r.ts,
            from,
            to,
            amount_fen: r.amount,
            channel: [
                "transfer",
                "transfer",
                "transfer",
                "atm_withdrawal",
                "merchant",
            ][r.channel],
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (0usize..8, 0usize..8, 1i64..5_000, 0usize..5, 0i64..60).prop_map(
            |(from, to, amount, channel, ts)| Row {
                from,
                to,
                amount,
                channel,
                ts,
            },
        ),
        1..60,
    )
}

/// The victim's payments: transactions paid by V.
fn payments(g: &Graph) -> Vec<TxIx> {
    let v = g.account("V").unwrap();
    g.history(v)
        .iter()
        .copied()
        .filter(|&i| g.from(i) == v)
        .collect()
}

/// Every account's ledger from the start, every transaction in order.
fn eager(g: &Graph, pays: &[TxIx], rule: Rule, end: TxIx) -> Vec<i64> {
    let n = g.accounts();
    let mut ledgers: Vec<Ledger> = (0..n as u32)
        .map(|a| Ledger::new(rule, g.balance_before(a, 0), 0))
        .collect();
    let mut pieces = Vec::new();
    for i in 0..=end {
        pieces.clear();
        let (from, to, amount) = (g.from(i), g.to(i), g.amount(i));
        if from == to {
            continue;
        }
        match ledgers.get_mut(from as usize) {
            Some(l) if from != NO_ACCOUNT => l.debit(rule, amount, &mut pieces),
            _ => pieces.push(Lot {
                node: UNTRACED,
                amount,
            }),
        }
        if pays.contains(&i) {
            for p in pieces.iter_mut().filter(|p| p.node == UNTRACED) {
                p.node = 0;
            }
        }
        if g.exit(i).is_some() {
            pieces = vec![Lot {
                node: UNTRACED,
                amount,
            }];
        }
        if to != NO_ACCOUNT {
            for &p in &pieces {
                // One victim: every traced lot is the same owner here.
                let node = if p.node == UNTRACED { UNTRACED } else { 0 };
                ledgers[to as usize].credit(
                    rule,
                    Lot {
                        node,
                        amount: p.amount,
                    },
                );
            }
        }
    }
    ledgers
        .iter()
        .map(|l| {
            l.lots
                .iter()
                .filter(|p| p.node != UNTRACED)
                .map(|p| p.amount)
                .sum()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn conserving_rules_keep_the_invariants(
        opening in prop::collection::vec(0i64..3_000, 6),
        rows in rows(),
        cut in 0i64..70,
    ) {
        let g = build(&opening, &rows);
        let pays = payments(&g);
        let end = g.last_at(cut);
        let poison = reach(&g, &pays, cut);
        for rule in [Rule::Fifo, Rule::Lifo, Rule::ProRata, Rule::Libr] {
            let t = trace(&g, &pays, rule, cut);
            prop_assert_eq!(t.held_fen() + t.exited_fen(), t.paid_fen, "{} conserves", rule);
            let paid_in: i64 = pays.iter().filter(|&&p| Some(p) <= end).map(|&p| g.amount(p)).sum();
            prop_assert!(t.paid_fen <= paid_in, "{}: no more than the victim paid", rule);
            for h in &t.holdings {
                prop_assert!(h.amount_fen <= g.balance_at(h.account, end), "{} within balance", rule);
                prop_assert!(g.is_inside(h.account));
                for p in &h.paths {
                    prop_assert_eq!(g.to(*p.last().unwrap()), h.account);
                }
            }
            let paths = t.holdings.iter().flat_map(|h| &h.paths).chain(t.exits.iter().flat_map(|e| &e.paths));
            for p in paths {
                prop_assert!(pays.contains(&p[0]), "{}: a path starts at a payment", rule);
                for w in p.windows(2) {
                    prop_assert!(w[0] < w[1], "{}: only later transactions carry money", rule);
                    prop_assert_eq!(g.to(w[0]), g.from(w[1]));
                }
                for &i in p {
                    prop_assert!(Some(i) <= end);
                    let to = g.to(i);
                    if g.exit(i).is_none() {
                        prop_assert!(poison.first.contains_key(&to), "{}: poison reaches {}", rule, g.name(to));
                    }
                }
            }
            if let Some(end) = end {
                let want = eager(&g, &pays, rule, end);
                let mut got = vec![0i64; g.accounts()];
                for h in &t.holdings {
                    got[h.account as usize] += h.amount_fen;
                }
                prop_assert_eq!(got, want, "{}: lazy and eager ledgers agree", rule);
            }
        }
    }
}
