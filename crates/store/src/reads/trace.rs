//! Statements of the fund-tracing reads (issue 6): reports with their payments, and the
//! opening balances. Transactions and accounts come through the event scan.

use super::{Builder, Cell, Rows, Stmt};
use crate::orders::{Case, NewCase, NewOrder, NewRound, Order, OrderChange, OrderFilter, Round};
use crate::view::Scope;
use crate::{Backend, ExternalFreeze, ReportPayments, Result, StoreError};
use fanzha_core::schema::ColType::{Int as I, Text as T};

/// Reports (one, or all in scope) with each payment and the payment's time.
pub(crate) fn report_payments(backend: Backend, scope: &Scope, report: Option<&str>) -> Stmt {
    let mut b = Builder::new(backend, scope);
    let one = match report {
        Some(r) => format!("r.report_id = {}", b.text(r)),
        None => "1 = 1".to_owned(),
    };
    let rin = b.report_in("r");
    let order = b.bytewise("r.report_id");
    let tx = b.bytewise("p.tx_id");
    b.finish(
        format!(
            "SELECT r.report_id, r.ts, r.victim_id, r.loss_fen, r.typology, p.tx_id, t.ts \
             FROM reports r LEFT JOIN report_payments p ON p.report_id = r.report_id \
             LEFT JOIN transactions t ON t.tx_id = p.tx_id \
             WHERE {one} AND {rin} ORDER BY {order}, {tx}"
        ),
        &[T, I, T, I, T, T, I],
    )
}

pub(crate) fn assemble_reports(rows: Rows) -> Result<Vec<ReportPayments>> {
    let mut out: Vec<ReportPayments> = Vec::new();
    for row in rows {
        let mut c = row.into_iter();
        let mut next = || c.next().unwrap_or(Cell::Null);
        let id = next()
            .into_text()
            .ok_or_else(|| StoreError::Corrupt("a report without an id".into()))?;
        let (ts, victim, loss, typology) = (next(), next(), next(), next());
        let (tx, tx_ts) = (next(), next());
        if out.last().is_none_or(|r| r.report_id != id) {
            out.push(ReportPayments {
                report_id: id,
                ts: ts.int().unwrap_or(0),
                victim_id: victim.into_text().unwrap_or_default(),
                loss_fen: loss.int().unwrap_or(0),
                typology: typology.into_text().unwrap_or_default(),
                payments: Vec::new(),
            });
        }
        if let (Some(r), Some(tx)) = (out.last_mut(), tx.into_text()) {
            r.payments.push((tx, tx_ts.int()));
        }
    }
    Ok(out)
}

/// Every opening balance.
pub(crate) fn balances(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT account_id, as_of, balance_fen FROM balances".to_owned(),
        &[T, I, I],
    )
}

pub(crate) fn assemble_balances(rows: Rows) -> Vec<(String, i64, i64)> {
    rows.into_iter()
        .filter_map(|row| {
            let mut c = row.into_iter();
            let a = c.next()?.into_text()?;
            let as_of = c.next()?.int()?;
            let bal = c.next()?.int()?;
            Some((a, as_of, bal))
        })
        .collect()
}

/// The accounts a report's money can reach in at most `depth` transactions, each later (by
/// time, then id) than the one before, up to `as_of`: the recursive query an analyst would
/// write. Kept as the reference the in-memory reach is checked and measured against.
pub(crate) fn reach(backend: Backend, report: &str, as_of: i64, depth: u32) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let (r, cut, d) = (b.text(report), b.int(as_of), b.int(i64::from(depth)));
    let (tid, rid) = (b.bytewise("t.tx_id"), b.bytewise("r.tx_id"));
    b.finish(
        format!(
            "WITH RECURSIVE r(account, ts, tx_id, depth) AS ( \
               SELECT t.to_account, t.ts, t.tx_id, 1 FROM report_payments p \
               JOIN transactions t ON t.tx_id = p.tx_id \
               WHERE p.report_id = {r} AND t.to_account IS NOT NULL AND t.ts <= {cut} \
             UNION \
               SELECT t.to_account, t.ts, t.tx_id, r.depth + 1 FROM r \
               JOIN transactions t ON t.from_account = r.account \
               WHERE r.depth < {d} AND t.to_account IS NOT NULL AND t.to_account <> t.from_account \
                 AND t.ts <= {cut} AND (t.ts > r.ts OR (t.ts = r.ts AND {tid} > {rid})) \
             ) SELECT DISTINCT account FROM r"
        ),
        &[T],
    )
}

