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
//! A rule directory, when configured, is checked every round; a file with an error is
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
        Ok(LiveTask {
            writer,
            store,
            every: settings.tail_every.max(Duration::from_millis(50)),
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
        if let Err(e) = self.writer.load_warnings(&*store).await {
            tracing::error!(error = %e, "live risk: reading the stored warnings failed");
        }
        loop {
            match self.writer.catch_up(&*store, WARM_STEP).await {
                Ok(n) if n < WARM_STEP => break,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::error!(error = %e, "live risk: replaying the store failed; retrying");
                    tokio::time::sleep(self.every).await;
                }
            }
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
        loop {
            every.tick().await;
            self.poll_rules();
            if let Err(e) = self.writer.catch_up(&*store, TAIL_MAX).await {
                tracing::error!(error = %e, "live risk: tailing the store failed; retrying");
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
