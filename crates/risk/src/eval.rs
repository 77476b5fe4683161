//! Scoring warnings against ground truth (`fanzha eval risk`): precision, recall, F1 and
//! average precision per entity type at the operating threshold, per role and per pattern,
//! and the detection delay.
//!
//! What counts: the targets are about mule and runner *accounts* and scam-caller
//! *SIMs*, so those roles are the positives. A warning on an entity with another fraud role
//! (an exit account, a SIM-box card) is neither right nor wrong for that target: it is
//! left out of precision and reported on its own. Every other warning (an unlabelled
//! entity, a victim's account) is a false alarm.

use std::collections::{BTreeMap, HashMap, HashSet};

/// An entity type the targets are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalType {
    Account,
    Sim,
}

impl EvalType {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalType::Account => "account",
            EvalType::Sim => "sim",
        }
    }

    /// The roles a warning on this type should find (the model's training targets too).
    pub fn is_target(self, role: &str) -> bool {
        match self {
            EvalType::Account => matches!(role, "mule_l1" | "mule_l2" | "mule_l3" | "runner"),
            EvalType::Sim => role == "caller_sim",
        }
    }
}

/// One labelled entity (a row of `labels/entities.csv`).
#[derive(Debug, Clone)]
pub struct Labelled {
    pub kind: EvalType,
    pub id: String,
    pub role: String,
}

/// One stored warning.
#[derive(Debug, Clone)]
pub struct Warned {
    pub kind: EvalType,
    pub id: String,
    pub pattern: String,
    pub score: u8,
    pub first_warned_at: i64,
}

/// The figures of one entity type.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TypeReport {
    /// Entities with a target role.
    pub positives: u64,
    pub warned: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    /// Warnings on entities with another fraud role: left out of precision.
    pub other_fraud_warned: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Area under the precision–recall curve, as average precision over the warnings
    /// ranked by score; a positive never warned counts as missed (precision 0).
    pub average_precision: f64,
    /// Median of (first warning − first fraud use) over found positives whose first fraud
    /// use is known, in hours; negative when the warning came first.
    pub median_delay_hours: Option<f64>,
    pub delays_measured: u64,
    /// Per labelled role: (labelled, warned).
    pub roles: BTreeMap<String, (u64, u64)>,
    /// Per pattern: (warnings, of which on a target, on another fraud role).
    pub patterns: BTreeMap<String, (u64, u64, u64)>,
}

