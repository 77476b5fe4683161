//! The `hard` profile is harder in the ways `Profile::Hard` documents, measured on the written
//! files and labels of the same seed and scale: heavier camouflage on mule cards, fewer victims
//! per first-level card (rings rotate cards quickly), slower laundering, more look-alikes.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::Table;
use fanzha_sim::{Config, Profile, Scale};

/// What one run looks like through its files.
struct Measures {
    /// Transactions on listed mule cards whose other party is outside the ring and its
    /// victims (small purchases and transfers in from outside), per listed mule card.
    camouflage_per_card: f64,
    /// Distinct victims paying into each first-level card that received any, on average.
    victims_per_l1: f64,
    /// Median minutes from a victim's first payment to the first exit of their money.
    median_minutes_to_exit: f64,
    /// Residents tagged as look-alikes (riders, group-buy leaders, small traders).
    lookalikes: usize,
    /// Leads that name nothing labelled in `entities.csv`.
    false_leads: usize,
}

fn config(profile: Profile) -> Config {
    let mut cfg = Config::new(11, Scale::Small, profile);
    cfg.residents = 10_000;
    cfg.days = 7;
    // Enough victims (about 80) for medians and per-card means to settle.
    cfg.params.victims_per_10k_week = 80.0;
    cfg
}

fn measure(dir: &Path) -> Measures {
    let entities = Table::read(&dir.join("labels/entities.csv"));
    let (etype, eid, erole) = (
        entities.col("entity_type"),
        entities.col("entity_id"),
        entities.col("role"),
    );
    let labelled: HashSet<&str> = entities.rows.iter().map(|r| r[eid].as_str()).collect();
    let role_of: HashMap<&str, &str> = entities
        .rows
        .iter()
        .filter(|r| r[etype] == "account")
        .map(|r| (r[eid].as_str(), r[erole].as_str()))
        .collect();
    let accounts = Table::read(&dir.join("accounts.csv"));
    let listed: HashSet<&str> = accounts
        .rows
        .iter()
        .map(|r| r[accounts.col("account_id")].as_str())
        .collect();
    let mule = |a: &str| {
        matches!(
            role_of.get(a).copied(),
            Some("mule_l1" | "mule_l2" | "mule_l3")
        )
    };
    let listed_mules: HashSet<&str> = role_of
        .keys()
        .copied()
        .filter(|a| mule(a) && listed.contains(a))
        .collect();
    assert!(!listed_mules.is_empty(), "no listed mule card");

    let victims = Table::read(&dir.join("labels/victims.csv"));
    let (vrep, vperson, vpay) = (
        victims.col("report_id"),
        victims.col("person_id"),
        victims.col("payment_tx_ids"),
    );
    // The victim's key in flows.csv: report id, or person id when unreported.
    let mut payment_of: HashMap<&str, &str> = HashMap::new();
    for r in &victims.rows {
        let key = if r[vrep].is_empty() {
            &r[vperson]
        } else {
            &r[vrep]
        };
        for tx in r[vpay].split('|').filter(|t| !t.is_empty()) {
            payment_of.insert(tx, key);
        }
    }

    let tx = Table::read(&dir.join("transactions.csv"));
    let (tid, tts, tfrom, tto, tch) = (
        tx.col("tx_id"),
        tx.col("ts"),
        tx.col("from_account"),
        tx.col("to_account"),
        tx.col("channel"),
    );
    let mut camouflage = 0usize;
    let mut on_l1: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut first_payment: HashMap<&str, i64> = HashMap::new();
    let mut by_id: HashMap<&str, (i64, &str, &str)> = HashMap::new();
    for r in &tx.rows {
        let (from, to) = (r[tfrom].as_str(), r[tto].as_str());
        let ts = common::minutes(&r[tts]);
        by_id.insert(&r[tid], (ts, &r[tch], to));
        if let Some(&victim) = payment_of.get(r[tid].as_str()) {
            let first = first_payment.entry(victim).or_insert(ts);
            *first = (*first).min(ts);
            if role_of.get(to) == Some(&"mule_l1") {
                on_l1.entry(to).or_default().insert(victim);
            }
            continue;
        }
        // A mule card's dealings with parties outside the ring: neither side labelled (the
        // card itself aside) and not a cash withdrawal, which is the courier's exit.
        let (card, other) = if listed_mules.contains(from) {
            (from, to)
        } else if listed_mules.contains(to) {
            (to, from)
        } else {
            continue;
        };
        if !other.is_empty() && !labelled.contains(other) && card != other {
            camouflage += 1;
        }
    }

    // Exits: cash, virtual currency, merchant trades, or a transfer to a labelled exit card.
    let flows = Table::read(&dir.join("labels/flows.csv"));
    let (ftx, fkey) = (flows.col("tx_id"), flows.col("report_id"));
    let mut first_exit: HashMap<&str, i64> = HashMap::new();
    for r in &flows.rows {
        let Some(&(ts, channel, to)) = by_id.get(r[ftx].as_str()) else {
            panic!("flow {} is not a transaction", r[ftx]);
        };
        let exit = matches!(channel, "atm_withdrawal" | "crypto_exchange" | "merchant")
            || role_of.get(to) == Some(&"exit_account");
        if exit {
            let e = first_exit.entry(r[fkey].as_str()).or_insert(ts);
            *e = (*e).min(ts);
        }
    }
    let mut delays: Vec<i64> = first_exit
        .iter()
        .filter_map(|(v, &e)| first_payment.get(v).map(|&p| e - p))
        .collect();
    assert!(
        delays.len() >= 20,
        "{} victims reached an exit",
        delays.len()
    );
    delays.sort_unstable();

    let persons = Table::read(&dir.join("persons.csv"));
    let tags = persons.col("tags");
    let lookalikes = persons
        .rows
        .iter()
        .filter(|r| {
            r[tags]
                .split('|')
                .any(|t| matches!(t, "delivery_rider" | "group_buy_leader" | "small_trader"))
        })
        .count();

    let leads = Table::read(&dir.join("leads.csv"));
    let named = [
        leads.col("person_id"),
        leads.col("msisdn"),
        leads.col("account_id"),
    ];
    let false_leads = leads
        .rows
        .iter()
        .filter(|r| named.iter().all(|&c| !labelled.contains(r[c].as_str())))
        .count();

    Measures {
        camouflage_per_card: camouflage as f64 / listed_mules.len() as f64,
        victims_per_l1: on_l1.values().map(HashSet::len).sum::<usize>() as f64
            / on_l1.len().max(1) as f64,
        median_minutes_to_exit: delays[delays.len() / 2] as f64,
        lookalikes,
        false_leads,
    }
}

