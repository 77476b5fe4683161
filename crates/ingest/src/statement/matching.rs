//! Telling when two statement rows are one transfer.
//!
//! A transfer between two requested accounts shows up in both statements: as money out (借)
//! in the sender's and money in (贷) in the receiver's. The rows match on the serial number
//! when both banks give the same one, else on both accounts, the amount and a time within the
//! profile's window (each bank stamps its own time, seconds or minutes apart).
//!
//! A serial number identifies a transfer only together with its time: many banks restart
//! their serials every day, so a row whose serial is already stored (or read earlier in the
//! file) with the same accounts and amount but a time more than the window away is another
//! transfer. It is stored as a distinct one under the serial and its Beijing date
//! (`P0001-20260311`), or, when that is taken too (a serial reused within one day), under
//! the id derived from both accounts, the amount and the instant; the bank's serial is kept
//! in the row's extras as `serial`. The same serial with other accounts or another amount is
//! a conflict, which the store quarantines.
//!
//! A stored transfer can stand for at most one row from each end. Within a file, once a row
//! seen from the sending end has been matched to (or has created) a transfer, another
//! sending-end row can no longer match it. Across files and runs, the stored row's extras
//! say which statement it was read from (`statement_account` and `direction`): a row from
//! the same account's statement, on the same end, matches it only at the very same instant
//! (the same bank stamped both: the same row exported again), never at another time within
//! the window. That keeps two real, identical transfers minutes apart (a mule sending 5,000
//! twice) from collapsing into one, whether they arrive in one file or in two, while the
//! receiving end's two rows still each find their own.

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

impl Side {
    /// The word the row's extras use for this end (`direction`).
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Out => "out",
            Side::In => "in",
        }
    }
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
    ts: i64,
}

impl From<&TransferCore> for Core {
    fn from(t: &TransferCore) -> Self {
        Core {
            from: t.from_account.clone(),
            to: t.to_account.clone(),
            amount: t.amount_fen,
            ts: t.ts,
        }
    }
}

/// What this file has read and stored, for matching later rows of it against; earlier files
/// and runs are matched through the store.
pub struct Matcher {
    window_micros: i64,
    by_id: HashMap<String, Core>,
    /// (from, to, amount) → (instant, id) of the transfers this file stored.
    by_parties: HashMap<(String, String, i64), Vec<(i64, String)>>,
    /// (id, end): the ends of each transfer already accounted for in this file.
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

    /// The transfer known under `id`: read earlier in this file, or stored. `stored` holds
    /// the stored transfers with the rows' own ids, looked up in one go; other ids (the
    /// alternatives for a reused serial) are asked of the store.
    async fn known(
        &self,
        store: &Arc<dyn Store>,
        id: &str,
        stored: &HashMap<String, TransferCore>,
        prefetched: bool,
    ) -> Result<Option<Core>, StoreError> {
        if let Some(k) = self.by_id.get(id) {
            return Ok(Some(k.clone()));
        }
        if let Some(t) = stored.get(id) {
            return Ok(Some(Core::from(t)));
        }
        if prefetched {
            return Ok(None);
        }
        let found = store.transfers_by_id(&[id.to_owned()]).await?;
        Ok(found.iter().find(|t| t.tx_id == id).map(Core::from))
    }