/// Scores `warned` against `labels`; `first_use` is each entity's first fraud use (event
/// time, UTC microseconds) where known.
pub fn evaluate(
    labels: &[Labelled],
    warned: &[Warned],
    first_use: &HashMap<(EvalType, String), i64>,
) -> BTreeMap<EvalType, TypeReport> {
    let role_of: HashMap<(EvalType, &str), &str> = labels
        .iter()
        .map(|l| ((l.kind, l.id.as_str()), l.role.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    for kind in [EvalType::Account, EvalType::Sim] {
        let mut r = TypeReport::default();
        let positives: HashSet<&str> = labels
            .iter()
            .filter(|l| l.kind == kind && kind.is_target(&l.role))
            .map(|l| l.id.as_str())
            .collect();
        r.positives = positives.len() as u64;
        for l in labels
            .iter()
            .filter(|l| l.kind == kind && l.role != "victim")
        {
            r.roles.entry(l.role.clone()).or_default().0 += 1;
        }
        let mut mine: Vec<&Warned> = warned.iter().filter(|w| w.kind == kind).collect();
        // Strongest first; ties by id so the figures do not depend on storage order.
        mine.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        let mut delays = Vec::new();
        let (mut hits, mut judged, mut ap_sum) = (0u64, 0u64, 0.0);
        for w in &mine {
            r.warned += 1;
            let role = role_of.get(&(kind, w.id.as_str())).copied();
            if let Some(role) = role.filter(|r| *r != "victim") {
                r.roles.entry(role.to_owned()).or_default().1 += 1;
            }
            let p = r.patterns.entry(w.pattern.clone()).or_default();
            p.0 += 1;
            match role {
                Some(role) if kind.is_target(role) => {
                    p.1 += 1;
                    r.true_positives += 1;
                    hits += 1;
                    judged += 1;
                    ap_sum += hits as f64 / judged as f64;
                    if let Some(&used) = first_use.get(&(kind, w.id.clone())) {
                        delays.push((w.first_warned_at - used) as f64 / 3.6e9);
                    }
                }
                Some(role) if role != "victim" => {
                    p.2 += 1;
                    r.other_fraud_warned += 1;
                }
                _ => {
                    r.false_positives += 1;
                    judged += 1;
                }
            }
        }
        let judged_warnings = r.true_positives + r.false_positives;
        r.precision = ratio(r.true_positives, judged_warnings);
        r.recall = ratio(r.true_positives, r.positives);
        r.f1 = if r.precision + r.recall > 0.0 {
            2.0 * r.precision * r.recall / (r.precision + r.recall)
        } else {
            0.0
        };
        r.average_precision = if r.positives == 0 {
            0.0
        } else {
            ap_sum / r.positives as f64
        };
        r.delays_measured = delays.len() as u64;
        r.median_delay_hours = median(&mut delays);
        out.insert(kind, r);
    }
    out
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(kind: EvalType, id: &str, role: &str) -> Labelled {
        Labelled {
            kind,
            id: id.into(),
            role: role.into(),
        }
    }

    fn w(kind: EvalType, id: &str, score: u8, at: i64) -> Warned {
        Warned {
            kind,
            id: id.into(),
            pattern: "mule".into(),
            score,
            first_warned_at: at,
        }
    }

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn figures_follow_the_definitions() {
        use EvalType::*;
        let labels = [
            l(Account, "m1", "mule_l1"),
            l(Account, "m2", "mule_l2"),
            l(Account, "r1", "runner"),
            l(Account, "x1", "exit_account"),
            l(Account, "v1", "victim"),
            l(Sim, "s1", "caller_sim"),
        ];
        let warned = [
            w(Account, "m1", 90, 5 * HOUR),
            w(Account, "fp", 80, 0),
            w(Account, "r1", 70, 2 * HOUR),
            w(Account, "x1", 60, 0),
            w(Account, "v1", 50, 0),
            w(Sim, "s1", 40, 0),
        ];
        let first_use = HashMap::from([
            ((Account, "m1".to_owned()), 4 * HOUR),
            ((Account, "r1".to_owned()), 3 * HOUR),
        ]);
        let r = evaluate(&labels, &warned, &first_use);
        let a = &r[&Account];
        assert_eq!((a.positives, a.warned), (3, 5));
        assert_eq!(
            (a.true_positives, a.false_positives, a.other_fraud_warned),
            (2, 2, 1)
        );
        assert!((a.precision - 0.5).abs() < 1e-9);
        assert!((a.recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((a.f1 - 4.0 / 7.0).abs() < 1e-9);
        // Ranked: m1 (hit, 1/1), fp (miss), r1 (hit, 2/3), x1 (left out), v1 (miss).
        assert!((a.average_precision - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
        // m1 warned an hour after its first fraud use, r1 an hour before.
        assert_eq!(a.median_delay_hours, Some(0.0));
        assert_eq!(a.delays_measured, 2);
        assert_eq!(a.roles["mule_l2"], (1, 0));
        assert_eq!(a.patterns["mule"], (5, 2, 1));
        let s = &r[&Sim];
        assert_eq!((s.precision, s.recall), (1.0, 1.0));
        assert_eq!(s.median_delay_hours, None);
    }

    #[test]
    fn nothing_warned_is_zero_not_nan() {
        let labels = [l(EvalType::Account, "m1", "mule_l1")];
        let r = evaluate(&labels, &[], &HashMap::new());
        let a = &r[&EvalType::Account];
        assert_eq!(
            (a.precision, a.recall, a.f1, a.average_precision),
            (0.0, 0.0, 0.0, 0.0)
        );
    }
}
