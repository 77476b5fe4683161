//! The fund-flow chart of one traced report (资金流向图, M5): who passed the victim's money
//! to whom, how much of it, where it rests and where it left, as a graph the console draws.
//!
//! [`FlowGraph::new`] folds a [`Trace`]'s flows into nodes and edges; [`svg`] draws it. Both
//! are pure and deterministic: the same trace gives the same bytes, so a chart can be cached
//! and compared.
//!
//! **Nodes.** One victim node (column 0) stands for every account that paid one of the
//! report's payments (and for a cash deposit made as a payment, which has no payer). One node
//! per other account the victim's money passed through or rests in, carrying its holding at
//! `as_of`. One exit node per (source node, exit kind, payee): the money leaving by cash,
//! crypto, merchant or to an outside account. An exit is whatever the trace counted as one,
//! so a trace that followed outside accounts (`Edge::Follow`) shows them as account nodes
//! outside the district.
//!
//! **Columns** are the shortest hop distance from the victim (breadth-first over the flow
//! edges); an exit sits one column right of its source. A breadth-first distance means every
//! other edge either goes one column right or is a loop: an edge to the same or an earlier
//! column is flagged `back` and drawn below the chart.
//!
//! **Invariants** (for every rule but poison, tested in `tests/flow.rs`): money is conserved
//! at every account node, money in = money out + holding, loops included, because a loop is
//! drawn as a back edge carrying exactly what went round it. At the victim node, money out =
//! `paid_fen` + money in − holding: what a loop brings back to the victim's own account and
//! what is sent on again is counted on the edges both times, but `paid_fen` counts it once
//! (as the trace does); with nothing coming back, money out is exactly `paid_fen`.
//! Under poison the flows are the transactions that first reached each account and every exit
//! from a reached account, at their whole amounts, and holdings are whole balances: the chart
//! shows where the money could have gone, its amounts are upper bounds and do not add up.
//!
//! **Cap.** Beyond `max_nodes` account nodes the chart keeps every account holding the
//! victim's money (the ones to stop, never hidden), then the accounts that carried the most
//! (holding + money passed on), and folds the rest into one [`NodeKind::Folded`] node per
//! column. Edges are re-summed between the folded endpoints, so every sum above still holds;
//! a transfer between two folded accounts of one column becomes a loop on the folded node, and
//! their exits join one exit per kind without a payee. A column with a single leftover account
//! shows it as itself: an "others" box of one would hide a name and save no room.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::{self, Write as _};

use fanzha_core::mask;
use fanzha_core::money::Money;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::graph::{AccountIx, ExitKind, Graph, TxIx, NO_ACCOUNT};
use crate::rule::Rule;
use crate::trace::Trace;

/// What a node of the chart stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The victim: every account that paid one of the report's payments.
    Victim,
    /// One account the victim's money reached.
    Account(AccountIx),
    /// Accounts of one column folded together by the cap.
    Folded { accounts: usize },
    /// The money leaving the traced system from one source node; the payee where the
    /// transactions name one and the source is not folded.
    Exit {
        kind: ExitKind,
        payee: Option<AccountIx>,
    },
}

/// A node of the chart. Nodes are in column order, then top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowNode {
    /// What it stands for.
    pub kind: NodeKind,
    /// Hop distance from the victim.
    pub column: usize,
    /// Position in its column, from the top.
    pub row: usize,
    /// The victim's money still here at `as_of` (0 for exits and when none).
    pub holding_fen: i64,
    /// Whether the district's data holds every account the node stands for (an exit: its
    /// payee, so a cash exit is not inside).
    pub inside: bool,
    /// The account numbers the node stands for, unmasked: the payers, the account, the
    /// folded accounts, the exit's payee. For the caller's labels, which mask them.
    pub accounts: Vec<String>,
}