pub(crate) fn assemble_accounts(rows: Rows) -> Vec<String> {
    rows.into_iter()
        .filter_map(|row| row.into_iter().next()?.into_text())
        .collect()
}

/// Other authorities' measures, on one account or all, in registration order.
pub(crate) fn external_freezes(backend: Backend, account: Option<&str>) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let one = match account {
        Some(a) => format!("account_id = {}", b.text(a)),
        None => "1 = 1".to_owned(),
    };
    let (acc, auth) = (b.bytewise("account_id"), b.bytewise("authority"));
    b.finish(
        format!(
            "SELECT account_id, authority, measure, amount_fen, registered_at, expires_at, \
             document_no FROM external_freezes WHERE {one} \
             ORDER BY {acc}, registered_at, {auth}, measure"
        ),
        &[T, T, T, I, I, I, T],
    )
}

pub(crate) fn assemble_external_freezes(rows: Rows) -> Vec<ExternalFreeze> {
    rows.into_iter()
        .filter_map(|row| {
            let mut c = row.into_iter();
            Some(ExternalFreeze {
                account_id: c.next()?.into_text()?,
                authority: c.next()?.into_text()?,
                measure: c.next()?.into_text()?,
                amount_fen: c.next()?.int(),
                registered_at: c.next()?.int()?,
                expires_at: c.next()?.int(),
                document_no: c.next()?.into_text(),
            })
        })
        .collect()
}

// ---- cases and orders ----

const CASE_COLS: &str = "case_id, filing_no, filed_at, major, report_ids, filed_by, created_at";
const CASE_TYPES: &[fanzha_core::schema::ColType] = &[T, T, I, I, T, T, I];

pub(crate) fn case_add(backend: Backend, c: &NewCase) -> Result<Stmt> {
    let reports = c.report_ids.join("|");
    super::risk::refuse_nul([c.case_id.as_str(), &c.filing_no, &reports, &c.filed_by])?;
    let mut b = Builder::new(backend, &Scope::All);
    let vals = [
        b.text(&c.case_id),
        b.text(&c.filing_no),
        b.int(c.filed_at),
        b.int(i64::from(c.major)),
        b.text(&reports),
        b.text(&c.filed_by),
        b.int(c.created_at),
    ]
    .join(", ");
    Ok(b.finish(
        format!(
            "INSERT INTO trace_cases ({CASE_COLS}) VALUES ({vals}) \
             ON CONFLICT (case_id) DO NOTHING RETURNING case_id"
        ),
        &[T],
    ))
}

pub(crate) fn case_get(backend: Backend, case_id: &str) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let id = b.text(case_id);
    b.finish(
        format!("SELECT {CASE_COLS} FROM trace_cases WHERE case_id = {id}"),
        CASE_TYPES,
    )
}

/// Every case filed here, newest first.
pub(crate) fn cases(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        format!("SELECT {CASE_COLS} FROM trace_cases ORDER BY filed_at DESC, case_id"),
        CASE_TYPES,
    )
}

pub(crate) fn assemble_cases(rows: Rows) -> Vec<Case> {
    rows.into_iter().filter_map(case_of).collect()
}

pub(crate) fn assemble_case(rows: Rows) -> Option<Case> {
    case_of(rows.into_iter().next()?)
}

fn case_of(row: Vec<Cell>) -> Option<Case> {
    let mut c = row.into_iter();
    Some(Case {
        case_id: c.next()?.into_text()?,
        filing_no: c.next()?.into_text()?,
        filed_at: c.next()?.int()?,
        major: c.next()?.int()? != 0,
        report_ids: c
            .next()?
            .into_text()?
            .split('|')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        filed_by: c.next()?.into_text()?,
        created_at: c.next()?.int()?,
    })
}

const ORDER_COLS: &str = "id, kind, account_id, report_id, case_id, amount_fen, basis, reason, \
    level, created_by, created_at, round_id, status, document_no, approved_by, approved_at, \
    answered_at, answer, held_fen, effective_at, expires_at, updated_at, disposed_at, disposition";
const ORDER_TYPES: &[fanzha_core::schema::ColType] = &[
    I, T, T, T, T, I, T, T, T, T, I, I, T, T, T, I, I, T, I, I, I, I, I, T,
];

