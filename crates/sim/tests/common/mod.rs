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