/// The victim's money from one node to another, summed over the transactions that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEdge {
    /// Node numbers (positions in [`FlowGraph::nodes`]).
    pub from: usize,
    pub to: usize,
    /// The victim's money on the transactions (the whole transactions under poison).
    pub amount_fen: i64,
    /// The transactions behind the edge, in ledger order.
    pub txs: Vec<TxIx>,
    /// The edge goes to the same or an earlier column: money going round a loop.
    pub back: bool,
}

/// The chart's graph: see the module documentation for its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowGraph {
    /// The trace's rule and cut-off.
    pub rule: Rule,
    pub as_of: i64,
    /// The victim's money the payments brought in, as the trace counted it.
    pub paid_fen: i64,
    /// The victim is node 0.
    pub nodes: Vec<FlowNode>,
    /// Ordered by (from, to); at most one edge per pair.
    pub edges: Vec<FlowEdge>,
    /// How many columns the nodes take (the deepest hop + 1).
    pub columns: usize,
}

/// An endpoint before the cap: the victim, an account by local number, or an exit by kind
/// and payee (`NO_ACCOUNT` for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Victim,
    Account(usize),
    Exit(ExitKind, AccountIx),
}

/// Accounts numbered locally in order of appearance.
struct Locals<'a> {
    victim: &'a FxHashSet<AccountIx>,
    accounts: Vec<AccountIx>,
    index: FxHashMap<AccountIx, usize>,
}

impl Locals<'_> {
    fn end(&mut self, a: AccountIx) -> End {
        if a == NO_ACCOUNT || self.victim.contains(&a) {
            return End::Victim;
        }
        let next = self.accounts.len();
        let k = *self.index.entry(a).or_insert(next);
        if k == next {
            self.accounts.push(a);
        }
        End::Account(k)
    }
}

/// Account ends are numbered 1.. in the breadth-first search, the victim 0.
fn bfs_ix(e: End) -> Option<usize> {
    match e {
        End::Victim => Some(0),
        End::Account(k) => Some(k + 1),
        End::Exit(..) => None,
    }
}

impl FlowGraph {
    /// The chart of trace `t` of `payments` (positions in `g`, the victim's transactions),
    /// showing at most `max_nodes` account nodes besides the ones holding money (module doc).
    pub fn new(g: &Graph, t: &Trace, payments: &[TxIx], max_nodes: usize) -> FlowGraph {
        let victim: FxHashSet<AccountIx> = payments
            .iter()
            .map(|&p| g.from(p))
            .filter(|&a| a != NO_ACCOUNT)
            .collect();
        let mut loc = Locals {
            victim: &victim,
            accounts: Vec::new(),
            index: FxHashMap::default(),
        };
        // Exits come from the trace's exits, not the flows: poison lists them only there,
        // and a trace following outside accounts has flows to them that are not exits.
        let exit_txs: FxHashSet<TxIx> = t.exits.iter().map(|e| e.tx).collect();
        let mut hops = Vec::with_capacity(t.flows.len() + t.exits.len());
        for f in t.flows.iter().filter(|f| !exit_txs.contains(&f.tx)) {
            let (from, to) = (loc.end(g.from(f.tx)), loc.end(g.to(f.tx)));
            hops.push((from, to, f.tx, f.amount_fen));
        }
        for e in &t.exits {
            let from = loc.end(e.account);
            hops.push((from, End::Exit(e.kind, e.to), e.tx, e.amount_fen));
        }
        let held: Vec<(End, i64)> = t
            .holdings
            .iter()
            .map(|h| (loc.end(h.account), h.amount_fen))
            .collect();
        let accs = loc.accounts;
        let n = accs.len();
        let (mut hold, mut victim_hold) = (vec![0i64; n], 0);
        for (e, amount) in held {
            match e {
                End::Account(k) => hold[k] += amount,
                _ => victim_hold += amount,
            }
        }

        let mut adj = vec![Vec::new(); n + 1];
        let mut passed = vec![0i64; n];
        for &(from, to, _, amount) in &hops {
            if let (Some(a), Some(b)) = (bfs_ix(from), bfs_ix(to)) {
                adj[a].push(b);
            }
            if let End::Account(k) = from {
                passed[k] += amount;
            }
        }
        let mut col = vec![usize::MAX; n + 1];
        col[0] = 0;
        let mut queue = VecDeque::from([0usize]);
        while let Some(a) = queue.pop_front() {
            for &b in &adj[a] {
                if col[b] == usize::MAX {
                    col[b] = col[a] + 1;
                    queue.push_back(b);
                }
            }
        }
        // Every account of a trace is reached from a payment; a holding on an account no
        // flow reached (a trace of another graph) is still shown, next to the victim.
        for c in col.iter_mut().filter(|c| **c == usize::MAX) {
            *c = 1;
        }
        let weight: Vec<i64> = (0..n).map(|k| hold[k] + passed[k]).collect();
        let by_weight = |a: &usize, b: &usize| {
            (weight[*b].cmp(&weight[*a]))
                .then_with(|| g.name(accs[*a]).cmp(g.name(accs[*b])))
                .then(accs[*a].cmp(&accs[*b]))
        };
        let last = col.iter().copied().max().unwrap_or(0) + 1;
        let mut by_col = vec![Vec::new(); last + 1];
        for k in 0..n {
            by_col[col[k + 1]].push(k);
        }
        let mut kept = vec![true; n];
        if n > max_nodes {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|a, b| (hold[*b] > 0).cmp(&(hold[*a] > 0)).then(by_weight(a, b)));
            let holders = hold.iter().filter(|&&h| h > 0).count();
            for &k in &order[max_nodes.max(holders)..] {
                kept[k] = false;
            }
            for ks in &by_col {
                if let [k] = ks.iter().filter(|&&k| !kept[k]).collect::<Vec<_>>()[..] {
                    kept[*k] = true;
                }
            }
        }
        let mut exits_by_col = vec![Vec::new(); last + 1];
        for (i, &(from, to, ..)) in hops.iter().enumerate() {
            if let (End::Exit(..), Some(src)) = (to, bfs_ix(from)) {
                exits_by_col[col[src] + 1].push(i);
            }
        }

