//! Statistical shape of the written district against its documented parameters: the typology
//! mix of `labels/victims.csv` (LEGAL.md's 2022 proportions, `TypologyParams::share`) and, per
//! typology, the share of elderly victims (`persons.csv`'s `elderly` tag, which the simulator
//! gives exactly the residents aged 60 and over) against what the typology's age weights and
//! lives-alone boost imply over the written population.
//!
//! Tolerances. Each victim's typology is an independent draw from the shares, so a typology's
//! count among n victims is binomial: standard error √(s(1−s)/n). Given its typology, a victim
//! is drawn in proportion to the typology's weight, so the elderly count among k victims of a
//! typology is binomial with the weighted elderly share e: standard error √(e(1−e)/k). Every
//! check allows 4 standard errors: two-sided, the chance that one check fails by accident is
//! 6·10⁻⁵, and 1·10⁻³ for all 18 together, so a failure means the shape is wrong, not the seed.
//! The elderly checks allow 0.01 more for drawing victims without replacement: 3,000 victims
//! take at most about 4 % of any age band, which moves e by less than e(1−e)·0.04 ≤ 0.01.

mod common;

use std::collections::HashMap;

use common::Table;
use fanzha_sim::config::TypologyParams;
use fanzha_sim::{Config, Profile, Scale};

/// What the test needs of a person: age band (as `Person::band`), the two tags.
struct Resident {
    band: usize,
    elderly: bool,
    lives_alone: bool,
}

/// A typology's weight for a resident, as the parameters document it.
fn weight(t: &TypologyParams, r: &Resident) -> f64 {
    let w = t.age_weight[r.band];
    if r.lives_alone {
        w * t.lives_alone_boost
    } else {
        w
    }
}

#[test]
fn written_typology_mix_and_elderly_shares_follow_the_parameters() {
    let mut cfg = Config::new(99, Scale::Small, Profile::Default);
    // A wide population and one day with a boosted victim rate: about 3,000 victims, few
    // enough that drawing them without replacement barely changes who is left.
    cfg.residents = 100_000;
    cfg.days = 1;
    cfg.params.victims_per_10k_week = 2_100.0;
    cfg.params.victims_per_ring = 400.0;
    // Every person id then carries a birth date (passports do not).
    cfg.params.foreign_share = 0.0;
    // Victims found through the leaked list are drawn from the list alone; drawing from it in
    // proportion to its size keeps each victim a draw over the whole population (the list is
    // a random sample of residents, independent of age), as the expected shares assume.
    cfg.params.leaked_list_share = cfg.params.leaked_population_share;
    let dir = tempfile::tempdir().unwrap();
    common::run(&cfg, dir.path());

    // Who can be a victim: residents (not companies) with a phone. Every resident holds an
    // account, so the phone is the only filter left.
    let persons = Table::read(&dir.path().join("persons.csv"));
    let (id, kind, phone, tags) = (
        persons.col("person_id"),
        persons.col("id_kind"),
        persons.col("phone"),
        persons.col("tags"),
    );
    let mut residents: HashMap<&str, Resident> = HashMap::new();
    for row in &persons.rows {
        if row[kind] == "company" || row[phone].is_empty() {
            continue;
        }
        let age = common::age(&row[id]).unwrap_or_else(|| panic!("no birth date in {}", row[id]));
        let has = |t: &str| row[tags].split('|').any(|x| x == t);
        let elderly = has("elderly");
        assert_eq!(elderly, age >= 60, "{}: elderly tag at age {age}", row[id]);
        let band = match age {
            0..=29 => 0,
            30..=59 => 1,
            _ => 2,
        };
        residents.insert(
            &row[id],
            Resident {
                band,
                elderly,
                lives_alone: has("lives_alone"),
            },
        );
    }

    let victims = Table::read(&dir.path().join("labels/victims.csv"));
    let (vp, vt) = (victims.col("person_id"), victims.col("typology"));
    let n = victims.rows.len() as f64;
    assert!(n > 2_500.0, "{n} victims");
    let mut elderly_share = HashMap::new();
    for t in &cfg.params.typologies {
        let of_t: Vec<&Resident> = victims
            .rows
            .iter()
            .filter(|r| r[vt] == t.typology.as_str())
            .map(|r| {
                residents
                    .get(r[vp].as_str())
                    .unwrap_or_else(|| panic!("victim {} is not a resident with a phone", r[vp]))
            })
            .collect();
        let k = of_t.len() as f64;
        let se = (t.share * (1.0 - t.share) / n).sqrt();
        assert!(
            (k / n - t.share).abs() < 4.0 * se,
            "{:?}: {k} of {n} victims, expected share {} ± {:.4}",
            t.typology,
            t.share,
            4.0 * se
        );

        let (mut old, mut all) = (0.0, 0.0);
        for r in residents.values() {
            let w = weight(t, r);
            all += w;
            if r.elderly {
                old += w;
            }
        }
        let e = old / all;
        let observed = of_t.iter().filter(|r| r.elderly).count() as f64 / k;
        let tolerance = 4.0 * (e * (1.0 - e) / k).sqrt() + 0.01;
        assert!(
            (observed - e).abs() < tolerance,
            "{:?}: elderly share {observed:.3} of {k} victims, expected {e:.3} ± {tolerance:.3}",
            t.typology
        );
        // The figures, for `cargo test -- --nocapture`.
        eprintln!(
            "{:<24} share {:.3} (expected {:.3}), elderly {observed:.3} (expected {e:.3})",
            t.typology.as_str(),
            k / n,
            t.share
        );
        elderly_share.insert(t.typology.as_str(), observed);
    }

    // The documented skews, against the population's own elderly share.
    let population =
        residents.values().filter(|r| r.elderly).count() as f64 / residents.len() as f64;
    let share = |t: &str| elderly_share.get(t).copied().unwrap_or(0.0);
    assert!(
        share("impersonating_officials") > population + 0.15,
        "officials skew elderly"
    );
    assert!(
        share("fake_investment") > population,
        "investment skews elderly"
    );
    assert!(
        share("order_brushing") < population - 0.1,
        "order brushing skews young"
    );
}
