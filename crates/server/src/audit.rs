//! The server's audit writer: every look-up and state change is appended to the hash-chained
//! trail *before* the answer leaves, and under load those appends are grouped.
//!
//! SQLite has one writer, and PostgreSQL serialises the chain on one lock; an append per
//! request, each its own transaction, would make every look-up wait for every other's
//! commit. Instead each request hands its entry to one task over a channel and waits; the
//! task takes whatever has queued (up to [`MAX_GROUP`]) and appends it with one
//! `audit_append_many`, one commit, then answers each waiter. Alone, a request pays one
//! commit as before; in a crowd, one commit serves many.
//!
//! A waiter is answered only after its entry is committed, so "audited before returned"
//! holds; if the commit fails, every waiter of that group gets the error and answers 5xx.

use std::sync::Arc;

use fanzha_store::{AuditEntry, NewAuditEntry, Store};
use tokio::sync::{mpsc, oneshot};

/// The most entries one transaction appends.
pub const MAX_GROUP: usize = 512;
/// Requests waiting to be written; beyond this they wait to enqueue (back-pressure).
const QUEUE: usize = 4096;

/// Why an entry was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    /// The store refused the group's transaction (the cause, digits masked, is in the log).
    #[error("the audit trail could not be written: {0}")]
    Store(String),
    /// The writer task is gone (the runtime is shutting down).
    #[error("the audit writer has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<AuditEntry, AuditError>>;

/// A handle on the writer task; cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    /// Behind an `Arc`: the state holding this is cloned for every request, and a
    /// channel sender's clone and drop cost more than a reference count.
    tx: std::sync::Arc<mpsc::Sender<(NewAuditEntry, Reply)>>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditWriter")
    }
}

impl AuditWriter {
    /// Starts the writer task on the current runtime. It ends when the last `AuditWriter`
    /// is dropped, after writing what was queued.
    pub fn spawn(store: Arc<dyn Store>) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        AuditWriter {
            tx: std::sync::Arc::new(tx),
        }
    }

    /// Appends one entry and returns it once committed.
    pub async fn append(
        &self,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<AuditEntry, AuditError> {
        let entry = NewAuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail: detail.to_string(),
        };
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((entry, reply))
            .await
            .map_err(|_| AuditError::Stopped)?;
        answer.await.map_err(|_| AuditError::Stopped)?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(NewAuditEntry, Reply)>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    // Waits for the first entry, then takes what else is already queued, without waiting:
    // the group is whatever arrived while the previous commit ran.
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let (entries, replies): (Vec<_>, Vec<_>) = group.drain(..).unzip();
        match store.audit_append_many(entries).await {
            Ok(written) => {
                for (reply, entry) in replies.into_iter().zip(written) {
                    // A waiter that gave up (its client left) needs no answer; the entry
                    // stands, as the look-up was attempted.
                    let _ = reply.send(Ok(entry));
                }
            }
            Err(e) => {
                let cause = fanzha_core::mask::digits_in_text(&e.to_string());
                tracing::error!("appending {} audit entries: {cause}", replies.len());
                for reply in replies {
                    let _ = reply.send(Err(AuditError::Store(cause.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_are_all_committed_in_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = fanzha_store::open(dir.path().join("a.db").to_str().unwrap())
            .await
            .unwrap();
        let writer = AuditWriter::spawn(Arc::clone(&store));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move {
                    w.append(
                        &format!("user:u{i}"),
                        "lookup.person",
                        &serde_json::json!({ "n": i }),
                    )
                    .await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            let entry = t.await.unwrap().unwrap();
            // The entry a waiter gets back is its own.
            assert!(entry.detail.contains(&format!(
                "\"n\":{}",
                entry.actor.trim_start_matches("user:u")
            )));
            ids.push(entry.id);
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        let log = store.audit_list().await.unwrap();
        assert_eq!(log.len(), 200);
        assert_eq!(fanzha_store::verify_audit_chain(&log), None);
    }
}