        let mut rows = vec![0usize; last + 1];
        let mut nodes = Vec::new();
        let names = sorted_names(g, victim.iter().copied());
        let inside = !victim.is_empty() && victim.iter().all(|&a| g.is_inside(a));
        let v = node(NodeKind::Victim, 0, victim_hold, inside, names);
        push(&mut nodes, &mut rows, v);
        let mut acct_node = vec![0usize; n];
        let mut exit_node = FxHashMap::<(usize, ExitKind, AccountIx), usize>::default();
        let node_of = |acct_node: &[usize], e: End| match e {
            End::Account(k) => acct_node[k],
            _ => 0,
        };
        for c in 1..=last {
            let mut here: Vec<usize> = by_col[c].iter().copied().filter(|&k| kept[k]).collect();
            here.sort_by(by_weight);
            for k in here {
                let a = accs[k];
                let names = vec![g.name(a).to_owned()];
                let m = node(NodeKind::Account(a), c, hold[k], g.is_inside(a), names);
                acct_node[k] = push(&mut nodes, &mut rows, m);
            }
            let folded: Vec<usize> = by_col[c].iter().copied().filter(|&k| !kept[k]).collect();
            if !folded.is_empty() {
                let kind = NodeKind::Folded {
                    accounts: folded.len(),
                };
                let holding = folded.iter().map(|&k| hold[k]).sum();
                let inside = folded.iter().all(|&k| g.is_inside(accs[k]));
                let names = sorted_names(g, folded.iter().map(|&k| accs[k]));
                let id = push(&mut nodes, &mut rows, node(kind, c, holding, inside, names));
                for k in folded {
                    acct_node[k] = id;
                }
            }
            // Exits of this column leave from the previous one, whose nodes are numbered.
            let mut exits = BTreeSet::<(usize, ExitKind, &str, AccountIx)>::new();
            for &i in &exits_by_col[c] {
                if let (from, End::Exit(kind, payee), ..) = hops[i] {
                    let from = node_of(&acct_node, from);
                    let payee = shown_payee(&nodes[from], payee);
                    exits.insert((from, kind, g.name(payee), payee));
                }
            }
            for (from, kind, name, payee) in exits {
                let named = payee != NO_ACCOUNT;
                let names = if named { vec![name.to_owned()] } else { vec![] };
                let exit = NodeKind::Exit {
                    kind,
                    payee: named.then_some(payee),
                };
                let m = node(exit, c, 0, named && g.is_inside(payee), names);
                exit_node.insert((from, kind, payee), push(&mut nodes, &mut rows, m));
            }
        }

