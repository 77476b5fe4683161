//! The ground truth agrees with the data: every labelled transaction exists; the flows are
//! exactly the transactions that carry victims' money under FIFO; `holdings.csv` equals an
//! independent FIFO replay of the ledger written here; along each ring's flows, what left
//! the victims equals what is held plus what exited; reports agree with their payments.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::Path;

use common::Table;

/// What the replay found: holdings, exits and the flows (tx, victim key).
struct Replay {
    holdings: BTreeMap<(String, String), i64>,
    exited: HashMap<String, i64>,
    carried: BTreeSet<(String, String)>,
}

/// FIFO (Clayton's rule) as `labels.rs` documents it, written independently: queues of
/// (owner, amount) per account; `None` is untraced money.
fn replay(dir: &Path, payments: &HashMap<String, String>) -> Replay {
    let mut queues: HashMap<String, VecDeque<(Option<String>, i64)>> = HashMap::new();
    let balances = Table::read(&dir.join("balances.csv"));
    for r in &balances.rows {
        let amount: i64 = r[balances.col("balance_fen")].parse().unwrap_or(0);
        queues
            .entry(r[balances.col("account_id")].clone())
            .or_default()
            .push_back((None, amount));
    }
    let tx = Table::read(&dir.join("transactions.csv"));
    let (id, from, to, amt, ch) = (
        tx.col("tx_id"),
        tx.col("from_account"),
        tx.col("to_account"),
        tx.col("amount_fen"),
        tx.col("channel"),
    );
    let mut out = Replay {
        holdings: BTreeMap::new(),
        exited: HashMap::new(),
        carried: BTreeSet::new(),
    };
    for r in &tx.rows {
        let amount: i64 = r[amt].parse().unwrap_or(0);
        let mut pieces: Vec<(Option<String>, i64)> = Vec::new();
        if !r[from].is_empty() {
            let q = queues.entry(r[from].clone()).or_default();
            let mut need = amount;
            while need > 0 {
                let Some(front) = q.front_mut() else { break };
                let take = need.min(front.1);
                pieces.push((front.0.clone(), take));
                front.1 -= take;
                need -= take;
                if front.1 == 0 {
                    q.pop_front();
                }
            }
            if need > 0 {
                pieces.push((None, need));
            }
        } else {
            pieces.push((None, amount));
        }
        let exit = matches!(
            r[ch].as_str(),
            "atm_withdrawal" | "crypto_exchange" | "merchant"
        );
        let incoming: Vec<(Option<String>, i64)> = if let Some(victim) = payments.get(&r[id]) {
            out.carried.insert((r[id].clone(), victim.clone()));
            vec![(Some(victim.clone()), amount)]
        } else {
            for (owner, a) in &pieces {
                if let Some(o) = owner {
                    out.carried.insert((r[id].clone(), o.clone()));
                    if exit {
                        *out.exited.entry(o.clone()).or_default() += a;
                    }
                }
            }
            if exit {
                vec![(None, amount)]
            } else {
                pieces
            }
        };
        if !r[to].is_empty() {
            queues.entry(r[to].clone()).or_default().extend(incoming);
        }
    }
    for (account, q) in queues {
        for (owner, a) in q {
            if let Some(o) = owner {
                *out.holdings.entry((account.clone(), o)).or_default() += a;
            }
        }
    }
    out.holdings.retain(|_, v| *v > 0);
    out
}

