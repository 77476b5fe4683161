//! Telling when two statement rows are one transfer.
//!
//! A transfer between two requested accounts shows up in both statements: as money out (借)
//! in the sender's and money in (贷) in the receiver's. The rows match on the serial number
//! when both banks give the same one, else on both accounts, the amount and a time within the
//! profile's window (each bank stamps its own time, seconds or minutes apart).
//!
//! A stored transfer can stand for at most one row from each end: once a row seen from the
//! sending end has been matched to (or has created) a transfer, another sending-end row can
//! no longer match it. That keeps two real, identical transfers minutes apart (a mule sending
//! 5,000 twice) from collapsing into one, while the receiving end's two rows still each find
//! their own.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use fanzha_store::{Store, StoreError, TransferCore};

use super::Tx;

/// Which end of a transfer a statement row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sender's statement (借 / out).
    Out,
    /// The receiver's statement (贷 / in).
    In,
}

/// What to do with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A transfer not seen before: store it.
    New,
    /// Already stored or read (the other end's row, or a re-ingest): count it as unchanged.
    SameTransfer,
    /// Its serial number is stored with other accounts or another amount: hand it to the
    /// store, which quarantines it as a conflict.
    Conflict,
}

#[derive(Debug, Clone)]
struct Core {
    from: Option<String>,
    to: Option<String>,
    amount: i64,
}

/// What this run has read and stored, for matching later rows against it.
pub struct Matcher {
    window_micros: i64,
    by_id: HashMap<String, Core>,
    /// (from, to, amount) → (instant, id) of the transfers this run stored.
    by_parties: HashMap<(String, String, i64), Vec<(i64, String)>>,
    /// (id, end): the ends of each transfer already accounted for.
    claimed: HashSet<(String, Side)>,
}

impl Matcher {
    pub fn new(window_micros: i64) -> Self {
        Matcher {
            window_micros,
            by_id: HashMap::new(),
            by_parties: HashMap::new(),
            claimed: HashSet::new(),
        }
    }

    /// Judges a row against this run and the store. `stored` holds the stored transfers with
    /// the ids of the rows being judged, looked up in one go.
    pub async fn judge(
        &mut self,
        store: &Arc<dyn Store>,
        tx: &Tx,
        stored: &HashMap<String, TransferCore>,
    ) -> Result<Verdict, StoreError> {
        let known = self.by_id.get(&tx.tx_id).cloned().or_else(|| {
            stored.get(&tx.tx_id).map(|t| Core {
                from: t.from_account.clone(),
                to: t.to_account.clone(),
                amount: t.amount_fen,
            })
        });
        if let Some(k) = known {
            if k.from == tx.from && k.to == tx.to && k.amount == tx.amount {
                self.claimed.insert((tx.tx_id.clone(), tx.side));
                return Ok(Verdict::SameTransfer);
            }
            return Ok(Verdict::Conflict);
        }
        // Cash has one account only and appears in one statement: nothing to match.
        let (Some(from), Some(to)) = (tx.from.as_deref(), tx.to.as_deref()) else {
            return Ok(Verdict::New);
        };
        let key = (from.to_owned(), to.to_owned(), tx.amount);
        let near_in_run = self.by_parties.get(&key).and_then(|list| {
            list.iter()
                .filter(|(ts, id)| {
                    (ts - tx.ts).abs() <= self.window_micros
                        && !self.claimed.contains(&(id.clone(), tx.side))
                })
                .min_by_key(|(ts, _)| (ts - tx.ts).abs())
                .map(|(_, id)| id.clone())
        });
        if let Some(id) = near_in_run {
            self.claimed.insert((id, tx.side));
            return Ok(Verdict::SameTransfer);
        }
        let lo = tx.ts.saturating_sub(self.window_micros);
        let hi = tx.ts.saturating_add(self.window_micros);
        let candidates = store
            .transfers_matching(from, to, tx.amount, lo, hi)
            .await?;
        let near_stored = candidates
            .into_iter()
            .filter(|c| !self.claimed.contains(&(c.tx_id.clone(), tx.side)))
            .min_by_key(|c| (c.ts - tx.ts).abs());
        if let Some(c) = near_stored {
            self.claimed.insert((c.tx_id, tx.side));
            return Ok(Verdict::SameTransfer);
        }
        Ok(Verdict::New)
    }

    /// Records a row judged new and about to be stored.
    pub fn remember(&mut self, tx: &Tx) {
        self.by_id.insert(
            tx.tx_id.clone(),
            Core {
                from: tx.from.clone(),
                to: tx.to.clone(),
                amount: tx.amount,
            },
        );
        if let (Some(f), Some(t)) = (&tx.from, &tx.to) {
            self.by_parties
                .entry((f.clone(), t.clone(), tx.amount))
                .or_default()
                .push((tx.ts, tx.tx_id.clone()));
        }
        self.claimed.insert((tx.tx_id.clone(), tx.side));
    }
}