        let mut sums = BTreeMap::<(usize, usize), (i64, Vec<TxIx>)>::new();
        for &(from, to, tx, amount) in &hops {
            let from = node_of(&acct_node, from);
            let to = match to {
                End::Exit(kind, payee) => {
                    let payee = shown_payee(&nodes[from], payee);
                    exit_node.get(&(from, kind, payee)).copied().unwrap_or(0)
                }
                e => node_of(&acct_node, e),
            };
            let s = sums.entry((from, to)).or_default();
            s.0 += amount;
            s.1.push(tx);
        }
        let edges = sums
            .into_iter()
            .map(|((from, to), (amount_fen, mut txs))| {
                txs.sort_unstable();
                txs.dedup();
                let back = nodes[to].column <= nodes[from].column;
                FlowEdge {
                    from,
                    to,
                    amount_fen,
                    txs,
                    back,
                }
            })
            .collect();
        let columns = nodes.iter().map(|m| m.column).max().unwrap_or(0) + 1;
        FlowGraph {
            rule: t.rule,
            as_of: t.as_of,
            paid_fen: t.paid_fen,
            nodes,
            edges,
            columns,
        }
    }

    /// The money on the edges into node `n`.
    pub fn money_in(&self, n: usize) -> i64 {
        self.sum(|e| e.to == n)
    }

    /// The money on the edges out of node `n`.
    pub fn money_out(&self, n: usize) -> i64 {
        self.sum(|e| e.from == n)
    }

    fn sum(&self, which: impl Fn(&FlowEdge) -> bool) -> i64 {
        self.edges
            .iter()
            .filter(|e| which(e))
            .map(|e| e.amount_fen)
            .sum()
    }

    /// The victim's money still held, over every node.
    pub fn held_fen(&self) -> i64 {
        self.nodes.iter().map(|n| n.holding_fen).sum()
    }

    /// The victim's money that left the traced system, over every exit node.
    pub fn exited_fen(&self) -> i64 {
        self.sum(|e| matches!(self.nodes[e.to].kind, NodeKind::Exit { .. }))
    }
}

/// An exit from a folded node joins the folded node's exit of its kind: naming one payee
/// among many would mislead.
fn shown_payee(source: &FlowNode, payee: AccountIx) -> AccountIx {
    match source.kind {
        NodeKind::Folded { .. } => NO_ACCOUNT,
        _ => payee,
    }
}

fn node(kind: NodeKind, column: usize, holding: i64, inside: bool, accts: Vec<String>) -> FlowNode {
    FlowNode {
        kind,
        column,
        row: 0,
        holding_fen: holding,
        inside,
        accounts: accts,
    }
}

/// Appends a node at the bottom of its column; returns its number.
fn push(nodes: &mut Vec<FlowNode>, rows: &mut [usize], mut m: FlowNode) -> usize {
    m.row = rows[m.column];
    rows[m.column] += 1;
    nodes.push(m);
    nodes.len() - 1
}

fn sorted_names(g: &Graph, accounts: impl Iterator<Item = AccountIx>) -> Vec<String> {
    let mut v: Vec<String> = accounts.map(|a| g.name(a).to_owned()).collect();
    v.sort_unstable();
    v
}

/// What the caller shows on a node: the console supplies masked labels and links.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeText {
    /// The box's label (cut to fit the box; the tooltip keeps it whole).
    pub text: String,
    /// The tooltip.
    pub title: String,
    /// Where a click goes (`http`, `https` or relative; anything else is dropped).
    pub href: Option<String>,
    /// Our stop or freeze is in force on the account: the box is outlined in red.
    pub frozen: bool,
}

