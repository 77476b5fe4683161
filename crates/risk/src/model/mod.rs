//! The trained risk model (`fanzha risk train`): gradient-boosted trees over the same
//! feature vectors the rules read, one booster for accounts and one for SIMs and numbers.
//!
//! - [`dataset`] replays a store through the engine ([`replay`]) and keeps one labelled
//!   row per (entity, Beijing day it was active): its features right after its last event
//!   of that day. Negatives are subsampled by entity, with weights that undo it.
//! - [`train`] splits by entity (no entity is in both parts), fits the boosters, and writes
//!   the model card: training data, the held-out evaluation, feature importances.
//! - [`Model`] is the artefact's scoring side: a probability per feature vector and the
//!   features that pushed it up. [`combine`] merges it with the rule score.
//!
//! The artefact is JSON: a format tag and, per entity kind, the feature names it was
//! trained on and the booster. Names are checked on load: a model trained on a schema that
//! is not a prefix of today's (a feature renamed or moved) is refused rather than misread.

pub mod dataset;
pub mod train;

use std::collections::HashMap;

use perpetual::booster::config::ContributionsMethod;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};

use crate::features::{Entity, ACCOUNT_FEATURES, NUMBER_FEATURES};

pub use dataset::{collect, Snapshots, Table};
pub use train::{
    evaluate, train, HeldOutStore, Importance, KindCard, Metrics, ModelCard, Source, TrainError,
    TrainOptions, Trained,
};

/// The artefact's format tag; bumped when its layout changes.
pub const FORMAT: &str = "fanzha-risk-model/1";

/// The entity kinds the model scores: accounts, and SIMs (any telephone number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Account,
    Sim,
}

impl ModelKind {
    pub const ALL: [ModelKind; 2] = [ModelKind::Account, ModelKind::Sim];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Account => "account",
            ModelKind::Sim => "sim",
        }
    }

    /// The `entity_type` of a labels file row.
    pub fn parse(s: &str) -> Option<ModelKind> {
        match s {
            "account" => Some(ModelKind::Account),
            "sim" => Some(ModelKind::Sim),
            _ => None,
        }
    }

    /// The kind of an engine entity; persons are not scored.
    pub fn of(entity: Entity) -> Option<ModelKind> {
        match entity {
            Entity::Account(_) => Some(ModelKind::Account),
            Entity::Number(_) => Some(ModelKind::Sim),
            Entity::Person(_) => None,
        }
    }

    /// Whether the model scores an entity with these features (in schema order): one the
    /// district's own banks or carriers hold (its holder is in the data), in use (an
    /// account that moved money, a number that called or texted, in the last 30 days).
    /// Training keeps only such rows too.
    ///
    /// Why held: half the features read reference data (holder, opening date, class),
    /// which accounts seen only in transfers lack; a model trained on both would learn
    /// "outside the data" itself as risk, which is the simulator's make-up (its outside
    /// accounts with activity are mostly the rings' cards), not fraud's. Those accounts
    /// are left to the rules, whose link rules follow money into them. Why in use: a
    /// warning is about a card fraud runs on, and the evidence of that is its use; an unused
    /// card's features are its age, class and holder, from which a model learns to flag
    /// every new account of the kind the rings happened to buy.
    pub fn scores(self, values: &[f64]) -> bool {
        static COLUMNS: std::sync::OnceLock<[(Option<usize>, Vec<usize>); 2]> =
            std::sync::OnceLock::new();
        let columns = COLUMNS.get_or_init(|| {
            let find = |schema: &[&str], known: &str, used: &[&str]| {
                (
                    schema.iter().position(|s| *s == known),
                    used.iter()
                        .filter_map(|n| schema.iter().position(|s| s == n))
                        .collect::<Vec<_>>(),
                )
            };
            [
                find(
                    ACCOUNT_FEATURES,
                    "holder_known",
                    &["in_count_30d", "out_count_30d"],
                ),
                find(
                    NUMBER_FEATURES,
                    "known_sim",
                    &["calls_out_30d", "sms_out_30d"],
                ),
            ]
        });
        let (known, used) = match self {
            ModelKind::Account => &columns[0],
            ModelKind::Sim => &columns[1],
        };
        let positive = |i: &usize| values.get(*i).is_some_and(|v| *v > 0.0);
        known.as_ref().is_some_and(positive) && used.iter().any(positive)
    }

    /// Positions of the features the model does not learn from (the rules still read
    /// them): an account's age and its age at first inflow.
    ///
    /// Why: in a simulated district nearly every card opened within the month is a ring's,
    /// so a model learns "new" alone as fraud and flags honest new customers by the dozen
    /// (seen on held-out seeds: 0.97 of the gain on `age_days`). A bank's real book opens
    /// new accounts every day. Newness stays evidence where it belongs, with money: the
    /// rules ACC-NEW-HIGH-INFLOW and ACC-FAST-FIRST-INFLOW.
    pub fn held_back(self) -> &'static [usize] {
        static HELD: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
        match self {
            ModelKind::Account => HELD.get_or_init(|| {
                [
                    "account_kind",
                    "holder_known",
                    "ips_30d",
                    "devices_30d",
                    "logins_30d",
                ]
                .iter()
                .filter_map(|n| ACCOUNT_FEATURES.iter().position(|s| s == n))
                .collect()
            }),
            ModelKind::Sim => &[],
        }
    }

    /// The feature names, in the order of the vectors.
    pub fn schema(self) -> &'static [&'static str] {
        match self {
            ModelKind::Account => ACCOUNT_FEATURES,
            ModelKind::Sim => NUMBER_FEATURES,
        }
    }

    /// What a labelled role means for this kind's target. The targets are those of
    /// `fanzha eval risk` (crate::eval): mule and runner accounts, scam-caller SIMs.
    pub fn truth(self, role: &str) -> Truth {
        let kind = match self {
            ModelKind::Account => crate::eval::EvalType::Account,
            ModelKind::Sim => crate::eval::EvalType::Sim,
        };
        if kind.is_target(role) {
            Truth::Target
        } else if role == "victim" || role.is_empty() {
            Truth::Negative
        } else {
            Truth::OtherFraud
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entity's ground truth for its kind's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Target,
    /// Another fraud role (an exit account, a SIM-box card): neither right nor wrong for
    /// the target, so left out of training and evaluation, as `eval risk` leaves it out of
    /// precision.
    OtherFraud,
    /// A victim, or anyone unlabelled.
    Negative,
}

/// Ground-truth labels by (kind, entity id); an entity not listed is a negative.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    truth: HashMap<(ModelKind, String), Truth>,
}

