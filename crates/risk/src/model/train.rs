//! Fitting the boosters, evaluating them, and the model card.
//!
//! The split is by entity: an entity's id hashes to the training or the held-out part, so
//! no history is in both and a model cannot score well by remembering an account. The
//! evaluation is per entity, like `fanzha eval risk`'s: an entity's score is the highest of
//! its rows (a warning keeps its strongest evidence), and precision, recall and F1 are at
//! the operating threshold, with average precision (AUC-PR) over the ranking. Sampled-out
//! negatives are accounted for by their weight, so precision is that of the full part.
//!
//! A district has few targets (a small one: about twenty accounts, a dozen SIMs), so the
//! held-out part of one store gives a rough figure. The sounder one is another simulator
//! seed or profile: [`evaluate`] scores a whole other store, and the card keeps each such
//! evaluation next to the held-out part's.

use std::collections::{BTreeMap, HashMap};

use fanzha_store::RiskModel;
use perpetual::booster::config::ImportanceMethod;
use perpetual::objective::Objective;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dataset::{stable_hash, Snapshots, Table};
use super::{Labels, Model, ModelError, ModelKind, FORMAT};

/// Salts the split's hash so it is independent of the negative sampling's.
const SPLIT_SALT: u64 = 0x5eed_5b17;

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    /// perpetual's one complexity knob: higher fits more trees (0.5 is its default).
    pub budget: f32,
    /// The share of entities held out for evaluation, 0–0.9.
    pub test_share: f64,
    /// The operating threshold on the probability the card reports figures at.
    pub threshold: f64,
    /// Seeds the split and the booster.
    pub seed: u64,
    /// Training threads; `None` is every core.
    pub threads: Option<usize>,
    /// Replays of the training data: the first marks warned entities with the rules
    /// alone; each further one marks with the rules and the model of the pass before, as
    /// `risk run` marks with rules and model, so the link features the model learns from
    /// are the ones the run produces.
    #[serde(default = "one_pass")]
    pub passes: u32,
}

fn one_pass() -> u32 {
    1
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            budget: 0.5,
            test_share: 0.2,
            threshold: 0.5,
            seed: 1,
            threads: None,
            passes: 1,
        }
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no entity kind has both targets and non-targets in the training part; check the labels belong to this store")]
    NothingToLearn,
    #[error("fitting the {kind} booster: {reason}")]
    Fit { kind: ModelKind, reason: String },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the model card: {0}")]
    Card(#[from] serde_json::Error),
    #[error("{0} is not a representable time")]
    Time(i64),
}

/// Where the rows came from, as the caller knows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Source {
    /// The store (credentials redacted).
    pub store: String,
    /// The labels directory.
    pub labels: String,
    /// What is known of the data: simulator seed, scale, profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub events: u64,
    /// RFC 3339, Beijing time.
    pub first_event_at: Option<String>,
    pub last_event_at: Option<String>,
}

impl Source {
    /// `store` and `labels` with the replay's event counts and span.
    pub fn of(store: &str, labels: &str, note: Option<String>, snap: &Snapshots) -> Source {
        let at = |t: Option<i64>| {
            t.and_then(fanzha_core::Instant::from_micros)
                .map(|i| i.to_rfc3339_shanghai())
        };
        Source {
            store: store.to_owned(),
            labels: labels.to_owned(),
            note,
            events: snap.events,
            first_event_at: at(snap.first_event_at),
            last_event_at: at(snap.last_event_at),
        }
    }
}

/// Figures of one entity kind at the operating threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub threshold: f64,
    /// Entities evaluated (negatives counted with their sampling weight).
    pub entities: f64,
    pub targets: u64,
    /// Entities at or over the threshold.
    pub warned: f64,
    pub true_positives: u64,
    pub false_positives: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Average precision over the entities ranked by score: the area under the
    /// precision–recall curve.
    pub average_precision: f64,
}

/// A feature's share of the booster's total split gain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    pub feature: String,
    pub gain_share: f64,
}

