//! [`Reloader`]: the active rule set, replaced when the rule directory changes.
//!
//! Polling rather than a file watcher: rule files change a few times a day, a poll every
//! few seconds costs a `stat` per file, and it needs no platform notification API or its
//! dependency. A change is noticed by size and modification time; the bytes are then
//! hashed, so touching a file without changing it does not rebuild the set, and a set is
//! identified by its content in audit records.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use super::error::LoadError;
use super::set::{digest, read_dir_sources, RuleSet};

type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

#[derive(Default)]
struct PollState {
    /// What the directory looked like at the last poll.
    seen: Option<Fingerprint>,
    /// Digest of the last content that failed to load: not retried (nor re-reported)
    /// until the files change again.
    failed: Option<[u8; 32]>,
}

/// Holds the active [`RuleSet`] and swaps in a new one when the directory's files change
/// and load cleanly. Readers take an `Arc` once per batch; a reload never blocks them for
/// longer than a pointer swap.
pub struct Reloader {
    dir: PathBuf,
    active: RwLock<Arc<RuleSet>>,
    poll: Mutex<PollState>,
}

impl Reloader {
    /// Loads `dir`; fails if it does not load, since there is no previous set to keep.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, LoadError> {
        let dir = dir.into();
        let seen = fingerprint(&dir)?;
        let set = RuleSet::load_dir(&dir)?;
        Ok(Self {
            dir,
            active: RwLock::new(Arc::new(set)),
            poll: Mutex::new(PollState {
                seen: Some(seen),
                failed: None,
            }),
        })
    }

    /// Starts from `initial` (e.g. [`RuleSet::builtin`]) and watches `dir`; the first
    /// [`Reloader::poll`] loads it.
    pub fn with_initial(dir: impl Into<PathBuf>, initial: RuleSet) -> Self {
        Self {
            dir: dir.into(),
            active: RwLock::new(Arc::new(initial)),
            poll: Mutex::new(PollState::default()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The active rule set.
    pub fn current(&self) -> Arc<RuleSet> {
        // A panic elsewhere cannot leave the Arc half-written: the poisoned value is fine.
        Arc::clone(&self.active.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Checks the directory: `Ok(Some(set))` when a new set became active, `Ok(None)` when
    /// nothing changed, `Err` when the changed files do not load (the active set stays; the
    /// caller logs the error, which names file, line and column).
    pub fn poll(&self) -> Result<Option<Arc<RuleSet>>, LoadError> {
        let mut st = self.poll.lock().unwrap_or_else(PoisonError::into_inner);
        let now = fingerprint(&self.dir)?;
        if st.seen.as_ref() == Some(&now) {
            return Ok(None);
        }
        let sources = read_dir_sources(&self.dir)?;
        st.seen = Some(now);
        let d = digest(&sources);
        if d == self.current().digest() || st.failed == Some(d) {
            return Ok(None);
        }
        if sources.is_empty() {
            st.failed = Some(d);
            return Err(LoadError::Empty(self.dir.clone()));
        }
        match RuleSet::from_sources(sources) {
            Ok(set) => {
                st.failed = None;
                let set = Arc::new(set);
                *self.active.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&set);
                tracing::info!(version = %set.version(), "rule set reloaded");
                Ok(Some(set))
            }
            Err(e) => {
                st.failed = Some(d);
                Err(e)
            }
        }
    }
}

fn fingerprint(dir: &Path) -> Result<Fingerprint, LoadError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let meta = entry.metadata().map_err(io(&path))?;
            if meta.is_file() {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    Ok(out)
}
