//! Threshold governance (issue 5, section 4): a pattern's level cut-offs change only through
//! a recorded decision (`Store::threshold_decision_add`: who, old → new, why, the evaluation,
//! from when). [`effective_levels`] folds the recorded decisions in effect at a time over the
//! rule files' cut-offs; [`apply_decisions`] sets them on a [`RuleSet`], which is how
//! `fanzha risk run` (and anything else that levels warnings) reads them.
//!
//! Pure: no clock, no store. A decision naming a pattern the set lacks is reported, not
//! applied (rule files may drop a pattern after a decision was taken on it).

use std::collections::BTreeMap;

use fanzha_store::{ThresholdDecision, WarningLevel};

use crate::rules::{Levels, PatternName, RuleSet};

/// Why decisions cannot be applied together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GovernanceError {
    /// The cut-offs after this decision are out of order (yellow ≤ orange ≤ red ≤ 100,
    /// yellow > 0): the decision was recorded without that check.
    #[error("threshold decision #{id} leaves {pattern} with red {red}, orange {orange}, yellow {yellow}: cut-offs must satisfy 0 < yellow ≤ orange ≤ red ≤ 100")]
    OutOfOrder {
        id: i64,
        pattern: String,
        red: f64,
        orange: f64,
        yellow: f64,
    },
}

/// A pattern's cut-offs in effect, and the decisions behind them (ids, oldest first; none
/// when the rule files' stand).
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub pattern: PatternName,
    pub levels: Levels,
    /// The rule files' cut-offs, for comparison.
    pub from_files: Levels,
    pub decisions: Vec<i64>,
}

/// What [`effective_levels`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Governed {
    /// Every pattern of the set, in pattern-name order.
    pub patterns: Vec<Effective>,
    /// Decisions in effect naming no pattern of the set.
    pub unknown: Vec<i64>,
    /// Decisions recorded but not yet in effect at the time asked.
    pub pending: Vec<i64>,
}

fn pattern_named(word: &str) -> Option<PatternName> {
    [
        PatternName::Mule,
        PatternName::Runner,
        PatternName::SoldCard,
        PatternName::ScamCallerSim,
        PatternName::SimBox,
    ]
    .into_iter()
    .find(|p| p.as_str() == word)
}

/// The cut-offs of each pattern of `rules` at `now` (UTC micros): the files', changed by
/// each decision effective at or before `now`, in order of effect (then of recording).
pub fn effective_levels(
    rules: &RuleSet,
    decisions: &[ThresholdDecision],
    now: i64,
) -> Result<Governed, GovernanceError> {
    let mut by: BTreeMap<PatternName, Effective> = BTreeMap::new();
    for p in rules.patterns() {
        by.entry(p.name()).or_insert(Effective {
            pattern: p.name(),
            levels: p.levels(),
            from_files: p.levels(),
            decisions: Vec::new(),
        });
    }
    let mut ordered: Vec<&ThresholdDecision> = decisions.iter().collect();
    ordered.sort_by_key(|d| (d.effective_at, d.id));
    let mut out = Governed::default();
    for d in ordered {
        if d.effective_at > now {
            out.pending.push(d.id);
            continue;
        }
        let Some(e) = pattern_named(&d.pattern).and_then(|p| by.get_mut(&p)) else {
            out.unknown.push(d.id);
            continue;
        };
        let (mut red, mut orange, mut yellow) =
            (e.levels.red(), e.levels.orange(), e.levels.yellow());
        let cut = d.new_threshold as f64;
        match d.level {
            WarningLevel::Red => red = cut,
            WarningLevel::Orange => orange = cut,
            WarningLevel::Yellow => yellow = cut,
        }
        e.levels = Levels::new(red, orange, yellow).ok_or_else(|| GovernanceError::OutOfOrder {
            id: d.id,
            pattern: d.pattern.clone(),
            red,
            orange,
            yellow,
        })?;
        e.decisions.push(d.id);
    }
    out.patterns = by.into_values().collect();
    Ok(out)
}

/// Sets the cut-offs in effect at `now` on `rules`; what was in effect.
pub fn apply_decisions(
    rules: &mut RuleSet,
    decisions: &[ThresholdDecision],
    now: i64,
) -> Result<Governed, GovernanceError> {
    let governed = effective_levels(rules, decisions, now)?;
    for e in governed.patterns.iter().filter(|e| !e.decisions.is_empty()) {
        rules.set_levels(e.pattern, e.levels);
    }
    Ok(governed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(
        id: i64,
        pattern: &str,
        level: WarningLevel,
        new: i64,
        effective_at: i64,
    ) -> ThresholdDecision {
        ThresholdDecision {
            id,
            at: 0,
            actor: "user:commander".into(),
            pattern: pattern.into(),
            level,
            effective_at,
            old_threshold: None,
            new_threshold: new,
            reason: "test".into(),
            evaluation: "{}".into(),
        }
    }

    fn mule(rules: &RuleSet) -> Levels {
        rules
            .patterns()
            .find(|p| p.name() == PatternName::Mule)
            .map(|p| p.levels())
            .unwrap()
    }

    #[test]
    fn decisions_in_effect_move_the_cut_offs_and_the_version() {
        let mut rules = RuleSet::builtin().unwrap();
        let files = mule(&rules);
        let version = rules.version();
        let ds = [
            decision(1, "mule", WarningLevel::Yellow, 55, 10),
            decision(2, "mule", WarningLevel::Yellow, 58, 30),
            decision(3, "typology_x", WarningLevel::Red, 90, 10),
        ];
        let g = apply_decisions(&mut rules, &ds, 20).unwrap();
        assert_eq!(mule(&rules).yellow(), 55.0);
        assert_eq!(mule(&rules).red(), files.red());
        assert_eq!(
            (g.pending.as_slice(), g.unknown.as_slice()),
            (&[2][..], &[3][..])
        );
        let e = g
            .patterns
            .iter()
            .find(|e| e.pattern == PatternName::Mule)
            .unwrap();
        assert_eq!((e.decisions.as_slice(), e.from_files), (&[1][..], files));
        assert_ne!(
            rules.version(),
            version,
            "the label tells the cut-offs apart"
        );
        // Later, the second decision is in effect too.
        let g = effective_levels(&rules, &ds, 30).unwrap();
        let e = g
            .patterns
            .iter()
            .find(|e| e.pattern == PatternName::Mule)
            .unwrap();
        assert_eq!(e.levels.yellow(), 58.0);
    }

    #[test]
    fn out_of_order_cut_offs_are_refused_naming_the_decision() {
        let rules = RuleSet::builtin().unwrap();
        let red = mule(&rules).red();
        let ds = [decision(7, "mule", WarningLevel::Yellow, red as i64 + 1, 0)];
        assert!(matches!(
            effective_levels(&rules, &ds, 0),
            Err(GovernanceError::OutOfOrder { id: 7, .. })
        ));
    }
}
