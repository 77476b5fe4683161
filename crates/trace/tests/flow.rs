//! The fund-flow chart: nodes, columns, edge sums and folding on hand-built ledgers whose
//! answers are worked out in the comments, the SVG's labels, escaping and determinism, and
//! conservation on random ledgers (built the way `src/proptests.rs` builds them).

use fanzha_trace::flow::{default_label, svg, FlowGraph, FlowNode, NodeKind, NodeText};
use fanzha_trace::graph::{Graph, GraphBuilder, NewTx, TxIx};
use fanzha_trace::{trace, trace_with, Edge, ExitKind, Rule};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Row<'a> = (&'a str, i64, &'a str, &'a str, i64, &'a str);

fn ledger(inside: &[&str], opening: &[(&str, i64)], rows: &[Row]) -> Graph {
    let mut b = GraphBuilder::new();
    for a in inside {
        b.account(a).unwrap();
    }
    for &(a, bal) in opening {
        b.opening(a, 0, bal).unwrap();
    }
    for &(id, ts, from, to, amount, channel) in rows {
        b.tx(NewTx {
            tx_id: id,
            ts,
            from: (!from.is_empty()).then_some(from),
            to: (!to.is_empty()).then_some(to),
            amount_fen: amount,
            channel,
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn payments(g: &Graph) -> Vec<TxIx> {
    let v = g.account("V").unwrap();
    g.history(v)
        .iter()
        .copied()
        .filter(|&i| g.from(i) == v)
        .collect()
}

/// The node standing for account `name`.
fn node(f: &FlowGraph, g: &Graph, name: &str) -> usize {
    let a = g.account(name).unwrap();
    f.nodes
        .iter()
        .position(|n| n.kind == NodeKind::Account(a))
        .unwrap_or_else(|| panic!("no node for {name}"))
}

fn exit(f: &FlowGraph, kind: ExitKind, payee: Option<&str>) -> usize {
    f.nodes
        .iter()
        .position(|n| match n.kind {
            NodeKind::Exit { kind: k, .. } => {
                k == kind && n.accounts.first().map(String::as_str) == payee
            }
            _ => false,
        })
        .unwrap_or_else(|| panic!("no {kind:?} exit to {payee:?}"))
}

/// (amount, transaction ids, back) of the edge between two nodes.
fn edge(f: &FlowGraph, g: &Graph, from: usize, to: usize) -> (i64, Vec<String>, bool) {
    let e = f
        .edges
        .iter()
        .find(|e| e.from == from && e.to == to)
        .unwrap_or_else(|| panic!("no edge {from} → {to}"));
    let ids = e.txs.iter().map(|&i| g.tx_id(i).to_owned()).collect();
    (e.amount_fen, ids, e.back)
}

/// The victim pays A 10,000 yuan and B 5,000. A splits into C (6,000) and D (4,000); B adds
/// 3,000 to C (a merge); C withdraws 2,000 in cash and pays the outside account X 4,000 and
/// then 1,000; D sends 1,000 back to A (a loop). Nobody but V had money before, so under
/// FIFO every fen on A–D is the victim's: A holds 1,000 (what came back), B 2,000, C 9,000 −
/// 7,000 = 2,000, D 3,000; 7,000 left (2,000 cash, 5,000 to X).
fn scenario() -> Graph {
    ledger(
        &["V", "A", "B", "C", "D"],
        &[("V", 10_000_000)],
        &[
            ("p1", 10, "V", "A", 1_000_000, "transfer"),
            ("p2", 11, "V", "B", 500_000, "transfer"),
            ("t3", 20, "A", "C", 600_000, "transfer"),
            ("t4", 21, "A", "D", 400_000, "transfer"),
            ("t5", 22, "B", "C", 300_000, "transfer"),
            ("t6", 30, "C", "", 200_000, "atm_withdrawal"),
            ("t7", 31, "C", "X", 400_000, "transfer"),
            ("t8", 32, "D", "A", 100_000, "transfer"),
            ("t9", 34, "C", "X", 100_000, "transfer"),
        ],
    )
}

fn scenario_flow(max_nodes: usize) -> (Graph, FlowGraph) {
    let g = scenario();
    let p = payments(&g);
    let t = trace(&g, &p, Rule::Fifo, 100);
    assert_eq!(t.paid_fen, 1_500_000);
    let f = FlowGraph::new(&g, &t, &p, max_nodes);
    (g, f)
}

#[test]
fn nodes_columns_and_edges_follow_the_money() {
    let (g, f) = scenario_flow(50);
    let (a, b, c, d) = (
        node(&f, &g, "A"),
        node(&f, &g, "B"),
        node(&f, &g, "C"),
        node(&f, &g, "D"),
    );
    let cash = exit(&f, ExitKind::Cash, None);
    let x = exit(&f, ExitKind::Outside, Some("X"));
    assert_eq!(f.nodes[0].kind, NodeKind::Victim);
    assert_eq!(f.nodes[0].accounts, ["V"]);
    assert_eq!(f.nodes.len(), 7, "victim, A–D, cash, X");
    let col = |n: usize| f.nodes[n].column;
    assert_eq!(
        [col(0), col(a), col(b), col(c), col(d), col(cash), col(x)],
        [0, 1, 1, 2, 2, 3, 3]
    );
    assert_eq!(f.columns, 4);
    // A carried more than B (11,000 against 5,000) and sits above it; C above D likewise.
    assert_eq!((f.nodes[a].row, f.nodes[b].row), (0, 1));
    assert_eq!((f.nodes[c].row, f.nodes[d].row), (0, 1));
    let hold = |n: usize| f.nodes[n].holding_fen;
    assert_eq!(
        [hold(a), hold(b), hold(c), hold(d), hold(cash)],
        [100_000, 200_000, 200_000, 300_000, 0]
    );
    assert!(f.nodes[a].inside && !f.nodes[x].inside && !f.nodes[cash].inside);

    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(edge(&f, &g, 0, a), (1_000_000, ids(&["p1"]), false));
    assert_eq!(edge(&f, &g, 0, b), (500_000, ids(&["p2"]), false));
    assert_eq!(edge(&f, &g, a, c), (600_000, ids(&["t3"]), false));
    assert_eq!(edge(&f, &g, a, d), (400_000, ids(&["t4"]), false));
    assert_eq!(
        edge(&f, &g, b, c),
        (300_000, ids(&["t5"]), false),
        "the merge"
    );
    assert_eq!(edge(&f, &g, c, cash), (200_000, ids(&["t6"]), false));
    assert_eq!(
        edge(&f, &g, c, x),
        (500_000, ids(&["t7", "t9"]), false),
        "two payments, one exit"
    );
    assert_eq!(
        edge(&f, &g, d, a),
        (100_000, ids(&["t8"]), true),
        "the loop goes back a column"
    );
    assert_eq!(f.edges.len(), 8);

    assert_eq!(f.money_out(0), f.paid_fen);
    // A: 10,000 in from V and 1,000 back from D = 10,000 out + 1,000 held.
    assert_eq!((f.money_in(a), f.money_out(a)), (1_100_000, 1_000_000));
    for n in [a, b, c, d] {
        assert_eq!(
            f.money_in(n),
            f.money_out(n) + f.nodes[n].holding_fen,
            "node {n}"
        );
    }
    assert_eq!((f.held_fen(), f.exited_fen()), (800_000, 700_000));
}

/// V pays M 100; M passes 10, 20 and 30 to E1, E2 and E3 and keeps 40; E1 passes 5 to E2;
/// each E withdraws what it has (5, 25, 30).
fn fan_out() -> (Graph, FlowGraph, FlowGraph) {
    let g = ledger(
        &["V", "M", "E1", "E2", "E3"],
        &[("V", 100_000)],
        &[
            ("p1", 1, "V", "M", 10_000, "transfer"),
            ("t2", 2, "M", "E1", 1_000, "transfer"),
            ("t3", 3, "M", "E2", 2_000, "transfer"),
            ("t4", 4, "M", "E3", 3_000, "transfer"),
            ("t5", 5, "E1", "E2", 500, "transfer"),
            ("t6", 6, "E1", "", 500, "atm_withdrawal"),
            ("t7", 7, "E2", "", 2_500, "atm_withdrawal"),
            ("t8", 8, "E3", "", 3_000, "atm_withdrawal"),
        ],
    );
    let p = payments(&g);
    let t = trace(&g, &p, Rule::Fifo, 100);
    let two = FlowGraph::new(&g, &t, &p, 2);
    let zero = FlowGraph::new(&g, &t, &p, 0);
    (g, two, zero)
}

#[test]
fn beyond_the_cap_the_lightest_accounts_fold_and_the_sums_still_hold() {
    let (g, f, zero) = fan_out();
    // Weights (held + passed on): M 40 + 60, E3 30, E2 25, E1 10. Two kept: M and E3; E1
    // and E2 share column 2 and fold together.
    let (m, e3) = (node(&f, &g, "M"), node(&f, &g, "E3"));
    let folded: Vec<usize> = (0..f.nodes.len())
        .filter(|&n| matches!(f.nodes[n].kind, NodeKind::Folded { .. }))
        .collect();
    assert_eq!(folded.len(), 1);
    let o = folded[0];
    assert_eq!(f.nodes[o].kind, NodeKind::Folded { accounts: 2 });
    assert_eq!(f.nodes[o].accounts, ["E1", "E2"]);
    assert_eq!((f.nodes[o].column, f.nodes[e3].column), (2, 2));
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(edge(&f, &g, m, e3), (3_000, ids(&["t4"]), false));
    assert_eq!(edge(&f, &g, m, o), (3_000, ids(&["t2", "t3"]), false));
    assert_eq!(
        edge(&f, &g, o, o),
        (500, ids(&["t5"]), true),
        "E1 → E2 inside the fold"
    );
    // The folded accounts' cash joins one exit with no payee; E3's is its own.
    let cash: Vec<usize> = f
        .edges
        .iter()
        .filter(|e| e.to != o && e.from == o)
        .map(|e| e.to)
        .collect();
    assert_eq!(cash.len(), 1);
    assert_eq!(edge(&f, &g, o, cash[0]), (3_000, ids(&["t6", "t7"]), false));
    assert_eq!(
        f.nodes[cash[0]].kind,
        NodeKind::Exit {
            kind: ExitKind::Cash,
            payee: None
        }
    );
    assert_eq!(f.money_in(o), f.money_out(o) + f.nodes[o].holding_fen);
    assert_eq!((f.held_fen(), f.exited_fen()), (4_000, 6_000));

    // A cap of 0 still keeps M, the only holder; three leftovers fold.
    let m0 = node(&zero, &g, "M");
    assert_eq!(zero.nodes[m0].holding_fen, 4_000);
    let kinds: Vec<NodeKind> = zero
        .nodes
        .iter()
        .map(|n| n.kind)
        .filter(|k| matches!(k, NodeKind::Folded { .. }))
        .collect();
    assert_eq!(kinds, [NodeKind::Folded { accounts: 3 }]);
}

#[test]
fn a_single_leftover_in_a_column_keeps_its_own_box() {
    let (g, _, _) = fan_out();
    let p = payments(&g);
    let t = trace(&g, &p, Rule::Fifo, 100);
    // Three of four kept: only E1 is left, alone in its column.
    let f = FlowGraph::new(&g, &t, &p, 3);
    assert!(f
        .nodes
        .iter()
        .all(|n| !matches!(n.kind, NodeKind::Folded { .. })));
    node(&f, &g, "E1");
}

#[test]
fn money_coming_back_to_the_victim_is_an_edge_into_the_victim() {
    // LIFO: V's payment p3 takes the newest money, the 300 that came back from A, so only
    // p1's 1,000 is fresh: paid 1,000, out of V 1,200, back in 300, still on V 100.
    let g = ledger(
        &["V", "A"],
        &[("V", 5_000)],
        &[
            ("p1", 1, "V", "A", 1_000, "transfer"),
            ("t2", 2, "A", "V", 300, "transfer"),
            ("p3", 3, "V", "A", 200, "transfer"),
        ],
    );
    let p = payments(&g);
    let t = trace(&g, &p, Rule::Lifo, 10);
    let f = FlowGraph::new(&g, &t, &p, 10);
    let a = node(&f, &g, "A");
    assert_eq!(f.paid_fen, 1_000);
    assert_eq!(f.nodes[0].holding_fen, 100);
    assert_eq!(edge(&f, &g, 0, a).0, 1_200);
    assert_eq!(edge(&f, &g, a, 0), (300, vec!["t2".to_owned()], true));
    assert_eq!(
        f.money_out(0),
        f.paid_fen + f.money_in(0) - f.nodes[0].holding_fen
    );
    assert_eq!(f.nodes[a].holding_fen, 900);
}

fn console_label(n: &FlowNode) -> NodeText {
    let mut t = default_label(n);
    match n.accounts.first().map(String::as_str) {
        Some("C") => {
            t.text = r#"<b>&"C"</b>"#.to_owned();
            t.href = Some("/console/entities/h-C?x=1&y=2".to_owned());
            t.frozen = true;
        }
        Some("D") => t.href = Some("javascript:alert(1)".to_owned()),
        _ => {}
    }
    t
}

/// The number after `key="` in `s`.
fn attr(s: &str, key: &str) -> f64 {
    let i = s.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
    s[i..].split(['"', ' ']).next().unwrap().parse().unwrap()
}

#[test]
fn the_svg_shows_labels_amounts_and_marks_and_is_stable() {
    let (g, f) = scenario_flow(50);
    let s = svg(&f, &console_label);
    assert_eq!(s, svg(&f, &console_label), "same input, same bytes");
    assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        s.contains(r#"role="img""#)
            && s.contains("aria-label=\"资金流向图（fifo）：受害人转出 ¥15,000.00")
    );
    for text in [
        "受害人",
        "取现",
        "转出辖区外",
        ">****</text>",
        "留存 ¥1,000.00",
        "留存 ¥3,000.00",
        "已冻结",
    ] {
        assert!(s.contains(text), "{text}");
    }
    // Edge amounts and their tooltips: V → A carried 10,000 yuan on one transaction, C → X
    // 5,000 on two.
    assert!(s.contains("<title>¥10,000.00，1 笔交易</title>"));
    assert!(s.contains("<title>¥5,000.00，2 笔交易</title>"));
    assert!(s.contains(">¥6,000.00</text>"));
    assert!(s.contains("<title>¥1,000.00，1 笔交易（回流）</title>"));
    assert_eq!(s.matches(r#"<g class="edge back""#).count(), 1);
    assert_eq!(s.matches("<g class=\"edge").count(), f.edges.len());
    assert_eq!(s.matches("<g class=\"node").count(), f.nodes.len());

    // C's caller text is escaped, its link kept (escaped) around its node, and it alone is
    // outlined as frozen; D's script link is dropped.
    let c = node(&f, &g, "C");
    assert!(s.contains("&lt;b&gt;&amp;&quot;C&quot;&lt;/b&gt;"));
    assert!(!s.contains("<b>"));
    assert!(s.contains(&format!(
        r#"<a href="/console/entities/h-C?x=1&amp;y=2"><g class="node account frozen" data-node="{c}">"#
    )));
    assert_eq!(s.matches("已冻结").count(), 1);
    assert_eq!(s.matches("<a ").count(), 1);
    assert!(!s.contains("javascript"));
    assert_eq!(s.matches("<g").count(), s.matches("</g>").count());
    assert_eq!(s.matches("<a ").count(), s.matches("</a>").count());

    // The canvas holds every box.
    let (w, h) = (attr(&s, "width"), attr(&s, "height"));
    assert!(s.contains(&format!(r#"viewBox="0 0 {w:.1} {h:.1}""#)));
    for r in s.split("<rect ").skip(1) {
        assert!(attr(r, "x") + attr(r, "width") <= w && attr(r, "y") + attr(r, "height") <= h);
    }
}

#[test]
fn default_labels_name_exits_in_chinese_and_mask_accounts() {
    let (g, f) = scenario_flow(50);
    let texts: Vec<String> = f.nodes.iter().map(|n| default_label(n).text).collect();
    assert_eq!(texts[0], "受害人");
    assert!(texts.contains(&"取现".to_owned()) && texts.contains(&"转出辖区外".to_owned()));
    // One-letter test names keep nothing; a card number keeps its last four.
    assert_eq!(texts[node(&f, &g, "A")], "****");
    let card = FlowNode {
        kind: NodeKind::Account(0),
        column: 1,
        row: 0,
        holding_fen: 0,
        inside: false,
        accounts: vec!["6217996377777954233".to_owned()],
    };
    let t = default_label(&card);
    assert_eq!(
        (t.text.as_str(), t.title.as_str()),
        ("**** 4233", "账户 **** 4233（辖区外）")
    );
    let s = svg(&f, &default_label);
    assert!(!s.contains("<a "), "no links by default");
    assert!(!s.contains("已冻结"));
}

#[derive(Debug, Clone)]
struct RandomTx {
    from: usize,
    to: usize,
    amount: i64,
    channel: usize,
    ts: i64,
}

const INSIDE: [&str; 6] = ["A", "B", "C", "D", "E", "V"];

/// Parties: 0–5 inside, 6 outside, 7 none (cash); as in `src/proptests.rs`.
fn random_ledger(opening: &[i64], rows: &[RandomTx]) -> Graph {
    let party = |k: usize| match k {
        0..=5 => Some(INSIDE[k]),
        6 => Some("X"),
        _ => None,
    };
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
        let channel = [
            "transfer",
            "transfer",
            "transfer",
            "atm_withdrawal",
            "merchant",
        ][r.channel];
        b.tx(NewTx {
            tx_id: id,
            ts: r.ts,
            from,
            to,
            amount_fen: r.amount,
            channel,
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn rows() -> impl Strategy<Value = Vec<RandomTx>> {
    prop::collection::vec(
        (0usize..8, 0usize..8, 1i64..5_000, 0usize..5, 0i64..60).prop_map(
            |(from, to, amount, channel, ts)| RandomTx {
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

/// The chart's invariants for one trace (module doc of `flow`); amounts only where the rule
/// conserves money.
fn check(
    g: &Graph,
    t: &fanzha_trace::Trace,
    pays: &[TxIx],
    cap: usize,
) -> Result<(), TestCaseError> {
    let rule = t.rule;
    let f = FlowGraph::new(g, t, pays, cap);
    prop_assert_eq!(svg(&f, &default_label), svg(&f, &default_label));
    for e in &f.edges {
        let (a, b) = (f.nodes[e.from].column, f.nodes[e.to].column);
        prop_assert_eq!(e.back, b <= a);
        prop_assert!(
            e.back || b == a + 1,
            "{}: a forward edge goes one column right",
            rule
        );
        prop_assert!(!e.txs.is_empty() && e.amount_fen > 0);
    }
    let shown = f
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Account(_)))
        .count();
    let folded = f
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Folded { .. }))
        .count();
    // Beyond the cap and the holders, only a column's single leftover shows itself.
    let holders = t.holdings.len();
    prop_assert!(
        folded == 0 || shown <= cap.max(holders) + f.columns,
        "{}: the cap",
        rule
    );
    for h in &t.holdings {
        let victim = f.nodes[0].accounts.iter().any(|a| a == g.name(h.account));
        let shown = f
            .nodes
            .iter()
            .any(|n| n.kind == NodeKind::Account(h.account));
        prop_assert!(victim || shown, "{}: holders are never folded", rule);
    }
    if rule == Rule::Poison {
        return Ok(());
    }
    // Every flow is on exactly one edge, so the sums are the trace's.
    let mut txs: Vec<TxIx> = f.edges.iter().flat_map(|e| e.txs.iter().copied()).collect();
    txs.sort_unstable();
    let want: Vec<TxIx> = t.flows.iter().map(|x| x.tx).collect();
    prop_assert_eq!(txs, want, "{}", rule);
    prop_assert_eq!(f.held_fen(), t.held_fen());
    prop_assert_eq!(f.exited_fen(), t.exited_fen());
    let v = &f.nodes[0];
    prop_assert_eq!(
        f.money_out(0),
        f.paid_fen + f.money_in(0) - v.holding_fen,
        "{}: the victim",
        rule
    );
    if f.money_in(0) == 0 {
        prop_assert_eq!(f.money_out(0), t.paid_fen, "{}: nothing came back", rule);
    }
    for (k, n) in f.nodes.iter().enumerate().skip(1) {
        if !matches!(n.kind, NodeKind::Exit { .. }) {
            prop_assert_eq!(
                f.money_in(k),
                f.money_out(k) + n.holding_fen,
                "{}: node {}",
                rule,
                k
            );
        }
    }
    Ok(())
}

const MULES: [&str; 10] = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9"];

/// Mules with no money of their own passing on what they receive, wholly or half, to each
/// other, cash, an outside account or back to the victim: most hold nothing at the end, so
/// the cap has accounts to fold.
fn drained(moves: &[(usize, usize, bool)]) -> Graph {
    let mut b = GraphBuilder::new();
    for a in MULES.iter().chain(&["V"]) {
        b.account(a).unwrap();
    }
    b.opening("V", 0, 10_000_000).unwrap();
    let ids: Vec<String> = (0..moves.len()).map(|i| format!("t{i:03}")).collect();
    let mut add = |i: usize, from: &str, to: Option<&str>, amount_fen: i64, channel: &str| {
        let (tx_id, ts, from) = (ids[i].as_str(), i as i64, Some(from));
        b.tx(NewTx {
            tx_id,
            ts,
            from,
            to,
            amount_fen,
            channel,
        })
        .unwrap();
    };
    let mut bal = [0i64; 10];
    for (i, &(_, to, _)) in moves.iter().take(3).enumerate() {
        let amount = 100_000 * (i as i64 + 1);
        bal[to % 10] += amount;
        add(i, "V", Some(MULES[to % 10]), amount, "transfer");
    }
    for (i, &(from, to, whole)) in moves.iter().enumerate().skip(3) {
        let Some(src) = (0..10).map(|k| (from + k) % 10).find(|&k| bal[k] > 0) else {
            break;
        };
        let amount = if whole {
            bal[src]
        } else {
            (bal[src] / 2).max(1)
        };
        bal[src] -= amount;
        let (dst, channel) = match to {
            10 => (None, "atm_withdrawal"),
            11 => (Some("X"), "transfer"),
            12 => (Some("V"), "transfer"),
            k => {
                let k = if k % 10 == src { (k + 1) % 10 } else { k % 10 };
                bal[k] += amount;
                (Some(MULES[k]), "transfer")
            }
        };
        add(i, MULES[src], dst, amount, channel);
    }
    b.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_chart_conserves_what_the_trace_conserves(
        opening in prop::collection::vec(0i64..3_000, 6),
        rows in rows(),
        cut in 0i64..70,
        cap in 0usize..6,
        follow in any::<bool>(),
    ) {
        let g = random_ledger(&opening, &rows);
        let pays = payments(&g);
        let edge = if follow { Edge::Follow } else { Edge::Stop };
        for rule in [Rule::Fifo, Rule::Lifo, Rule::ProRata, Rule::Libr, Rule::Poison] {
            check(&g, &trace_with(&g, &pays, rule, cut, edge), &pays, cap)?;
        }
    }

    #[test]
    fn folding_keeps_the_sums_when_mules_pass_everything_on(
        moves in prop::collection::vec((0usize..10, 0usize..13, any::<bool>()), 4..40),
        cap in 0usize..5,
    ) {
        let g = drained(&moves);
        let pays = payments(&g);
        for rule in [Rule::Fifo, Rule::Lifo, Rule::ProRata, Rule::Libr, Rule::Poison] {
            check(&g, &trace(&g, &pays, rule, 1_000), &pays, cap)?;
        }
    }
}