impl Labels {
    /// From (kind, entity id, role) rows. An entity listed twice keeps its strongest truth
    /// (a target role wins over another fraud role, which wins over a victim's).
    pub fn new(rows: impl IntoIterator<Item = (ModelKind, String, String)>) -> Labels {
        let rank = |t: Truth| match t {
            Truth::Target => 2,
            Truth::OtherFraud => 1,
            Truth::Negative => 0,
        };
        let mut truth: HashMap<(ModelKind, String), Truth> = HashMap::new();
        for (kind, id, role) in rows {
            let t = kind.truth(&role);
            let e = truth.entry((kind, id)).or_insert(t);
            if rank(t) > rank(*e) {
                *e = t;
            }
        }
        Labels { truth }
    }

    pub fn truth(&self, kind: ModelKind, id: &str) -> Truth {
        // A borrowed lookup would need a key type of borrowed parts; labels are small.
        self.truth
            .get(&(kind, id.to_owned()))
            .copied()
            .unwrap_or(Truth::Negative)
    }

    /// Labelled targets of `kind`.
    pub fn targets(&self, kind: ModelKind) -> usize {
        self.truth
            .iter()
            .filter(|((k, _), t)| *k == kind && **t == Truth::Target)
            .count()
    }
}

/// Why a model could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a model artefact: {0}")]
    Format(#[from] serde_json::Error),
    #[error("artefact format {found}, this build reads {FORMAT}")]
    Version { found: String },
    #[error(
        "the {kind} model was trained on features this build does not have at the same \
         positions (first difference at position {position}: {found})"
    )]
    Schema {
        kind: ModelKind,
        position: usize,
        found: String,
    },
}

/// Why a stored model could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StoredModelError {
    #[error("reading the stored models")]
    Store(#[from] fanzha_store::StoreError),
    #[error("the stored model {version}")]
    Model {
        version: String,
        #[source]
        source: ModelError,
    },
}

