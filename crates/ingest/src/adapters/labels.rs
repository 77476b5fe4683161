//! Ground truth from a benchmark's laundering flags: `labels/flows.csv`,
//! `labels/entities.csv` and `labels/rings.csv` in DATA.md's layout.
//!
//! Only laundering transactions are kept in memory (about 0.1 % of AMLworld's rows), so
//! labels cost little beside the streamed data.
//!
//! **Hops.** Within a ring, transactions are taken in time order; one leaving an account
//! that has not yet received ring money is hop 0, otherwise it is one more than the
//! deepest ring transaction that reached the account before. A fan-out is all hop 0, a
//! cycle counts 0, 1, 2…, a gather-scatter is 0 then 1. Transactions in no ring have no hop.
//!
//! **Roles** (see [`roles`]), per account and ring, from the hops: an account that sends at
//! hop 0 is where the money enters ([`roles::SOURCE`]); one that only receives is where it
//! ends ([`roles::EXIT`]); one that receives and passes money on is a mule of the level of the
//! first ring money it received (`mule_l1` at hop 0, `mule_l2` at hop 1, `mule_l3` deeper).
//! An account seen only in laundering transactions of no ring gets [`roles::PARTY`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::output::{Sheet, WrittenFile};
use super::ConvertError;

/// The roles written to `labels/entities.csv`. `mule_l1`… and `exit_account` are DATA.md's;
/// the other two name what the benchmarks know and DATA.md's fraud roles do not.
pub mod roles {
    /// Sends ring money first: the placement account (DATA.md's victim is its fraud analogue).
    pub const SOURCE: &str = "laundering_source";
    pub const MULE_L1: &str = "mule_l1";
    pub const MULE_L2: &str = "mule_l2";
    pub const MULE_L3: &str = "mule_l3";
    /// Receives ring money and passes none on within the ring.
    pub const EXIT: &str = "exit_account";
    /// In a laundering transaction that belongs to no known ring: structure unknown.
    pub const PARTY: &str = "laundering_party";
}

/// A ring: an AMLworld laundering attempt or an AMLSim alert.
#[derive(Debug, Clone)]
pub struct Ring {
    pub id: String,
    /// The benchmark's pattern (`fan_out`, `cycle`, …): a laundering pattern, not a
    /// typology (DATA.md keeps that word for the victim's scam type).
    pub pattern: String,
    pub detail: String,
}

/// One laundering transaction.
#[derive(Debug, Clone)]
pub struct Flow {
    pub tx_id: String,
    pub micros: i64,
    pub from: String,
    pub to: String,
    /// Index into the rings.
    pub ring: Option<usize>,
}

#[derive(Default)]
pub struct Labels {
    pub rings: Vec<Ring>,
    pub flows: Vec<Flow>,
}

/// What `finish` wrote.
pub struct Written {
    pub files: Vec<WrittenFile>,
    pub rings: u64,
    pub unattributed: u64,
}

/// Hop of each flow of one ring, by position in `flows` (all of one ring).
fn hops(flows: &[&Flow]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..flows.len()).collect();
    order.sort_by(|&a, &b| {
        (flows[a].micros, &flows[a].tx_id).cmp(&(flows[b].micros, &flows[b].tx_id))
    });
    let mut reached: HashMap<&str, u32> = HashMap::new();
    let mut hop = vec![0; flows.len()];
    for i in order {
        let f = flows[i];
        let h = reached.get(f.from.as_str()).map_or(0, |d| d + 1);
        hop[i] = h;
        let r = reached.entry(f.to.as_str()).or_insert(h);
        *r = (*r).max(h);
    }
    hop
}

#[derive(Default)]
struct Seen {
    sends_first: bool,
    sends: bool,
    first_in: Option<u32>,
}

fn role(s: &Seen) -> &'static str {
    if s.sends_first {
        roles::SOURCE
    } else if !s.sends {
        roles::EXIT
    } else {
        match s.first_in {
            Some(0) | None => roles::MULE_L1,
            Some(1) => roles::MULE_L2,
            Some(_) => roles::MULE_L3,
        }
    }
}

