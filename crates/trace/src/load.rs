//! Loading the ledger and the reports from the store: accounts (which are the district's),
//! opening balances, then every transaction in ledger order, page by page.

use fanzha_core::schema::{Row, Value};
use fanzha_store::{ReportPayments, ScanCursor, ScanKind, Store, StoreError};
use thiserror::Error;

use crate::graph::{Graph, GraphBuilder, GraphError, NewTx, TxIx};

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("reading the store")]
    Store(#[from] StoreError),
    #[error("stored transaction {tx_id}: {field} is missing")]
    Missing { tx_id: String, field: &'static str },
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("report {report} names payment {tx_id}, which is not among the stored transactions")]
    Payment { report: String, tx_id: String },
}

/// The data kinds tracing reads (DATA.md's file stems): a store loaded with these alone can
/// be traced.
pub const KINDS: [&str; 5] = [
    "accounts",
    "balances",
    "transactions",
    "reports",
    "report_payments",
];

/// Rows per page of the scans.
pub const PAGE: u32 = 50_000;

/// Pages through one scan, handing each row to `each`.
async fn scan(
    store: &dyn Store,
    kind: ScanKind,
    page: u32,
    mut each: impl FnMut(&Row) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut after: Option<ScanCursor> = None;
    loop {
        let rows = store.scan_events(kind, after.as_ref(), page).await?;
        for r in &rows {
            each(r)?;
        }
        match rows.last().and_then(|r| kind.cursor_of(r)) {
            Some(c) if rows.len() == page as usize => after = Some(c),
            _ => return Ok(()),
        }
    }
}

fn text(r: &Row, i: usize) -> Option<&str> {
    r.values.get(i).and_then(Value::as_text)
}

fn int(r: &Row, i: usize) -> Option<i64> {
    r.values.get(i).and_then(Value::as_int)
}

/// The whole ledger. `progress` is told the number of transactions loaded after each page.
pub async fn graph(
    store: &dyn Store,
    page: u32,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Graph, LoadError> {
    let page = page.max(1);
    let mut b = GraphBuilder::new();
    scan(store, ScanKind::Accounts, page, |r| {
        if let Some(a) = text(r, 0) {
            b.account(a)?;
        }
        Ok(())
    })
    .await?;
    for (a, as_of, bal) in store.opening_balances().await? {
        b.opening(&a, as_of, bal)?;
    }
    let schema = ScanKind::Transactions.kind().schema();
    let col = |name: &str| schema.column_index(name).unwrap_or(usize::MAX);
    let (id, ts, from, to, amount, channel) = (
        col("tx_id"),
        col("ts"),
        col("from_account"),
        col("to_account"),
        col("amount_fen"),
        col("channel"),
    );
    let mut n = 0u64;
    scan(store, ScanKind::Transactions, page, |r| {
        let tx_id = text(r, id).unwrap_or_default();
        let missing = |field| LoadError::Missing {
            tx_id: tx_id.to_owned(),
            field,
        };
        b.tx(NewTx {
            tx_id,
            ts: int(r, ts).ok_or_else(|| missing("ts"))?,
            from: text(r, from),
            to: text(r, to),
            amount_fen: int(r, amount).ok_or_else(|| missing("amount_fen"))?,
            channel: text(r, channel).unwrap_or_default(),
        })?;
        n += 1;
        if n % u64::from(page) == 0 {
            progress(n);
        }
        Ok(())
    })
    .await?;
    progress(n);
    Ok(b.finish()?)
}

/// The report's payments as ledger positions; a payment the ledger lacks is an error naming
/// it, because a trace that silently left one out would understate what to stop.
pub fn payments(g: &Graph, report: &ReportPayments) -> Result<Vec<TxIx>, LoadError> {
    report
        .payments
        .iter()
        .map(|(tx_id, ts)| {
            ts.and_then(|ts| g.find(ts, tx_id))
                .ok_or_else(|| LoadError::Payment {
                    report: report.report_id.clone(),
                    tx_id: tx_id.clone(),
                })
        })
        .collect()
}