/// One entity kind in the card.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KindCard {
    pub trained: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub features: usize,
    /// Targets in the labels, found in the store or not.
    pub labelled_targets: usize,
    pub rows_train: usize,
    pub target_rows_train: usize,
    pub entities_train: usize,
    pub targets_train: usize,
    pub rows_test: usize,
    pub entities_test: usize,
    pub targets_test: usize,
    /// The share of negative entities kept; each kept one weighs 1/rate.
    pub negative_rate: f64,
    pub trees: usize,
    /// On the held-out entities of the training store.
    pub evaluation: Option<Metrics>,
    /// Every feature of the kind, strongest first.
    pub importances: Vec<Importance>,
}

/// An evaluation on another store (another seed or profile).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOutStore {
    pub source: Source,
    pub kinds: BTreeMap<String, Metrics>,
}

/// The model card, stored as JSON beside the artefact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    /// Training time (UTC) and the artefact's hash: `20261129T101500Z-1a2b3c4d`.
    pub version: String,
    /// RFC 3339, Beijing time.
    pub created_at: String,
    pub format: String,
    pub library: String,
    pub objective: String,
    pub rows: String,
    pub options: TrainOptions,
    /// How the run is to combine the model with the rules.
    pub combination: String,
    pub training: Source,
    pub kinds: BTreeMap<String, KindCard>,
    #[serde(default)]
    pub held_out_stores: Vec<HeldOutStore>,
}

/// A trained model with its artefact and card.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: Model,
    pub artefact: Vec<u8>,
    pub card: ModelCard,
    pub created_at: i64,
}

impl Trained {
    /// Adds an evaluation on another store to the card.
    pub fn add_held_out(&mut self, source: Source, snap: &Snapshots) {
        let kinds = evaluate(&self.model, snap, self.card.options.threshold);
        self.card
            .held_out_stores
            .push(HeldOutStore { source, kinds });
    }

    /// The record `Store::model_put` takes.
    pub fn to_stored(&self) -> Result<RiskModel, serde_json::Error> {
        Ok(RiskModel {
            version: self.card.version.clone(),
            created_at: self.created_at,
            artefact: self.artefact.clone(),
            card: serde_json::to_string(&self.card)?,
        })
    }
}

fn is_test(seed: u64, share: f64, id: &str) -> bool {
    let h = stable_hash(seed ^ SPLIT_SALT, id);
    (h as f64 / u64::MAX as f64) < share
}

