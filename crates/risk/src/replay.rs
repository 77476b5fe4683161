//! The store's events in event-time order, as [`Event`]s: the source of the batch run
//! ([`crate::run`]) and of the model's training data.
//!
//! Every event table is paged through in event-time order ([`Store::scan_events`]) and the
//! pages merged into one stream, openings first at equal times (an account opened at
//! 09:00:00 exists when its first transfer at 09:00:00 arrives).

use std::collections::VecDeque;

use fanzha_core::schema::Row;
use fanzha_store::{ScanCursor, ScanKind, Store, StoreError};

use crate::event::Event;
use crate::rows::{RowError, RowEvents};
use crate::Names;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("reading the store")]
    Store(#[from] StoreError),
    #[error("a stored record")]
    Row(#[from] RowError),
}

/// One event table being paged through.
struct Feed {
    kind: ScanKind,
    rows: VecDeque<Row>,
    after: Option<ScanCursor>,
    done: bool,
    time_col: usize,
    rank: u8,
    /// Rows taken from this table so far (whether or not they made an event).
    read: u64,
}

impl Feed {
    fn new(kind: ScanKind) -> Feed {
        let schema = kind.kind().schema();
        Feed {
            kind,
            rows: VecDeque::new(),
            after: None,
            done: false,
            time_col: schema.column_index(kind.time_column()).unwrap_or(0),
            rank: match kind {
                ScanKind::Accounts => 0,
                ScanKind::Sims => 1,
                _ => 2,
            },
            read: 0,
        }
    }

    async fn fill(&mut self, store: &dyn Store, page: u32) -> Result<(), StoreError> {
        if !self.rows.is_empty() || self.done {
            return Ok(());
        }
        let rows = store
            .scan_events(self.kind, self.after.as_ref(), page)
            .await?;
        self.done = rows.len() < page as usize;
        if let Some(last) = rows.last() {
            self.after = self.kind.cursor_of(last);
            // A row without a cursor cannot be resumed after; stop rather than loop.
            if self.after.is_none() {
                self.done = true;
            }
        }
        self.rows.extend(rows);
        Ok(())
    }

    fn head(&self) -> Option<(i64, u8)> {
        let row = self.rows.front()?;
        let ts = row.values.get(self.time_col)?.as_int()?;
        Some((ts, self.rank))
    }
}

/// A pull-based, event-time-ordered stream over every event table of a store.
pub struct Replay<'a> {
    store: &'a dyn Store,
    feeds: Vec<Feed>,
    convert: RowEvents,
    page: u32,
    /// Events produced so far.
    pub events: u64,
}

impl<'a> Replay<'a> {
    /// A stream from the start of `store`, reading `page` rows of a table at a time.
    pub fn new(store: &'a dyn Store, page: u32) -> Result<Replay<'a>, ReplayError> {
        Ok(Replay {
            store,
            feeds: ScanKind::ALL.into_iter().map(Feed::new).collect(),
            convert: RowEvents::new()?,
            page: page.max(1),
            events: 0,
        })
    }

    /// Keeps the position in every table without the borrow of the store, so a live
    /// tail can hold it between rounds and [`ReplayPosition::resume`] later.
    pub fn detach(self) -> ReplayPosition {
        ReplayPosition {
            feeds: self.feeds,
            convert: self.convert,
            page: self.page,
            events: self.events,
        }
    }

    /// Appends up to `max` next events to `out`, interning their identifiers in `names`.
    /// Returns how many were appended: fewer than `max` only at the end of the store.
    pub async fn next_chunk(
        &mut self,
        names: &mut Names,
        out: &mut Vec<Event>,
        max: usize,
    ) -> Result<usize, ReplayError> {
        let mut n = 0;
        while n < max {
            for f in &mut self.feeds {
                f.fill(self.store, self.page).await?;
            }
            let Some(next) = self
                .feeds
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.head().map(|h| (h, i)))
                .min()
                .map(|(_, i)| i)
            else {
                break;
            };
            let feed = &mut self.feeds[next];
            let Some(row) = feed.rows.pop_front() else {
                continue;
            };
            feed.read += 1;
            if let Some(event) = self.convert.event(names, feed.kind.kind(), &row)? {
                out.push(event);
                n += 1;
                self.events += 1;
            }
        }
        Ok(n)
    }
}

/// Where a [`Replay`] stood in each table, without its store: a live tail keeps this
/// between rounds and resumes from it on the store, which may have grown meanwhile.
pub struct ReplayPosition {
    feeds: Vec<Feed>,
    convert: RowEvents,
    page: u32,
    events: u64,
}

impl ReplayPosition {
    /// Resumes on `store`. A table that had ended is asked again from after its last row,
    /// so rows stored since are read; rows stored with an earlier (time, id) than a
    /// table's position are not (a scan never goes back).
    pub fn resume(mut self, store: &dyn Store) -> Replay<'_> {
        for f in &mut self.feeds {
            if f.rows.is_empty() {
                f.done = false;
            }
        }
        Replay {
            store,
            feeds: self.feeds,
            convert: self.convert,
            page: self.page,
            events: self.events,
        }
    }

    /// Events produced so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Rows taken from each table so far: compared with the table's row count, it tells
    /// whether rows were stored behind the position (which a tail never reads).
    pub fn rows_read(&self) -> impl Iterator<Item = (ScanKind, u64)> + '_ {
        self.feeds.iter().map(|f| (f.kind, f.read))
    }
}
