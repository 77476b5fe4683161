//! Statements of the fund-tracing reads (issue 6): reports with their payments, and the
//! opening balances. Transactions and accounts come through the event scan.

use super::{Builder, Cell, Rows, Stmt};
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