/// An exit kind's name as the console shows it.
pub fn exit_name(kind: ExitKind) -> &'static str {
    match kind {
        ExitKind::Cash => "取现",
        ExitKind::Crypto => "虚拟币",
        ExitKind::Merchant => "商户消费",
        ExitKind::Outside => "转出辖区外",
    }
}

/// Labels with account numbers masked to their last four characters and no link: a safe
/// default for callers that wrap it (adding links, frozen marks, their own masking).
pub fn default_label(n: &FlowNode) -> NodeText {
    let masked: Vec<String> = n.accounts.iter().map(|a| mask::card(a)).collect();
    let (text, title) = match n.kind {
        NodeKind::Victim => ("受害人".to_owned(), format!("受害人 {}", masked.join("、"))),
        NodeKind::Account(_) => {
            let text = masked.first().cloned().unwrap_or_default();
            let place = if n.inside { "辖区内" } else { "辖区外" };
            (text.clone(), format!("账户 {text}（{place}）"))
        }
        NodeKind::Folded { accounts } => {
            let text = format!("其他 {accounts} 个账户");
            (text.clone(), format!("{text}：{}", masked.join("、")))
        }
        NodeKind::Exit { kind, .. } => {
            let text = exit_name(kind).to_owned();
            let title = match masked.first() {
                Some(p) => format!("{text} → {p}"),
                None => text.clone(),
            };
            (text, title)
        }
    };
    NodeText {
        text,
        title,
        href: None,
        frozen: false,
    }
}

/// Fen as `¥1,234.56`.
fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

/// Text safe in XML content and attributes: markup escaped, and the control characters
/// XML 1.0 forbids dropped (they would make the whole chart unreadable).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A link only when it cannot run anything: relative, or http(s). A colon before any `/`,
/// `?` or `#` starts a scheme, as a browser reads it.
fn link(href: &str) -> Option<&str> {
    let h = href.trim();
    match h.find([':', '/', '?', '#']) {
        _ if h.is_empty() => None,
        Some(i) if h.as_bytes()[i] == b':' => {
            let scheme = &h[..i];
            (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
                .then_some(h)
        }
        _ => Some(h),
    }
}

/// A coordinate to one decimal, written by integer arithmetic so the bytes never depend on
/// float formatting.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let t = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", t / 10, t % 10)
    }
}