#[test]
fn labels_agree_with_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::run(&common::small(21), d);

    let tx = Table::read(&d.join("transactions.csv"));
    let amounts: HashMap<String, i64> = tx
        .rows
        .iter()
        .map(|r| {
            (
                r[tx.col("tx_id")].clone(),
                r[tx.col("amount_fen")].parse().unwrap_or(0),
            )
        })
        .collect();
    let victims = Table::read(&d.join("labels/victims.csv"));
    assert!(
        victims.rows.len() >= 5,
        "too few victims to check: {}",
        victims.rows.len()
    );
    // Victim key: the report id, or the person id when unreported.
    let mut payments: HashMap<String, String> = HashMap::new();
    for r in &victims.rows {
        let key = if r[victims.col("report_id")].is_empty() {
            r[victims.col("person_id")].clone()
        } else {
            r[victims.col("report_id")].clone()
        };
        let ids: Vec<&str> = r[victims.col("payment_tx_ids")].split('|').collect();
        let paid: i64 = ids
            .iter()
            .map(|t| {
                *amounts
                    .get(*t)
                    .unwrap_or_else(|| panic!("payment {t} is not a transaction"))
            })
            .sum();
        assert_eq!(
            paid,
            r[victims.col("loss_fen")].parse::<i64>().unwrap_or(-1),
            "loss of {key}"
        );
        for t in ids {
            payments.insert(t.to_owned(), key.clone());
        }
    }

    let flows = Table::read(&d.join("labels/flows.csv"));
    let mut ring_of: HashMap<String, String> = HashMap::new();
    let mut labelled: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &flows.rows {
        let (t, key) = (
            r[flows.col("tx_id")].clone(),
            r[flows.col("report_id")].clone(),
        );
        assert!(amounts.contains_key(&t), "flow {t} is not a transaction");
        let hop: u32 = r[flows.col("hop")].parse().unwrap_or(u32::MAX);
        assert_eq!(
            hop == 0,
            payments.get(&t) == Some(&key),
            "hop 0 is exactly a victim's payment: {t}"
        );
        ring_of.insert(key.clone(), r[flows.col("ring_id")].clone());
        labelled.insert((t, key));
    }

    let rp = replay(d, &payments);
    assert_eq!(
        labelled, rp.carried,
        "flows are the transactions that carry victims' money"
    );
    let holdings = Table::read(&d.join("labels/holdings.csv"));
    let mut listed: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &holdings.rows {
        listed.insert((r[0].clone(), r[1].clone()), r[2].parse().unwrap_or(0));
    }
    assert_eq!(listed, rp.holdings, "holdings.csv is the FIFO replay's");
    assert!(
        !listed.is_empty(),
        "some victim money is still held somewhere"
    );

    // Conservation per ring: paid = held + exited.
    let mut paid: HashMap<&str, i64> = HashMap::new();
    for (t, key) in &payments {
        *paid.entry(ring_of[key].as_str()).or_default() += amounts[t];
    }
    let mut kept: HashMap<&str, i64> = HashMap::new();
    for ((_, key), a) in &listed {
        *kept.entry(ring_of[key].as_str()).or_default() += a;
    }
    for (key, a) in &rp.exited {
        *kept.entry(ring_of[key].as_str()).or_default() += a;
    }
    assert_eq!(paid, kept, "per ring, what victims paid is held or exited");

    // Reports: each names payments of its own victim, and its loss is their sum.
    let reports = Table::read(&d.join("reports.csv"));
    let rpay = Table::read(&d.join("report_payments.csv"));
    let mut named: HashMap<&str, i64> = HashMap::new();
    for r in &rpay.rows {
        assert_eq!(
            payments.get(&r[1]).map(String::as_str),
            Some(r[0].as_str()),
            "report payment {} of {}",
            r[1],
            r[0]
        );
        *named.entry(r[0].as_str()).or_default() += amounts[&r[1]];
    }
    let window: HashSet<&str> = victims
        .rows
        .iter()
        .map(|r| r[victims.col("report_id")].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    for r in &reports.rows {
        let id = r[reports.col("report_id")].as_str();
        if window.contains(id) {
            assert_eq!(
                named.get(id).copied(),
                r[reports.col("loss_fen")].parse().ok(),
                "loss of report {id}"
            );
        }
    }

    // Every labelled entity exists in the data it names.
    let entities = Table::read(&d.join("labels/entities.csv"));
    let persons: HashSet<String> = Table::read(&d.join("persons.csv"))
        .rows
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let places: HashSet<String> = Table::read(&d.join("places.csv"))
        .rows
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let roles: HashSet<String> = entities.rows.iter().map(|r| r[2].clone()).collect();
    for r in &entities.rows {
        match r[0].as_str() {
            "person" => assert!(persons.contains(&r[1]), "person {}", r[1]),
            "place" => assert!(places.contains(&r[1]), "place {}", r[1]),
            _ => {}
        }
    }
    for role in [
        "victim",
        "card_supplier",
        "card_dealer",
        "mule_l1",
        "mule_l2",
        "mule_l3",
        "runner",
        "courier",
        "caller",
        "caller_sim",
        "ring_sim",
        "sim_box",
        "den_device",
        "ring_device",
        "den",
        "data_seller",
        "exit_account",
        "crypto_exit",
    ] {
        assert!(roles.contains(role), "no entity has role {role}");
    }
}