pub(crate) fn order_add(backend: Backend, o: &NewOrder) -> Result<Stmt> {
    super::risk::refuse_nul(
        [
            o.kind.as_str(),
            &o.account_id,
            &o.basis,
            &o.level,
            &o.created_by,
        ]
        .into_iter()
        .chain(o.report_id.as_deref())
        .chain(o.case_id.as_deref())
        .chain(o.reason.as_deref()),
    )?;
    let mut b = Builder::new(backend, &Scope::All);
    let opt = |b: &mut Builder, v: &Option<String>| match v {
        Some(s) => b.text(s),
        None => "CAST(NULL AS TEXT)".to_owned(),
    };
    let vals = [
        b.text(&o.kind),
        b.text(&o.account_id),
        opt(&mut b, &o.report_id),
        opt(&mut b, &o.case_id),
        b.int(o.amount_fen),
        b.text(&o.basis),
        opt(&mut b, &o.reason),
        b.text(&o.level),
        b.text(&o.created_by),
        b.int(o.created_at),
        match o.round_id {
            Some(r) => b.int(r),
            None => "CAST(NULL AS BIGINT)".to_owned(),
        },
        b.text("draft"),
        b.int(o.created_at),
    ]
    .join(", ");
    Ok(b.finish(
        format!(
            "INSERT INTO trace_orders (kind, account_id, report_id, case_id, amount_fen, basis, \
             reason, level, created_by, created_at, round_id, status, updated_at) \
             VALUES ({vals}) RETURNING id"
        ),
        &[I],
    ))
}