    /// Judges a row against this file and the store. `stored` holds the stored transfers
    /// with the ids of the rows being judged, looked up in one go. A row whose serial was
    /// reused for another transfer gets its distinct id here.
    pub async fn judge(
        &mut self,
        store: &Arc<dyn Store>,
        tx: &mut Tx,
        stored: &HashMap<String, TransferCore>,
    ) -> Result<Verdict, StoreError> {
        let original = tx.tx_id.clone();
        let ids = [
            original.clone(),
            format!("{original}-{}", shanghai_date(tx.ts)),
            super::derived_id(tx.from.as_deref(), tx.to.as_deref(), tx.amount, tx.ts),
        ];
        let mut free = None;
        for (n, id) in ids.iter().enumerate() {
            let Some(k) = self.known(store, id, stored, n == 0).await? else {
                free = Some(id);
                break;
            };
            let same_parties = k.from == tx.from && k.to == tx.to && k.amount == tx.amount;
            if !same_parties {
                if n == 0 {
                    return Ok(Verdict::Conflict);
                }
                // An alternative id taken by something else: try the next one.
                continue;
            }
            if (k.ts - tx.ts).abs() <= self.window_micros {
                self.claimed.insert((id.clone(), tx.side));
                if id != &original {
                    tx.rename(id, &original);
                }
                return Ok(Verdict::SameTransfer);
            }
            // The same serial, accounts and amount at another time: a reused serial.
        }
        let Some(id) = free else {
            // Every id is taken by other transfers (the derived one only by a hash
            // collision): let the store quarantine the row as a conflict.
            return Ok(Verdict::Conflict);
        };
        if id != &original {
            tx.rename(id, &original);
        }
        // Cash has one account only and appears in one statement: nothing to match.
        let (Some(from), Some(to)) = (tx.from.as_deref(), tx.to.as_deref()) else {
            return Ok(Verdict::New);
        };
        let key = (from.to_owned(), to.to_owned(), tx.amount);
        let near_in_file = self.by_parties.get(&key).and_then(|list| {
            list.iter()
                .filter(|(ts, id)| {
                    (ts - tx.ts).abs() <= self.window_micros
                        && !self.claimed.contains(&(id.clone(), tx.side))
                })
                .min_by_key(|(ts, _)| (ts - tx.ts).abs())
                .map(|(_, id)| id.clone())
        });
        if let Some(id) = near_in_file {
            self.claimed.insert((id, tx.side));
            return Ok(Verdict::SameTransfer);
        }
        let lo = tx.ts.saturating_sub(self.window_micros);
        let hi = tx.ts.saturating_add(self.window_micros);
        let candidates = store
            .transfers_matching(from, to, tx.amount, lo, hi)
            .await?;
        let owner = match tx.side {
            Side::Out => from,
            Side::In => to,
        };
        let near_stored = candidates
            .into_iter()
            .filter(|c| !self.claimed.contains(&(c.tx_id.clone(), tx.side)))
            // A row of the same statement, same end, stored by an earlier file or run is
            // this row only if the bank stamped the same instant (the row exported again).
            .filter(|c| c.ts == tx.ts || !seen_from(c.extra.as_deref(), owner, tx.side))
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
                ts: tx.ts,
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

/// Whether a stored row's extras say it was read from `owner`'s statement, on `side`.
fn seen_from(extra: Option<&str>, owner: &str, side: Side) -> bool {
    let Some(extra) = extra else {
        return false;
    };
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(extra) else {
        return false;
    };
    let get = |k: &str| m.get(k).and_then(serde_json::Value::as_str);
    get("statement_account") == Some(owner) && get("direction") == Some(side.as_str())
}

/// The Beijing date of an instant (UTC microseconds), as `YYYYMMDD`.
fn shanghai_date(micros: i64) -> String {
    const OFFSET: i64 = 8 * 3600 * 1_000_000;
    chrono::DateTime::from_timestamp_micros(micros.saturating_add(OFFSET))
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_else(|| micros.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_beijing_dates() {
        // 2026-03-10T16:30:00Z is 00:30 on the 11th in Beijing.
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-10T16:30:00Z")
            .unwrap()
            .timestamp_micros();
        assert_eq!(shanghai_date(t), "20260311");
    }

    #[test]
    fn seen_from_reads_the_extras() {
        let e = r#"{"statement_account":"A","direction":"out"}"#;
        assert!(seen_from(Some(e), "A", Side::Out));
        assert!(!seen_from(Some(e), "A", Side::In));
        assert!(!seen_from(Some(e), "B", Side::Out));
        assert!(!seen_from(Some("not json"), "A", Side::Out));
        assert!(!seen_from(None, "A", Side::Out));
    }
}
