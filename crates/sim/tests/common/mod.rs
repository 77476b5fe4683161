//! Helpers shared by the simulator's tests: a small run into a temp dir, and CSV reading.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

use fanzha_sim::{Config, Profile, Scale, Summary};

/// A small district (fewer residents than the `small` scale, to keep tests quick).
pub fn small(seed: u64) -> Config {
    let mut cfg = Config::new(seed, Scale::Small, Profile::Default);
    cfg.residents = 3_000;
    cfg.days = 5;
    // Enough victims for every role and path to occur.
    cfg.params.victims_per_10k_week = 80.0;
    cfg
}

pub fn run(cfg: &Config, dir: &Path) -> Summary {
    match fanzha_sim::run(cfg, dir) {
        Ok(s) => s,
        Err(e) => panic!("simulation failed: {e}"),
    }
}

/// A CSV file as a header index and rows of fields. The simulator quotes nothing in the
/// files these tests read, so splitting on commas is exact (checked).
pub struct Table {
    pub index: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let index = header
            .split(',')
            .enumerate()
            .map(|(i, f)| (f.to_owned(), i))
            .collect();
        let rows = lines
            .map(|l| {
                assert!(
                    !l.contains('"'),
                    "unexpected quoting in {}: {l}",
                    path.display()
                );
                l.split(',').map(str::to_owned).collect()
            })
            .collect();
        Table { index, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        *self
            .index
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

/// Minutes since 2026-03-01T00:00 of a timestamp as the simulator writes it
/// (`YYYY-MM-DDTHH:MM:SS+08:00`, always +08:00, so the offset can be ignored).
pub fn minutes(ts: &str) -> i64 {
    let n = |a: usize, b: usize| -> i64 {
        ts.get(a..b)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad timestamp {ts}"))
    };
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (Howard Hinnant's algorithm), relative to 2026-03-01.
    let days = |y: i64, m: i64, d: i64| {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
    };
    (days(y, m, d) - days(2026, 3, 1)) * 1440 + n(11, 13) * 60 + n(14, 16)
}

/// A person's age in whole years on 2026-03-01, from the birth date in a resident id or an
/// 18-character residence permit (positions 7–14); `None` for ids without one (passports,
/// companies).
pub fn age(person_id: &str) -> Option<u32> {
    if person_id.len() != 18 {
        return None;
    }
    let y: u32 = person_id.get(6..10)?.parse().ok()?;
    let md: u32 = person_id.get(10..14)?.parse().ok()?;
    if !(1900..=2026).contains(&y) {
        return None;
    }
    Some(2026 - y - u32::from(md > 301))
}
