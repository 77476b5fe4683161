//! The task that keeps the live risk state ([`fanzha_risk::live`]) current while the
//! server serves: warm-up by replaying the store, then a tail every few seconds.
//!
//! Warm-up runs beside serving, never before it: `serve` answers at once, and decisions
//! made before the replay finishes answer from the request's own signals and whatever the
//! stored warnings say, marked `state: "warming"`. Stored warnings are read first (they are
//! few and are the strongest evidence), then the events; the stored warnings are read
//! again every [`WARNINGS_EVERY`] rounds, so a batch run's new warnings reach decisions
//! without a restart.
//!
//! Every [`crate::LiveSettings::late_check_every`] (5 minutes by default) the store's row
//! counts are taken before a round and compared with what the tail has read: rows stored
//! behind the tail (a late file of older events) make the task replay the store into a fresh
//! writer, decisions reading the old state meanwhile, and hand the new state over.
//!
//! The newest stored model is combined with the rules, as `fanzha risk run` does. A rule
//! directory, when configured, is checked every round; a file with an error is
//! logged with its file, line and column and the active set stays. A failed round (the
//! store unreachable) is logged and retried next round: the live state must never take the
//! server down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fanzha_risk::live::{LiveRisk, LiveWriter};
use fanzha_risk::{Reloader, RuleSet};
use fanzha_store::Store;

use crate::LiveSettings;

/// Events applied between two yields to the runtime during warm-up: one engine chunk, a
/// few milliseconds, so requests on the same worker wait no longer than that.
const WARM_STEP: usize = 4_096;
/// Events applied at most per tail round.
const TAIL_MAX: usize = 1 << 20;
/// Tail rounds between two reads of the stored warnings.
const WARNINGS_EVERY: u32 = 30;

/// The writer and what it needs, until [`LiveTask::run`] takes it onto the runtime.
pub struct LiveTask {
    writer: LiveWriter,
    store: Arc<dyn Store>,
    every: Duration,
    /// Tail rounds between two checks for rows stored behind the tail.
    late_every: u32,
    /// The last rule-load error logged, so a directory that stays broken is logged once.
    last_error: Option<String>,
}

impl LiveTask {
    /// A writer scoring with the built-in rules, or with `rules_dir`'s when one is set. A
    /// directory that does not load at start is an error (there is no previous set of its
    /// to keep, and starting on other rules than asked would mislead); later changes that
    /// do not load are refused and logged.
    pub fn new(
        store: Arc<dyn Store>,
        settings: LiveSettings,
    ) -> Result<LiveTask, fanzha_risk::rules::LoadError> {
        let mut writer = LiveWriter::new(Arc::new(RuleSet::builtin()?), settings.features);
        if let Some(dir) = settings.rules_dir {
            writer = writer.watching(Reloader::open(dir)?);
        }
        let every = settings.tail_every.max(Duration::from_millis(50));
        let late_every = (settings.late_check_every.as_millis() / every.as_millis()).max(1);
        Ok(LiveTask {
            writer,
            store,
            every,
            late_every: u32::try_from(late_every).unwrap_or(u32::MAX),
            last_error: None,
        })
    }

    /// The read side, for [`crate::AppState`].
    pub fn shared(&self) -> Arc<LiveRisk> {
        self.writer.shared()
    }