/// Fits a booster per kind on `snap`'s training part and writes the card. `created_at`
/// (UTC microseconds) dates the version; the library reads no clock.
pub fn train(
    snap: &Snapshots,
    labels: &Labels,
    opts: &TrainOptions,
    source: Source,
    created_at: i64,
) -> Result<Trained, TrainError> {
    let share = if opts.test_share.is_finite() {
        opts.test_share.clamp(0.0, 0.9)
    } else {
        0.0
    };
    let mut kinds = BTreeMap::new();
    let mut boosters = Vec::new();
    let mut tests: Vec<(ModelKind, Vec<usize>)> = Vec::new();
    for kind in ModelKind::ALL {
        let t = snap.table(kind);
        let (train_rows, test_rows): (Vec<usize>, Vec<usize>) =
            (0..t.rows()).partition(|&i| !is_test(opts.seed, share, &t.ids[t.entity[i] as usize]));
        let mut card = KindCard {
            features: t.width(),
            labelled_targets: labels.targets(kind),
            rows_train: train_rows.len(),
            target_rows_train: train_rows.iter().filter(|&&i| t.y[i] > 0.5).count(),
            rows_test: test_rows.len(),
            negative_rate: t.negative_rate(),
            ..KindCard::default()
        };
        (card.entities_train, card.targets_train) = entities(t, &train_rows);
        (card.entities_test, card.targets_test) = entities(t, &test_rows);
        if card.target_rows_train == 0 || card.target_rows_train == card.rows_train {
            card.note = Some(format!(
                "not trained: the training part has {} target and {} other rows",
                card.target_rows_train,
                card.rows_train - card.target_rows_train
            ));
            kinds.insert(kind.as_str().to_owned(), card);
            continue;
        }
        let booster = fit(t, &train_rows, opts)?;
        card.trained = true;
        card.trees = booster.trees.len();
        card.importances = importances(kind, &booster);
        tracing::info!(
            kind = kind.as_str(),
            rows = train_rows.len(),
            trees = card.trees,
            "fitted"
        );
        kinds.insert(kind.as_str().to_owned(), card);
        boosters.push((kind, booster));
        tests.push((kind, test_rows));
    }
    if boosters.is_empty() {
        return Err(TrainError::NothingToLearn);
    }
    let model = Model::from_parts(boosters);
    for (kind, test_rows) in tests {
        if test_rows.is_empty() {
            continue;
        }
        let m = metrics_of(&model, snap.table(kind), &test_rows, opts.threshold);
        if let Some(card) = kinds.get_mut(kind.as_str()) {
            card.evaluation = Some(m);
        }
    }
    let artefact = model.to_bytes()?;
    let when = fanzha_core::Instant::from_micros(created_at).ok_or(TrainError::Time(created_at))?;
    let hash = Sha256::digest(&artefact);
    let short: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let card = ModelCard {
        version: format!("{}-{short}", when.utc().format("%Y%m%dT%H%M%SZ")),
        created_at: when.to_rfc3339_shanghai(),
        format: FORMAT.to_owned(),
        library: "perpetual 3.0.0-rc.2 (gradient-boosted trees)".to_owned(),
        objective: "binary log-loss, one booster per entity kind; targets: mule_l1/l2/l3 and runner accounts, caller_sim SIMs".to_owned(),
        rows: "one per entity and Beijing day it was active: its features after its last event of that day; negatives sampled by entity, weighted 1/rate; other fraud roles left out".to_owned(),
        options: TrainOptions {
            test_share: share,
            ..opts.clone()
        },
        combination: "final score = max(rule score, 100 × p)".to_owned(),
        training: source,
        kinds,
        held_out_stores: Vec::new(),
    };
    Ok(Trained {
        model,
        artefact,
        card,
        created_at,
    })
}

fn entities(t: &Table, rows: &[usize]) -> (usize, usize) {
    let mut seen: HashMap<u32, bool> = HashMap::new();
    for &i in rows {
        seen.insert(t.entity[i], t.is_target_entity(t.entity[i]));
    }
    (seen.len(), seen.values().filter(|t| **t).count())
}

fn fit(t: &Table, rows: &[usize], opts: &TrainOptions) -> Result<PerpetualBooster, TrainError> {
    let (cols, y, weight) = t.columns(rows);
    let mut b = PerpetualBooster::default()
        .set_objective(Objective::LogLoss)
        .set_budget(opts.budget)
        .set_num_threads(opts.threads)
        .set_seed(opts.seed);
    // The weights already undo the negative sampling; perpetual's own class balancing
    // would skew the probabilities that `combine` reads as such.
    b.cfg.auto_class_weights = false;
    let m = Matrix::new(&cols, rows.len(), t.width());
    b.fit(&m, &y, Some(&weight), None)
        .map_err(|e| TrainError::Fit {
            kind: t.kind,
            reason: e.to_string(),
        })?;
    Ok(b)
}

