//! The ledger fund tracing reads, kept in memory while the server serves (issue 6): built
//! once from the store on first use (a district of 4.8 M transactions in about 12 s, bound
//! by the store's scan), then rebuilt in the background when the store's transaction count
//! changes, so a new report's trace and stop plan answer in milliseconds rather than after
//! a reload. Readers keep the graph they took while a rebuild swaps in the next.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use fanzha_store::Store;
use fanzha_trace::load::{self, LoadError, PAGE};
use fanzha_trace::Graph;

/// How often the store's transaction count is compared with the loaded ledger's.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Ledger {
    /// The graph, and the store's transaction count read just before it was built.
    current: RwLock<Option<(Arc<Graph>, u64)>>,
    /// Held while a build runs, so concurrent first uses wait for one build.
    building: tokio::sync::Mutex<()>,
}

impl Ledger {
    fn loaded(&self) -> Option<(Arc<Graph>, u64)> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn current(&self) -> Option<Arc<Graph>> {
        self.loaded().map(|(g, _)| g)
    }

    /// Counts, then builds: a transaction stored during the build makes the next check
    /// rebuild, rather than being missed.
    async fn build(&self, store: &dyn Store) -> Result<Arc<Graph>, LoadError> {
        let count = stored(store).await?;
        let g = Arc::new(load::graph(store, PAGE, &mut |_| {}).await?);
        tracing::info!(transactions = g.len(), "ledger loaded for fund tracing");
        let v = Some((Arc::clone(&g), count));
        match self.current.write() {
            Ok(mut c) => *c = v,
            Err(poisoned) => *poisoned.into_inner() = v,
        }
        Ok(g)
    }

    /// The loaded ledger, building it first if nobody has.
    pub async fn graph(&self, store: &dyn Store) -> Result<Arc<Graph>, LoadError> {
        if let Some(g) = self.current() {
            return Ok(g);
        }
        let _building = self.building.lock().await;
        if let Some(g) = self.current() {
            return Ok(g);
        }
        self.build(store).await
    }

    /// Rebuilds when the store holds a different number of transactions than the ledger.
    async fn refresh(&self, store: &dyn Store) -> Result<(), LoadError> {
        let Some((_, count)) = self.loaded() else {
            return Ok(());
        };
        if stored(store).await? == count {
            return Ok(());
        }
        let _building = self.building.lock().await;
        self.build(store).await.map(|_| ())
    }
}

async fn stored(store: &dyn Store) -> Result<u64, LoadError> {
    Ok(store
        .counts()
        .await?
        .get("transactions")
        .copied()
        .unwrap_or(0))
}

/// Keeps the ledger current while the server serves; a failed check is logged and retried.
pub async fn keep_current(ledger: Arc<Ledger>, store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = ledger.refresh(&*store).await {
            tracing::error!(error = %e, "refreshing the ledger failed");
        }
    }
}
