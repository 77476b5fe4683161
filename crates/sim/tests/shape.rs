//! Statistical shape of the fraud plan against its documented parameters: the typology mix
//! (LEGAL.md's 2022 proportions) and the share of elderly victims per typology. Tolerances are
//! four standard errors, plus a little for sampling victims without replacement.

use fanzha_core::vocab::Typology;
use fanzha_sim::world::{tag, World};
use fanzha_sim::{fraud, Config, Profile, Scale};

#[test]
fn typology_mix_and_elderly_shares_follow_the_parameters() {
    let mut cfg = Config::new(99, Scale::Small, Profile::Default);
    cfg.residents = 40_000;
    cfg.days = 7;
    cfg.params.victims_per_10k_week = 750.0;
    cfg.params.victims_per_ring = 400.0;
    let mut world = World::generate(&cfg);
    // Expected elderly share under each typology's weights, over everyone who can be a victim.
    let expected: Vec<f64> = cfg
        .params
        .typologies
        .iter()
        .map(|t| {
            let (mut old, mut all) = (0.0, 0.0);
            for p in world
                .persons
                .iter()
                .filter(|p| !p.is_company && !p.sims.is_empty() && !p.accounts.is_empty())
            {
                let mut w = t.age_weight[p.band()];
                if p.has(tag::LIVES_ALONE) {
                    w *= t.lives_alone_boost;
                }
                all += w;
                if p.age >= 60 {
                    old += w;
                }
            }
            old / all
        })
        .collect();
    let plan = fraud::plan(&cfg, &mut world);
    let n = plan.victims.len() as f64;
    assert!(n > 2_500.0, "{n} victims");
    let mut shares = Vec::new();
    for (i, t) in cfg.params.typologies.iter().enumerate() {
        let vs: Vec<_> = plan
            .victims
            .iter()
            .filter(|v| v.typology == t.typology)
            .collect();
        let k = vs.len() as f64;
        let se = (t.share * (1.0 - t.share) / n).sqrt();
        assert!(
            (k / n - t.share).abs() < 4.0 * se + 0.005,
            "{:?}: {} of {n}, expected share {}",
            t.typology,
            k,
            t.share
        );
        let old = vs
            .iter()
            .filter(|v| world.persons[v.person as usize].age >= 60)
            .count() as f64;
        let e = expected[i];
        let se = (e * (1.0 - e) / k.max(1.0)).sqrt();
        assert!(
            (old / k - e).abs() < 4.0 * se + 0.04,
            "{:?}: elderly share {} expected {e}",
            t.typology,
            old / k
        );
        shares.push((t.typology, old / k));
    }
    let share = |t: Typology| shares.iter().find(|s| s.0 == t).map_or(0.0, |s| s.1);
    let population =
        world.persons.iter().filter(|p| p.age >= 60).count() as f64 / world.resident_count() as f64;
    assert!(
        share(Typology::ImpersonatingOfficials) > population + 0.15,
        "officials skew elderly"
    );
    assert!(
        share(Typology::FakeInvestment) > population,
        "investment skews elderly"
    );
    assert!(
        share(Typology::OrderBrushing) < population - 0.1,
        "order brushing skews young"
    );
}
