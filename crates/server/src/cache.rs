//! Figures that are costly to compute and read by many: computed once per key, served from
//! memory while fresh, and refreshed in the background once stale.
//!
//! The dashboard aggregates every report and case of a window; two hundred commanders and
//! analysts opening it at once must not each run those aggregates. A key's first request
//! computes and everyone asking meanwhile waits for that one computation (no stampede);
//! afterwards requests answer from memory. Past the time to live the stale value is still
//! served, at once, while one background task computes its successor, so no request waits
//! on an aggregate after the first.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// The most keys kept; past it, stale ones are dropped (and all, if that is not enough).
/// Keys are (scope, window) pairs: a district has a few hundred scopes at most.
const MAX_KEYS: usize = 4_096;

/// A map from key to value computed on demand, served for `ttl`, then refreshed.
pub struct Refreshing<K, V> {
    ttl: Duration,
    slots: Mutex<HashMap<K, Slot<V>>>,
}

/// A value and when its computation started.
type Stamped<V> = (Arc<V>, Instant);
/// A computation under way, shared by whoever waits for it.
type Pending<V> = Arc<OnceCell<Stamped<V>>>;

struct Slot<V> {
    /// The latest value.
    ready: Option<Stamped<V>>,
    pending: Option<Pending<V>>,
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Slot {
            ready: None,
            pending: None,
        }
    }
}

impl<K, V> Refreshing<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    pub fn new(ttl: Duration) -> Self {
        Refreshing {
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`: from memory when one is there (starting a refresh if it is
    /// stale), else computed by `compute`, once for all who ask at the same time. A failed
    /// computation is returned to its waiters and retried by the next request.
    pub async fn get<F, Fut, E>(self: &Arc<Self>, key: K, compute: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let pending = {
            let mut slots = self.lock();
            if slots.len() >= MAX_KEYS && !slots.contains_key(&key) {
                let ttl = self.ttl;
                slots.retain(|_, s| s.ready.as_ref().is_some_and(|(_, t)| t.elapsed() < ttl));
                if slots.len() >= MAX_KEYS {
                    slots.clear();
                }
            }
            let slot = slots.entry(key.clone()).or_default();
            match (&slot.ready, &slot.pending) {
                (Some((v, born)), _) if born.elapsed() < self.ttl => return Ok(Arc::clone(v)),
                (Some((v, _)), Some(_)) => return Ok(Arc::clone(v)),
                (Some((v, _)), None) => {
                    let stale = Arc::clone(v);
                    let cell = Arc::new(OnceCell::new());
                    slot.pending = Some(Arc::clone(&cell));
                    let this = Arc::clone(self);
                    tokio::spawn(async move {
                        if let Err(e) = this.fill(key, &cell, compute).await {
                            tracing::warn!(error = %e, "refreshing cached figures failed; the stale ones stay");
                        }
                    });
                    return Ok(stale);
                }
                (None, Some(cell)) => Arc::clone(cell),
                (None, None) => {
                    let cell = Arc::new(OnceCell::new());
                    slot.pending = Some(Arc::clone(&cell));
                    cell
                }
            }
        };
        self.fill(key, &pending, compute).await
    }

    /// Runs (or joins) the computation in `cell` and publishes its value to the slot.
    async fn fill<F, Fut, E>(&self, key: K, cell: &Pending<V>, compute: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let outcome = cell
            .get_or_try_init(|| async {
                let started = Instant::now();
                compute().await.map(|v| (Arc::new(v), started))
            })
            .await;
        let mut slots = self.lock();
        let slot = slots.entry(key).or_default();
        if slot.pending.as_ref().is_some_and(|p| Arc::ptr_eq(p, cell)) {
            slot.pending = None;
        }
        match outcome {
            Ok((v, born)) => {
                // A slower, older computation must not replace a newer value.
                if slot.ready.as_ref().is_none_or(|(_, t)| t <= born) {
                    slot.ready = Some((Arc::clone(v), *born));
                }
                Ok(Arc::clone(v))
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets every value: the next request for any key computes afresh (after a load
    /// that changes the figures).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V>>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counted(
        calls: &Arc<AtomicUsize>,
        delay: Duration,
    ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<usize, String>> + Send>>
           + Send
           + 'static {
        let calls = Arc::clone(calls);
        move || {
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(calls.fetch_add(1, Ordering::SeqCst) + 1)
            })
        }
    }

    #[tokio::test]
    async fn concurrent_first_requests_share_one_computation() {
        let cache = Arc::new(Refreshing::<&str, usize>::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let f = counted(&calls, Duration::from_millis(20));
                tokio::spawn(async move { cache.get("k", f).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(*t.await.unwrap().unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Fresh: served from memory.
        let again = cache.get("k", counted(&calls, Duration::ZERO)).await;
        assert_eq!(*again.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stale_values_are_served_while_one_refresh_runs() {
        let cache = Arc::new(Refreshing::<&str, usize>::new(Duration::from_millis(10)));
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            *cache
                .get("k", counted(&calls, Duration::ZERO))
                .await
                .unwrap(),
            1
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Stale: answered at once with the old value, twice, and refreshed once.
        let slow = Duration::from_millis(50);
        assert_eq!(*cache.get("k", counted(&calls, slow)).await.unwrap(), 1);
        assert_eq!(*cache.get("k", counted(&calls, slow)).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(*cache.get("k", counted(&calls, slow)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failed_computation_is_retried_and_clear_forgets() {
        let cache = Arc::new(Refreshing::<u8, u8>::new(Duration::from_secs(60)));
        let failed = cache
            .get(1, || async { Err::<u8, _>("store down".to_owned()) })
            .await;
        assert_eq!(failed.unwrap_err(), "store down");
        assert_eq!(
            *cache.get(1, || async { Ok::<_, String>(7) }).await.unwrap(),
            7
        );
        assert_eq!(
            *cache.get(1, || async { Ok::<_, String>(8) }).await.unwrap(),
            7
        );
        cache.clear();
        assert_eq!(
            *cache.get(1, || async { Ok::<_, String>(9) }).await.unwrap(),
            9
        );
    }
}