#[test]
fn hard_is_harder_in_the_documented_ways() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    common::run(&config(Profile::Default), a.path());
    common::run(&config(Profile::Hard), b.path());
    let (d, h) = (measure(a.path()), measure(b.path()));
    let show = |m: &Measures| {
        format!(
            "camouflage/card {:.2}, victims/L1 {:.2}, median to exit {} min, look-alikes {}, \
             false leads {}",
            m.camouflage_per_card,
            m.victims_per_l1,
            m.median_minutes_to_exit,
            m.lookalikes,
            m.false_leads
        )
    };
    let both = format!("default: {}; hard: {}", show(&d), show(&h));
    // The figures, for `cargo test -- --nocapture`.
    eprintln!("{both}");
    // Camouflage: 1.5 a day against 0.4 per card in use.
    assert!(
        h.camouflage_per_card > 2.0 * d.camouflage_per_card,
        "heavier camouflage: {both}"
    );
    // Rotation: at most 2 victims start on a card against 6.
    assert!(
        h.victims_per_l1 < d.victims_per_l1,
        "fewer victims per first-level card: {both}"
    );
    // Laundering: each hop holds 90 minutes (median) against 12.
    assert!(
        h.median_minutes_to_exit > 2.0 * d.median_minutes_to_exit,
        "slower laundering: {both}"
    );
    // Look-alike shares are doubled; false leads are half the true ones against a fifth.
    assert!(h.lookalikes > d.lookalikes, "more look-alikes: {both}");
    assert!(h.false_leads > d.false_leads, "more false leads: {both}");
}