impl Labels {
    pub fn finish(self, out: &Path) -> Result<Written, ConvertError> {
        let mut by_ring: BTreeMap<usize, Vec<&Flow>> = BTreeMap::new();
        let mut loose: Vec<&Flow> = Vec::new();
        for f in &self.flows {
            match f.ring {
                Some(r) => by_ring.entry(r).or_default().push(f),
                None => loose.push(f),
            }
        }

        let mut flows = Sheet::create(
            out,
            "labels/flows.csv",
            &["tx_id", "ring_id", "report_id", "hop"],
        )?;
        let mut entities = Sheet::create(
            out,
            "labels/entities.csv",
            &["entity_type", "entity_id", "role", "ring_id"],
        )?;
        let mut rings = Sheet::create(
            out,
            "labels/rings.csv",
            &[
                "ring_id",
                "members",
                "typologies",
                "den_places",
                "pattern",
                "detail",
            ],
        )?;
        let mut in_a_ring: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut ring_count = 0;
        for (&r, members) in &by_ring {
            let ring = &self.rings[r];
            let hop = hops(members);
            let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
            let mut rows: Vec<(&Flow, u32)> = members.iter().copied().zip(hop).collect();
            rows.sort_by(|a, b| (a.0.micros, &a.0.tx_id).cmp(&(b.0.micros, &b.0.tx_id)));
            for (f, h) in &rows {
                let from = seen.entry(f.from.as_str()).or_default();
                from.sends = true;
                from.sends_first |= *h == 0;
                let to = seen.entry(f.to.as_str()).or_default();
                to.first_in = Some(to.first_in.map_or(*h, |d| d.min(*h)));
                flows.row([f.tx_id.as_str(), ring.id.as_str(), "", &h.to_string()])?;
            }
            for (account, s) in &seen {
                entities.row(["account", account, role(s), ring.id.as_str()])?;
                in_a_ring.insert(account);
            }
            rings.row([
                ring.id.as_str(),
                &seen.len().to_string(),
                "",
                "",
                ring.pattern.as_str(),
                ring.detail.as_str(),
            ])?;
            ring_count += 1;
        }
        loose.sort_by(|a, b| (a.micros, &a.tx_id).cmp(&(b.micros, &b.tx_id)));
        let mut parties: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for f in &loose {
            flows.row([f.tx_id.as_str(), "", "", ""])?;
            for a in [f.from.as_str(), f.to.as_str()] {
                if !in_a_ring.contains(a) {
                    parties.insert(a);
                }
            }
        }
        for a in parties {
            entities.row(["account", a, roles::PARTY, ""])?;
        }
        Ok(Written {
            files: vec![flows.finish()?, entities.finish()?, rings.finish()?],
            rings: ring_count,
            unattributed: loose.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(id: &str, t: i64, from: &str, to: &str) -> Flow {
        Flow {
            tx_id: id.into(),
            micros: t,
            from: from.into(),
            to: to.into(),
            ring: Some(0),
        }
    }

    fn roles_of(flows: &[Flow]) -> BTreeMap<String, &'static str> {
        let refs: Vec<&Flow> = flows.iter().collect();
        let h = hops(&refs);
        let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
        for (f, h) in refs.iter().zip(h) {
            let s = seen.entry(&f.from).or_default();
            s.sends = true;
            s.sends_first |= h == 0;
            let t = seen.entry(&f.to).or_default();
            t.first_in = Some(t.first_in.map_or(h, |d| d.min(h)));
        }
        seen.into_iter()
            .map(|(a, s)| (a.to_owned(), role(&s)))
            .collect()
    }

    #[test]
    fn a_chain_counts_hops_and_levels() {
        let f = [
            flow("t1", 1, "S", "A"),
            flow("t2", 2, "A", "B"),
            flow("t3", 3, "B", "C"),
            flow("t4", 4, "C", "X"),
        ];
        let refs: Vec<&Flow> = f.iter().collect();
        assert_eq!(hops(&refs), vec![0, 1, 2, 3]);
        let r = roles_of(&f);
        assert_eq!(r["S"], roles::SOURCE);
        assert_eq!(r["A"], roles::MULE_L1);
        assert_eq!(r["B"], roles::MULE_L2);
        assert_eq!(r["C"], roles::MULE_L3);
        assert_eq!(r["X"], roles::EXIT);
    }

    #[test]
    fn fan_out_and_gather_scatter() {
        let fan = [
            flow("a", 1, "S", "A"),
            flow("b", 1, "S", "B"),
            flow("c", 2, "S", "C"),
        ];
        let refs: Vec<&Flow> = fan.iter().collect();
        assert_eq!(hops(&refs), vec![0, 0, 0]);
        let r = roles_of(&fan);
        assert_eq!(
            (r["S"], r["A"], r["C"]),
            (roles::SOURCE, roles::EXIT, roles::EXIT)
        );

        let gs = [
            flow("g1", 1, "P", "H"),
            flow("g2", 2, "Q", "H"),
            flow("s1", 3, "H", "X"),
            flow("s2", 4, "H", "Y"),
        ];
        let refs: Vec<&Flow> = gs.iter().collect();
        assert_eq!(hops(&refs), vec![0, 0, 1, 1]);
        let r = roles_of(&gs);
        assert_eq!(
            (r["P"], r["H"], r["Y"]),
            (roles::SOURCE, roles::MULE_L1, roles::EXIT)
        );
    }

    #[test]
    fn a_cycle_starts_at_its_source_even_though_money_returns() {
        let c = [
            flow("1", 1, "A", "B"),
            flow("2", 2, "B", "C"),
            flow("3", 3, "C", "A"),
        ];
        let refs: Vec<&Flow> = c.iter().collect();
        assert_eq!(hops(&refs), vec![0, 1, 2]);
        let r = roles_of(&c);
        assert_eq!(
            (r["A"], r["B"], r["C"]),
            (roles::SOURCE, roles::MULE_L1, roles::MULE_L2)
        );
    }
}