/// A stored model, loaded, with its version: `version`'s, or the newest when `None`.
/// `Ok(None)` when the store holds no such model.
pub async fn stored(
    store: &dyn fanzha_store::Store,
    version: Option<&str>,
) -> Result<Option<(String, Model)>, StoredModelError> {
    let version = match version {
        Some(v) => v.to_owned(),
        None => match store.model_list().await?.pop() {
            Some(card) => card.version,
            None => return Ok(None),
        },
    };
    let Some(record) = store.model_get(&version).await? else {
        return Ok(None);
    };
    let model = Model::load(&record.artefact).map_err(|source| StoredModelError::Model {
        version: version.clone(),
        source,
    })?;
    Ok(Some((version, model)))
}

/// One kind's booster and the feature names it was trained on.
#[derive(Clone, Serialize, Deserialize)]
struct Part {
    features: Vec<String>,
    booster: PerpetualBooster,
}

#[derive(Serialize, Deserialize)]
struct Artefact {
    format: String,
    account: Option<Part>,
    sim: Option<Part>,
}

/// A trained model: a booster per entity kind it covers.
#[derive(Clone)]
pub struct Model {
    account: Option<Part>,
    sim: Option<Part>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field(
                "account",
                &self.account.as_ref().map(|p| p.booster.trees.len()),
            )
            .field("sim", &self.sim.as_ref().map(|p| p.booster.trees.len()))
            .finish()
    }
}

impl Model {
    fn from_parts(parts: impl IntoIterator<Item = (ModelKind, PerpetualBooster)>) -> Model {
        let mut m = Model {
            account: None,
            sim: None,
        };
        for (kind, booster) in parts {
            let part = Part {
                features: kind.schema().iter().map(|s| (*s).to_owned()).collect(),
                booster,
            };
            match kind {
                ModelKind::Account => m.account = Some(part),
                ModelKind::Sim => m.sim = Some(part),
            }
        }
        m
    }

    /// Reads an artefact written by [`Model::to_bytes`].
    pub fn load(bytes: &[u8]) -> Result<Model, ModelError> {
        let a: Artefact = serde_json::from_slice(bytes)?;
        if a.format != FORMAT {
            return Err(ModelError::Version { found: a.format });
        }
        for (kind, part) in [(ModelKind::Account, &a.account), (ModelKind::Sim, &a.sim)] {
            let Some(part) = part else { continue };
            let schema = kind.schema();
            // Features appended since training are fine (the model reads the first ones);
            // anything else would feed a tree the wrong column.
            let bad = part
                .features
                .iter()
                .enumerate()
                .find(|(i, name)| schema.get(*i) != Some(&name.as_str()));
            if let Some((position, found)) = bad {
                return Err(ModelError::Schema {
                    kind,
                    position,
                    found: found.clone(),
                });
            }
        }
        Ok(Model {
            account: a.account,
            sim: a.sim,
        })
    }

    /// The artefact: JSON, as [`Model::load`] reads it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        Ok(serde_json::to_vec(&Artefact {
            format: FORMAT.to_owned(),
            account: self.account.clone(),
            sim: self.sim.clone(),
        })?)
    }

    fn part(&self, kind: ModelKind) -> Option<&Part> {
        match kind {
            ModelKind::Account => self.account.as_ref(),
            ModelKind::Sim => self.sim.as_ref(),
        }
    }

    /// Whether the model has a booster for `kind` (training found positives of it).
    pub fn covers(&self, kind: ModelKind) -> bool {
        self.part(kind).is_some()
    }

    /// The probability (0–1) that an entity of `kind` with these features (in schema
    /// order) is a target; `None` when the model does not cover `kind` or the vector is
    /// shorter than the model's features.
    pub fn score(&self, kind: ModelKind, values: &[f64]) -> Option<f64> {
        let part = self.part(kind)?;
        let row = values.get(..part.features.len())?;
        // One row: column-major and row-major are the same layout.
        let m = Matrix::new(row, 1, row.len());
        let p = part
            .booster
            .predict_proba(&m, false, false)
            .first()
            .copied()?;
        Some(if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        })
    }

    /// Probabilities for many rows at once, given column-major (`rows` × the model's
    /// feature count, as [`Table::columns`] gives them).
    pub(crate) fn score_columns(&self, kind: ModelKind, cols: &[f64], rows: usize) -> Vec<f64> {
        let Some(part) = self.part(kind) else {
            return vec![0.0; rows];
        };
        let m = Matrix::new(cols, rows, part.features.len());
        part.booster.predict_proba(&m, true, false)
    }

    /// The features that raised this vector's score most, strongest first, with their
    /// contribution in log-odds (exact tree SHAP); at most `n`, only those that raised it.
    pub fn top_contributions(
        &self,
        kind: ModelKind,
        values: &[f64],
        n: usize,
    ) -> Vec<(&'static str, f64)> {
        let Some(part) = self.part(kind) else {
            return Vec::new();
        };
        let Some(row) = values.get(..part.features.len()) else {
            return Vec::new();
        };
        let m = Matrix::new(row, 1, row.len());
        let contribs = part
            .booster
            .predict_contributions(&m, ContributionsMethod::Shapley, false);
        // The last value is the bias, not a feature.
        let mut out: Vec<(&'static str, f64)> = kind
            .schema()
            .iter()
            .zip(contribs.iter().take(row.len()))
            .filter(|(_, c)| c.is_finite() && **c > 0.0)
            .map(|(name, c)| (*name, *c))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out.truncate(n);
        out
    }
}