fn importances(kind: ModelKind, b: &PerpetualBooster) -> Vec<Importance> {
    let gain = b.calculate_feature_importance(ImportanceMethod::TotalGain, true);
    let mut out: Vec<Importance> = kind
        .schema()
        .iter()
        .enumerate()
        .map(|(i, name)| Importance {
            feature: (*name).to_owned(),
            gain_share: gain.get(&i).map_or(0.0, |g| f64::from(*g)).max(0.0),
        })
        .collect();
    out.sort_by(|a, b| {
        b.gain_share
            .total_cmp(&a.gain_share)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    out
}

/// Scores every row of `snap` with `model` and gives the figures per kind it covers.
pub fn evaluate(model: &Model, snap: &Snapshots, threshold: f64) -> BTreeMap<String, Metrics> {
    ModelKind::ALL
        .into_iter()
        .filter(|k| model.covers(*k))
        .map(|kind| {
            let t = snap.table(kind);
            let rows: Vec<usize> = (0..t.rows()).collect();
            (
                kind.as_str().to_owned(),
                metrics_of(model, t, &rows, threshold),
            )
        })
        .collect()
}

fn metrics_of(model: &Model, t: &Table, rows: &[usize], threshold: f64) -> Metrics {
    let (cols, _, _) = t.columns(rows);
    let p = model.score_columns(t.kind, &cols, rows.len());
    // Per entity: its highest score and its weight.
    let mut best: HashMap<u32, (f64, f64)> = HashMap::new();
    for (&i, &p) in rows.iter().zip(&p) {
        let e = best.entry(t.entity[i]).or_insert((f64::MIN, t.weight(i)));
        e.0 = e.0.max(p);
    }
    let scored: Vec<(f64, f64, bool, &str)> = best
        .into_iter()
        .map(|(e, (p, w))| (p, w, t.is_target_entity(e), t.ids[e as usize].as_str()))
        .collect();
    metrics(scored, threshold)
}

/// The figures from (score, weight, is target, id) per entity.
fn metrics(mut scored: Vec<(f64, f64, bool, &str)>, threshold: f64) -> Metrics {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.3.cmp(b.3)));
    let mut m = Metrics {
        threshold,
        ..Metrics::default()
    };
    let (mut hits, mut judged, mut ap_sum) = (0.0, 0.0, 0.0);
    for &(p, w, target, _) in &scored {
        m.entities += w;
        judged += w;
        if target {
            m.targets += 1;
            hits += 1.0;
            ap_sum += hits / judged;
        }
        if p >= threshold {
            m.warned += w;
            if target {
                m.true_positives += 1;
            } else {
                m.false_positives += w;
            }
        }
    }
    let tp = m.true_positives as f64;
    m.precision = if m.warned > 0.0 { tp / m.warned } else { 0.0 };
    m.recall = if m.targets > 0 {
        tp / m.targets as f64
    } else {
        0.0
    };
    m.f1 = if m.precision + m.recall > 0.0 {
        2.0 * m.precision * m.recall / (m.precision + m.recall)
    } else {
        0.0
    };
    m.average_precision = if m.targets > 0 {
        ap_sum / m.targets as f64
    } else {
        0.0
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_the_eval_definitions() {
        // Ranked: t1 (hit 1/1), n1 (weight 2), t2 (hit 2/4), n2 (weight 2).
        let m = metrics(
            vec![
                (0.9, 1.0, true, "t1"),
                (0.7, 2.0, false, "n1"),
                (0.6, 1.0, true, "t2"),
                (0.1, 2.0, false, "n2"),
            ],
            0.65,
        );
        assert_eq!((m.targets, m.true_positives), (2, 1));
        assert_eq!((m.warned, m.false_positives, m.entities), (3.0, 2.0, 6.0));
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((m.recall - 0.5).abs() < 1e-9);
        assert!((m.f1 - 0.4).abs() < 1e-9);
        assert!((m.average_precision - (1.0 + 0.5) / 2.0).abs() < 1e-9);
        let none = metrics(vec![(0.1, 1.0, false, "n")], 0.5);
        assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn the_split_is_by_entity_and_near_its_share() {
        let test = (0..10_000)
            .filter(|i| is_test(1, 0.2, &format!("ACC{i:08}")))
            .count();
        assert!((1_700..2_300).contains(&test), "{test}");
        assert_eq!(is_test(1, 0.2, "x"), is_test(1, 0.2, "x"));
        assert!(!is_test(1, 0.0, "x"));
    }
}