/// The orders a filter matches on accounts within the scope, oldest first.
pub(crate) fn orders(backend: Backend, scope: &Scope, f: &OrderFilter) -> Stmt {
    let mut b = Builder::new(backend, scope);
    let mut cond = vec![b.account_id_in("o.account_id")];
    if let Some(id) = f.id {
        cond.push(format!("o.id = {}", b.int(id)));
    }
    for (col, v) in [
        ("o.account_id", &f.account),
        ("o.case_id", &f.case),
        ("o.report_id", &f.report),
        ("o.status", &f.status),
    ] {
        if let Some(v) = v {
            cond.push(format!("{col} = {}", b.text(v)));
        }
    }
    let cols = ORDER_COLS
        .split(", ")
        .map(|c| format!("o.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    b.finish(
        format!(
            "SELECT {cols} FROM trace_orders o WHERE {} ORDER BY o.created_at, o.id",
            cond.join(" AND ")
        ),
        ORDER_TYPES,
    )
}

pub(crate) fn assemble_orders(rows: Rows) -> Vec<Order> {
    rows.into_iter()
        .filter_map(|row| {
            let mut c = row.into_iter();
            let id = c.next()?.int()?;
            let new = NewOrder {
                kind: c.next()?.into_text()?,
                account_id: c.next()?.into_text()?,
                report_id: c.next()?.into_text(),
                case_id: c.next()?.into_text(),
                amount_fen: c.next()?.int()?,
                basis: c.next()?.into_text()?,
                reason: c.next()?.into_text(),
                level: c.next()?.into_text()?,
                created_by: c.next()?.into_text()?,
                created_at: c.next()?.int()?,
                round_id: c.next()?.int(),
            };
            Some(Order {
                id,
                new,
                status: c.next()?.into_text()?,
                document_no: c.next()?.into_text(),
                approved_by: c.next()?.into_text(),
                approved_at: c.next()?.int(),
                answered_at: c.next()?.int(),
                answer: c.next()?.into_text(),
                held_fen: c.next()?.int(),
                effective_at: c.next()?.int(),
                expires_at: c.next()?.int(),
                updated_at: c.next()?.int()?,
                disposed_at: c.next()?.int(),
                disposition: c.next()?.into_text(),
            })
        })
        .collect()
}

/// Moves the order to the change's status only if it is still `from`; answers the id when
/// it moved.
pub(crate) fn order_change(
    backend: Backend,
    id: i64,
    from: &str,
    ch: &OrderChange,
) -> Result<Stmt> {
    super::risk::refuse_nul(
        [ch.status.as_str(), from]
            .into_iter()
            .chain(ch.document_no.as_deref())
            .chain(ch.approved_by.as_deref())
            .chain(ch.answer.as_deref())
            .chain(ch.disposition.as_deref()),
    )?;
    let mut b = Builder::new(backend, &Scope::All);
    let mut sets = vec![
        format!("status = {}", b.text(&ch.status)),
        format!("updated_at = {}", b.int(ch.at)),
    ];
    for (col, v) in [
        ("document_no", &ch.document_no),
        ("approved_by", &ch.approved_by),
        ("answer", &ch.answer),
        ("disposition", &ch.disposition),
    ] {
        if let Some(v) = v {
            sets.push(format!("{col} = {}", b.text(v)));
        }
    }
    for (col, v) in [
        ("approved_at", ch.approved_at),
        ("answered_at", ch.answered_at),
        ("held_fen", ch.held_fen),
        ("effective_at", ch.effective_at),
        ("expires_at", ch.expires_at),
        ("disposed_at", ch.disposed_at),
    ] {
        if let Some(v) = v {
            sets.push(format!("{col} = {}", b.int(v)));
        }
    }
    let (id, from) = (b.int(id), b.text(from));
    Ok(b.finish(
        format!(
            "UPDATE trace_orders SET {} WHERE id = {id} AND status = {from} RETURNING id",
            sets.join(", ")
        ),
        &[I],
    ))
}

// ---- return rounds ----

const ROUND_COLS: &str = "id, account_id, case_id, round, funds_fen, plan, status, opened_by, \
    opened_at, objections_until, decided_by, decided_at, decision_no";
const ROUND_TYPES: &[fanzha_core::schema::ColType] = &[I, T, T, I, I, T, T, T, I, I, T, I, T];

pub(crate) fn round_open(backend: Backend, r: &NewRound) -> Result<Stmt> {
    super::risk::refuse_nul([
        r.account_id.as_str(),
        &r.case_id,
        &r.plan,
        &r.status,
        &r.opened_by,
    ])?;
    let mut b = Builder::new(backend, &Scope::All);
    let vals = [
        b.text(&r.account_id),
        b.text(&r.case_id),
        b.int(r.round),
        b.int(r.funds_fen),
        b.text(&r.plan),
        b.text(&r.status),
        b.text(&r.opened_by),
        b.int(r.opened_at),
        b.int(r.objections_until),
    ]
    .join(", ");
    Ok(b.finish(
        format!(
            "INSERT INTO trace_return_rounds (account_id, case_id, round, funds_fen, plan, status, \
             opened_by, opened_at, objections_until) VALUES ({vals}) \
             ON CONFLICT (account_id, round) DO NOTHING RETURNING id"
        ),
        &[I],
    ))
}

pub(crate) fn rounds(backend: Backend, account: Option<&str>) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let cond = match account {
        Some(a) => format!("account_id = {}", b.text(a)),
        None => "1 = 1".to_owned(),
    };
    b.finish(
        format!("SELECT {ROUND_COLS} FROM trace_return_rounds WHERE {cond} ORDER BY id"),
        ROUND_TYPES,
    )
}

pub(crate) fn assemble_rounds(rows: Rows) -> Vec<Round> {
    rows.into_iter()
        .filter_map(|row| {
            let mut c = row.into_iter();
            let id = c.next()?.int()?;
            let new = NewRound {
                account_id: c.next()?.into_text()?,
                case_id: c.next()?.into_text()?,
                round: c.next()?.int()?,
                funds_fen: c.next()?.int()?,
                plan: c.next()?.into_text()?,
                status: c.next()?.into_text()?,
                opened_by: c.next()?.into_text()?,
                opened_at: c.next()?.int()?,
                objections_until: c.next()?.int()?,
            };
            Some(Round {
                id,
                new,
                decided_by: c.next()?.into_text(),
                decided_at: c.next()?.int(),
                decision_no: c.next()?.into_text(),
            })
        })
        .collect()
}

pub(crate) fn round_decide(
    backend: Backend,
    id: i64,
    by: &str,
    at: i64,
    decision_no: &str,
) -> Result<Stmt> {
    super::risk::refuse_nul([by, decision_no])?;
    let mut b = Builder::new(backend, &Scope::All);
    let (id, by, at, no) = (b.int(id), b.text(by), b.int(at), b.text(decision_no));
    Ok(b.finish(
        format!(
            "UPDATE trace_return_rounds SET status = 'decided', decided_by = {by}, \
             decided_at = {at}, decision_no = {no} WHERE id = {id} AND status = 'noticed' \
             RETURNING id"
        ),
        &[I],
    ))
}