    /// Warms up, then tails the store until the task is aborted.
    pub async fn run(mut self) {
        let store = Arc::clone(&self.store);
        let started = Instant::now();
        self.poll_rules();
        // The newest stored model, as `fanzha risk run` takes by default; a model trained
        // later is taken at the next start.
        match fanzha_risk::model::stored(&*store, None).await {
            Ok(Some((version, model))) => {
                tracing::info!(%version, "live risk: the newest stored model is combined with the rules");
                self.writer.set_model(Some(Arc::new(model)));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "live risk: the stored model could not be read; rules alone");
            }
        }
        if let Err(e) = self.writer.load_warnings(&*store).await {
            tracing::error!(error = %e, "live risk: reading the stored warnings failed");
        }
        while !replay(&mut self.writer, &*store).await {
            tokio::time::sleep(self.every).await;
        }
        self.writer.mark_ready();
        let live = self.writer.shared();
        let (accounts, numbers) = live.entity_counts();
        tracing::info!(
            events = live.events(),
            accounts,
            numbers,
            seconds = started.elapsed().as_secs_f64(),
            rules = %live.rules_version(),
            "live risk state ready"
        );
        let mut every = tokio::time::interval(self.every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut until_warnings = WARNINGS_EVERY;
        let mut until_late = self.late_every;
        loop {
            every.tick().await;
            self.poll_rules();
            until_late -= 1;
            // Counted before the tail, so every row counted is one the tail has read unless
            // it lies behind the tail's position (see `LiveWriter::missed_rows`).
            let counts = if until_late == 0 {
                until_late = self.late_every;
                match store.counts().await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::error!(error = %e, "live risk: counting the store's rows failed");
                        None
                    }
                }
            } else {
                None
            };
            match self.writer.catch_up(&*store, TAIL_MAX).await {
                Err(e) => {
                    tracing::error!(error = %e, "live risk: tailing the store failed; retrying");
                }
                Ok(n) if n < TAIL_MAX => {
                    if let Some(counts) = counts {
                        let missed = self.writer.missed_rows(&counts);
                        if missed > 0 {
                            self.rebuild(&*store, missed).await;
                        }
                    }
                }
                Ok(_) => {}
            }
            until_warnings -= 1;
            if until_warnings == 0 {
                until_warnings = WARNINGS_EVERY;
                if let Err(e) = self.writer.load_warnings(&*store).await {
                    tracing::error!(error = %e, "live risk: reading the stored warnings failed");
                }
            }
        }
    }

    /// Replays the whole store into a fresh writer beside the serving one, then hands its
    /// state over: rows stored behind the tail (a late file of older events) count from
    /// then on. Decisions keep reading the old state until the hand-over.
    async fn rebuild(&mut self, store: &dyn Store, missed: u64) {
        tracing::warn!(
            rows = missed,
            "live risk: rows were stored behind the tail; replaying the store again"
        );
        let started = Instant::now();
        let live = self.writer.shared();
        let mut fresh = LiveWriter::new(Arc::clone(self.writer.rules()), live.config().clone());
        fresh.set_model(self.writer.model().cloned());
        if let Err(e) = fresh.load_warnings(store).await {
            tracing::error!(error = %e, "live risk: reading the stored warnings failed");
        }
        if !replay(&mut fresh, store).await {
            // Tried again at the next check; the serving state stays as it was.
            return;
        }
        self.writer.replace_with(fresh);
        tracing::info!(
            events = live.events(),
            seconds = started.elapsed().as_secs_f64(),
            "live risk: state rebuilt"
        );
    }

    fn poll_rules(&mut self) {
        match self.writer.poll_rules() {
            Ok(true) => tracing::info!(
                rules = %self.writer.rules().version(),
                "live risk: new rule set active, every known entity rescored"
            ),
            Ok(false) => {}
            // The error names file:line:column; the previous set stays active. A directory
            // that stays broken is logged once, not every round.
            Err(e) => {
                let text = e.to_string();
                if self.last_error.as_deref() != Some(text.as_str()) {
                    tracing::error!(error = %text, "live risk: rule files refused; previous set stays active");
                    self.last_error = Some(text);
                }
                return;
            }
        }
        self.last_error = None;
    }
}

/// Applies everything the store holds beyond `writer`'s position, yielding to the runtime
/// between engine chunks; `false` when the store failed (logged).
async fn replay(writer: &mut LiveWriter, store: &dyn Store) -> bool {
    loop {
        match writer.catch_up(store, WARM_STEP).await {
            Ok(n) if n < WARM_STEP => return true,
            Ok(_) => tokio::task::yield_now().await,
            Err(e) => {
                tracing::error!(error = %e, "live risk: replaying the store failed");
                return false;
            }
        }
    }
}