/// The final score (0–100) of an entity from its rule score (0–100) and the model's
/// probability: `max(rule_score, 100 · p)`.
///
/// Why the maximum and not a noisy-OR like the rules' own: the model reads the very
/// features the rules read, so its evidence is not independent of theirs, and a noisy-OR
/// would count the same fast pass-through twice and push look-alikes over a level. The
/// maximum keeps every rule hit's score and reasons as they are (the model can never lower
/// or hide a rule's evidence), and lets the model raise an entity the rules miss — with
/// 100 · p meeting the yellow level (45–50) at about the card's operating threshold
/// (p = 0.5). Non-finite inputs count as no evidence.
pub fn combine(rule_score: f64, model_p: f64) -> f64 {
    let rule = if rule_score.is_finite() {
        rule_score.clamp(0.0, 100.0)
    } else {
        0.0
    };
    let model = if model_p.is_finite() {
        100.0 * model_p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    rule.max(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_is_the_stronger_evidence_within_0_to_100() {
        assert_eq!(combine(70.0, 0.2), 70.0);
        assert_eq!(combine(10.0, 0.8), 80.0);
        assert_eq!(combine(0.0, 0.0), 0.0);
        assert_eq!(combine(150.0, 2.0), 100.0);
        assert_eq!(combine(-5.0, -1.0), 0.0);
        assert_eq!(combine(f64::NAN, 0.5), 50.0);
        assert_eq!(combine(40.0, f64::NAN), 40.0);
        // Never below either input.
        for r in [0.0, 33.3, 64.9, 100.0] {
            for p in [0.0, 0.25, 0.649, 1.0] {
                let c = combine(r, p);
                assert!(c >= r && c >= 100.0 * p && c <= 100.0);
            }
        }
    }

    #[test]
    fn roles_map_to_the_eval_targets() {
        use ModelKind::*;
        assert_eq!(Account.truth("mule_l2"), Truth::Target);
        assert_eq!(Account.truth("runner"), Truth::Target);
        assert_eq!(Account.truth("exit_account"), Truth::OtherFraud);
        assert_eq!(Account.truth("victim"), Truth::Negative);
        assert_eq!(Sim.truth("caller_sim"), Truth::Target);
        assert_eq!(Sim.truth("sim_box"), Truth::OtherFraud);
        let l = Labels::new([
            (Sim, "1".into(), "ring_sim".into()),
            (Sim, "1".into(), "caller_sim".into()),
            (Account, "a".into(), "victim".into()),
        ]);
        assert_eq!(l.truth(Sim, "1"), Truth::Target);
        assert_eq!(l.truth(Account, "a"), Truth::Negative);
        assert_eq!(l.truth(Account, "unlisted"), Truth::Negative);
        assert_eq!((l.targets(Sim), l.targets(Account)), (1, 0));
    }

    #[test]
    fn a_model_of_another_schema_is_refused() {
        let json = serde_json::json!({
            "format": FORMAT,
            "account": { "features": ["in_count_1h", "no_such_feature"], "booster": PerpetualBooster::default() },
            "sim": null,
        });
        let err = Model::load(json.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::Schema {
                    kind: ModelKind::Account,
                    position: 1,
                    ..
                }
            ),
            "{err}"
        );
        let json = serde_json::json!({ "format": "other/9", "account": null, "sim": null });
        assert!(matches!(
            Model::load(json.to_string().as_bytes()),
            Err(ModelError::Version { .. })
        ));
        assert!(matches!(
            Model::load(b"not json"),
            Err(ModelError::Format(_))
        ));
    }
}