/// Cuts `s` to about `width` pixels at 12 px (CJK characters twice as wide as Latin).
fn fit(s: &str, width: f64) -> String {
    let w = |c: char| if c.is_ascii() { 7.0 } else { 12.5 };
    if s.chars().map(w).sum::<f64>() <= width {
        return s.to_owned();
    }
    let mut used = w('…');
    let mut out = String::new();
    for c in s.chars() {
        used += w(c);
        if used > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

const BOX_W: f64 = 176.0;
const BOX_H: f64 = 60.0;
const COL_GAP: f64 = 136.0;
const ROW_GAP: f64 = 28.0;
/// Wide enough for the legs of back edges beside the first and last columns.
const MARGIN: f64 = 24.0;
/// Below the boxes, the first back edge's lane and the step between lanes; past
/// [`BACK_LANES`] edges share the last lane rather than grow the chart without bound. Each
/// lane's legs keep their own distance from the boxes' sides too.
const BACK_FIRST: f64 = 28.0;
const BACK_STEP: f64 = 16.0;
const BACK_LANES: usize = 8;
const RED: &str = "#c0392b";

/// The chart as a self-contained SVG (no script, no external reference), with `label` naming
/// each node: columns of boxes left to right, each forward edge a cubic Bézier whose width
/// grows with the square root of its amount (1 to 12 px, against the largest edge) and is
/// labelled with the amount, each back edge a dashed path on its own lane below the boxes.
///
/// Colours are presentation attributes, never `style`, so the console's CSP (no inline
/// styles) allows them, and its stylesheet can override them through the classes.
pub fn svg(f: &FlowGraph, label: &dyn Fn(&FlowNode) -> NodeText) -> String {
    let rows = f.nodes.iter().map(|n| n.row + 1).max().unwrap_or(1);
    let cols = f.columns.max(1);
    let left = |n: &FlowNode| MARGIN + n.column as f64 * (BOX_W + COL_GAP);
    let top = |n: &FlowNode| MARGIN + n.row as f64 * (BOX_H + ROW_GAP);
    let width = N(2.0 * MARGIN + cols as f64 * BOX_W + (cols - 1) as f64 * COL_GAP);
    let bottom = MARGIN + rows as f64 * BOX_H + (rows - 1) as f64 * ROW_GAP;
    let backs = f.edges.iter().filter(|e| e.back).count();
    let lane = |k: usize| bottom + BACK_FIRST + BACK_STEP * k.min(BACK_LANES - 1) as f64;
    let band = if backs > 0 {
        lane(backs - 1) + 14.0 - bottom
    } else {
        0.0
    };
    let height = N(bottom + band + MARGIN);

    // Forward edges leave and enter a box spread over its side, in the order of the box at
    // the other end, so that edges do not cross at the box.
    let mut outs = vec![Vec::new(); f.nodes.len()];
    let mut ins = outs.clone();
    for (k, e) in f.edges.iter().enumerate().filter(|(_, e)| !e.back) {
        outs[e.from].push((f.nodes[e.to].row, k));
        ins[e.to].push((f.nodes[e.from].row, k));
    }
    let (mut out_y, mut in_y) = (vec![0.0; f.edges.len()], vec![0.0; f.edges.len()]);
    for (n, (mut o, mut i)) in f.nodes.iter().zip(outs.into_iter().zip(ins)) {
        for (es, ys) in [(&mut o, &mut out_y), (&mut i, &mut in_y)] {
            es.sort_unstable();
            for (j, &(_, k)) in es.iter().enumerate() {
                ys[k] = top(n) + BOX_H * (j + 1) as f64 / (es.len() + 1) as f64;
            }
        }
    }
    let max_amount = f.edges.iter().map(|e| e.amount_fen).fold(1, i64::max) as f64;

    let accounts: usize = (f.nodes.iter())
        .map(|n| match n.kind {
            NodeKind::Account(_) => 1,
            NodeKind::Folded { accounts } => accounts,
            _ => 0,
        })
        .sum();
    let (paid, held, exited) = (yuan(f.paid_fen), yuan(f.held_fen()), yuan(f.exited_fen()));
    let aria = esc(&format!(
        "资金流向图（{}）：受害人转出 {paid}，经 {accounts} 个账户，留存 {held}，流出 {exited}",
        f.rule
    ));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{aria}" font-family="sans-serif">"#
    );
    let mut back_k = 0;
    for (k, e) in f.edges.iter().enumerate() {
        let (a, b) = (&f.nodes[e.from], &f.nodes[e.to]);
        let sw = N((1.0 + 11.0 * (e.amount_fen.max(0) as f64 / max_amount).sqrt()).min(12.0));
        let (d, lx, ly, class, colour, dash) = if e.back {
            // Out of the source's right side, down the gap beside it, along a lane below the
            // boxes and up the gap left of the target: legs in the gaps do not run through
            // the boxes below either end.
            let (x0, y0) = (left(a) + BOX_W, top(a) + BOX_H - 8.0);
            let (x3, y3) = (left(b), top(b) + BOX_H - 8.0);
            let (low, off) = (lane(back_k), 8.0 + 2.0 * back_k.min(BACK_LANES - 1) as f64);
            let (xa, xb, r) = (x0 + off, x3 - off, 8.0);
            back_k += 1;
            let d = path(&[
                ('M', &[x0, y0]),
                ('Q', &[xa, y0, xa, y0 + r]),
                ('V', &[low - r]),
                ('Q', &[xa, low, xa - r, low]),
                ('H', &[xb + r]),
                ('Q', &[xb, low, xb, low - r]),
                ('V', &[y3 + r]),
                ('Q', &[xb, y3, xb + r, y3]),
                ('H', &[x3]),
            ]);
            let dash = r#" stroke-dasharray="6 4""#;
            (d, (xa + xb) / 2.0, low + 12.0, "edge back", "#e67e22", dash)
        } else {
            let (x0, y0, x3, y3) = (left(a) + BOX_W, out_y[k], left(b), in_y[k]);
            let mx = (x0 + x3) / 2.0;
            let d = path(&[('M', &[x0, y0]), ('C', &[mx, y0, mx, y3, x3, y3])]);
            (d, mx, (y0 + y3) / 2.0 - 4.0, "edge", "#4a78c2", "")
        };
        let (from, to, txs, amount) = (e.from, e.to, e.txs.len(), esc(&yuan(e.amount_fen)));
        let note = if e.back { "（回流）" } else { "" };
        let (lx, ly) = (N(lx), N(ly));
        let _ = write!(
            s,
            r##"<g class="{class}" data-edge="{k}" data-from="{from}" data-to="{to}"><title>{amount}，{txs} 笔交易{note}</title><path d="{d}" fill="none" stroke="{colour}" stroke-opacity="0.6" stroke-width="{sw}"{dash}/><text x="{lx}" y="{ly}" font-size="11" text-anchor="middle" fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke">{amount}</text></g>"##
        );
    }
    for (ix, n) in f.nodes.iter().enumerate() {
        let t = label(n);
        let (fill, kind) = match n.kind {
            NodeKind::Victim => ("#eaf2ff", "victim"),
            NodeKind::Account(_) if n.inside => ("#ffffff", "account"),
            NodeKind::Account(_) => ("#f4f4f4", "account outside"),
            NodeKind::Folded { .. } => ("#f0f0f0", "folded"),
            NodeKind::Exit { .. } => ("#fdf2e9", "exit"),
        };
        let frozen = [("#8a8a8a", "1", ""), (RED, "2.5", " frozen")];
        let (stroke, sw, mark) = frozen[usize::from(t.frozen)];
        let href = t.href.as_deref().and_then(link).map(esc);
        if let Some(h) = &href {
            let _ = write!(s, r#"<a href="{h}">"#);
        }
        let (x, y, bw, bh) = (N(left(n)), N(top(n)), N(BOX_W), N(BOX_H));
        let (title, text) = (esc(&t.title), esc(&fit(&t.text, BOX_W - 16.0)));
        let (tx, ty) = (N(left(n) + 8.0), N(top(n) + 20.0));
        let _ = write!(
            s,
            r##"<g class="node {kind}{mark}" data-node="{ix}"><title>{title}</title><rect x="{x}" y="{y}" width="{bw}" height="{bh}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/><text x="{tx}" y="{ty}" font-size="12" font-weight="bold" fill="#222">{text}</text>"##
        );
        // Below the label: the holding, then the frozen mark, each on the next free line.
        let mut line = top(n) + 37.0;
        if n.holding_fen > 0 {
            let (ty, held) = (N(line), esc(&yuan(n.holding_fen)));
            let _ = write!(
                s,
                r##"<text x="{tx}" y="{ty}" font-size="11" fill="#222">留存 {held}</text>"##
            );
            line += 16.0;
        }
        if t.frozen {
            let ty = N(line);
            let _ = write!(
                s,
                r#"<text x="{tx}" y="{ty}" font-size="11" font-weight="bold" fill="{RED}">已冻结</text>"#
            );
        }
        s.push_str(if href.is_some() { "</g></a>" } else { "</g>" });
    }
    s.push_str("</svg>");
    s
}

/// Path data: each command letter with its coordinates.
fn path(commands: &[(char, &[f64])]) -> String {
    let mut d = String::new();
    for (c, xs) in commands {
        d.push(*c);
        for (i, x) in xs.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(d, "{sep}{}", N(*x));
        }
    }
    d
}
