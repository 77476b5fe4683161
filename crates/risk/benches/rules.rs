//! Rule scoring cost per touched entity (issue 5, "Speed": feature update plus rule
//! scoring at ≥ 500,000 events/s per core, so scoring must stay well under 1 µs).
//!
//! Scores the default rule set (`rules/`) on fixed account and number feature vectors:
//! a quiet one (no rule hits, the common case) and a suspicious one (several hits, so
//! reasons are built and sorted). The baseline, in the same run, is a hand-written Rust
//! function doing the same account comparisons and the same noisy-OR arithmetic with
//! indices resolved up front: the floor any rule engine can reach.
//!
//! Run: `CARGO_TARGET_DIR=... nice -n 19 cargo bench -p fanzha-risk --bench rules`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fanzha_risk::features::{ACCOUNT_FEATURES, NUMBER_FEATURES};
use fanzha_risk::rules::{EntityKind, RuleSet, Scores};

fn vector(schema: &[&str], set: &[(&str, f64)]) -> Vec<f64> {
    let mut v = vec![0.0; schema.len()];
    // Unknowns are −1 in the engine's vectors.
    for (i, name) in schema.iter().enumerate() {
        if matches!(
            *name,
            "dwell_median_s" | "dwell_min_s" | "age_at_first_inflow_h"
        ) {
            v[i] = -1.0;
        }
    }
    for (name, x) in set {
        let i = schema
            .iter()
            .position(|f| f == name)
            .expect("feature exists");
        v[i] = *x;
    }
    v
}

/// The account half of `rules/accounts.toml`, by hand: 15 rules, 3 noisy-OR patterns.
struct Baseline {
    ix: Vec<usize>,
}

impl Baseline {
    const NAMES: [&'static str; 21] = [
        "in_yuan_24h",
        "pass_through_24h",
        "dwell_median_s",
        "out_count_24h",
        "payers_24h",
        "payees_24h",
        "age_days",
        "in_yuan_7d",
        "age_at_first_inflow_h",
        "night_share_7d",
        "in_count_7d",
        "out_count_7d",
        "under_threshold_share_7d",
        "round_share_7d",
        "holder_accounts_over_cap",
        "holder_banks",
        "device_other_holders_30d",
        "ip_other_holders_30d",
        "den_place_events_30d",
        "payers_24h",
        "payees_24h",
    ];

    fn new() -> Self {
        let ix = Self::NAMES
            .iter()
            .map(|n| {
                ACCOUNT_FEATURES
                    .iter()
                    .position(|f| f == n)
                    .expect("feature")
            })
            .collect();
        Self { ix }
    }

    #[inline(never)]
    fn score(&self, x: &[f64]) -> [f64; 3] {
        let f = |i: usize| x[self.ix[i]];
        let moves = f(10) + f(11);
        let h = [
            f(0) >= 5000.0 && f(1) >= 0.9 && f(1) <= 1.1,
            f(2) >= 0.0 && f(2) <= 1800.0 && f(3) >= 3.0,
            f(4) >= 10.0,
            f(5) >= 10.0,
            f(4) >= 10.0 && f(5) <= 3.0 && f(1) >= 0.8,
            f(6) >= 0.0 && f(6) <= 30.0 && f(7) >= 20000.0,
            f(8) >= 0.0 && f(8) <= 72.0 && f(7) >= 5000.0,
            f(9) >= 0.5 && moves >= 10.0,
            f(12) >= 0.3 && moves >= 5.0,
            f(13) >= 0.8 && moves >= 10.0,
            f(14) >= 1.0,
            f(15) >= 6.0,
            f(16) >= 2.0,
            f(17) >= 5.0,
            f(18) >= 1.0,
        ];
        let p = |terms: &[(usize, f64)]| {
            let mut absent = 1.0;
            for &(r, w) in terms {
                if h[r] {
                    absent *= 1.0 - w;
                }
            }
            100.0 * (1.0 - absent)
        };
        [
            p(&[
                (0, 0.45),
                (1, 0.40),
                (3, 0.30),
                (8, 0.25),
                (5, 0.25),
                (7, 0.15),
                (14, 0.30),
            ]),
            p(&[
                (4, 0.50),
                (2, 0.30),
                (1, 0.35),
                (9, 0.20),
                (7, 0.15),
                (14, 0.30),
            ]),
            p(&[
                (10, 0.50),
                (12, 0.45),
                (5, 0.30),
                (6, 0.25),
                (11, 0.20),
                (13, 0.15),
                (14, 0.30),
            ]),
        ]
    }
}

fn bench(c: &mut Criterion) {
    let set = RuleSet::builtin().expect("default rules load");
    let quiet = vector(
        ACCOUNT_FEATURES,
        &[
            ("in_yuan_24h", 300.0),
            ("pass_through_24h", 0.2),
            ("payers_24h", 2.0),
            ("age_days", 900.0),
        ],
    );
    let mule = vector(
        ACCOUNT_FEATURES,
        &[
            ("in_yuan_24h", 12000.0),
            ("pass_through_24h", 0.99),
            ("dwell_median_s", 420.0),
            ("out_count_24h", 3.0),
            ("payers_24h", 12.0),
            ("payees_24h", 3.0),
            ("age_days", 2.0),
            ("age_at_first_inflow_h", 48.0),
            ("in_yuan_7d", 12000.0),
            ("in_count_7d", 12.0),
            ("out_count_7d", 3.0),
        ],
    );
    let caller = vector(
        NUMBER_FEATURES,
        &[
            ("calls_out_24h", 60.0),
            ("callees_24h", 55.0),
            ("stranger_share_24h", 0.95),
            ("short_call_share_24h", 0.8),
            ("sim_age_days", 3.0),
        ],
    );
    let base = Baseline::new();
    let mut g = c.benchmark_group("rules");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut buf = Scores::default();
    g.bench_function("baseline_hand_written/account_quiet", |b| {
        b.iter(|| base.score(black_box(&quiet)))
    });
    g.bench_function("baseline_hand_written/account_mule", |b| {
        b.iter(|| base.score(black_box(&mule)))
    });
    g.bench_function("ruleset/account_quiet", |b| {
        b.iter(|| {
            set.evaluate_into(EntityKind::Account, black_box(&quiet), &mut buf)
                .ok();
            buf.as_slice().len()
        })
    });
    g.bench_function("ruleset/account_mule", |b| {
        b.iter(|| {
            set.evaluate_into(EntityKind::Account, black_box(&mule), &mut buf)
                .ok();
            buf.as_slice().len()
        })
    });
    g.bench_function("ruleset/number_scam_caller", |b| {
        b.iter(|| {
            set.evaluate_into(EntityKind::Number, black_box(&caller), &mut buf)
                .ok();
            buf.as_slice().len()
        })
    });
    g.bench_function("ruleset/account_mule_allocating", |b| {
        b.iter(|| {
            set.evaluate(EntityKind::Account, black_box(&mule))
                .map(|v| v.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
