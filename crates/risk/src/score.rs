//! The scoring step shared by the batch run, the model's training replay and the live
//! state: the touched entity's features → the rule set's pattern scores, combined with the
//! trained model's probability when there is one → the entity is marked in the engine
//! when it reaches the orange level.
//!
//! Why one step for all of them: the engine's link features (money from warned cards,
//! payments after a warned number's call) depend on which entities were marked before each
//! event, so every replay that reads features must mark as the run does, or a model would
//! be trained on features the run never produces.

use crate::features::Entity;
use crate::model::{combine, Model, ModelKind};
use crate::rules::{
    EntityKind, EvalError, Level, Measure, PatternName, PatternScore, RuleSet, Scores,
};
use crate::store::StateStore;
use crate::Engine;

/// An entity's assessment at one event: the rules' strongest pattern combined with the
/// model (see [`combine`]).
#[derive(Debug)]
pub struct Verdict<'a> {
    /// 0–100.
    pub score: f64,
    /// `None` below the pattern's yellow level.
    pub level: Option<Level>,
    /// The rules' strongest pattern; when only the model scored, the pattern the model's
    /// targets stand for (mule cards for accounts, scam-caller SIMs for numbers).
    pub pattern: PatternName,
    pub measure: Option<Measure>,
    /// The rules' strongest pattern with its reasons, when any rule hit.
    pub rules: Option<&'a PatternScore>,
    /// The model's probability, when a model covers the entity's kind.
    pub model_p: Option<f64>,
    /// The features the verdict was reached on, in schema order.
    pub values: &'a [f64],
}

impl Verdict<'_> {
    /// Whether the model, not the rules, set the score.
    pub fn by_model(&self) -> bool {
        self.rules.is_none_or(|r| self.score > r.score)
    }
}

/// Scores touched entities, reusing its buffers across calls.
pub struct Scorer<'r> {
    rules: &'r RuleSet,
    model: Option<&'r Model>,
    values: Vec<f64>,
    scores: Scores,
}

impl<'r> Scorer<'r> {
    pub fn new(rules: &'r RuleSet, model: Option<&'r Model>) -> Self {
        Self {
            rules,
            model,
            values: Vec::new(),
            scores: Scores::default(),
        }
    }

    /// Scores `entity` at the engine's current time and marks it when it reaches a level.
    /// `None` for persons (they have no patterns) and entities the engine has never seen.
    pub fn score<S: StateStore>(
        &mut self,
        engine: &mut Engine<S>,
        entity: Entity,
    ) -> Result<Option<Verdict<'_>>, EvalError> {
        let Some(model_kind) = ModelKind::of(entity) else {
            return Ok(None);
        };
        if !engine.features_into(entity, &mut self.values) {
            return Ok(None);
        }
        self.rules
            .evaluate_into(entity, &self.values, &mut self.scores)?;
        let v = verdict(
            self.rules,
            self.model,
            model_kind,
            &self.values,
            &self.scores,
        );
        if marks(v.level) {
            engine.mark(entity);
        }
        Ok(Some(v))
    }
}

/// The verdict on an entity of `kind` with these features, whose rule scores `scores` are
/// (from [`RuleSet::evaluate_into`]): the rules' strongest pattern combined with the model.
/// Pure; [`Scorer::score`] and the live state both reach their verdicts here.
pub fn verdict<'a>(
    rules: &RuleSet,
    model: Option<&Model>,
    kind: ModelKind,
    values: &'a [f64],
    scores: &'a Scores,
) -> Verdict<'a> {
    let top = scores.top();
    let model_p = model
        .filter(|_| kind.scores(values))
        .and_then(|m| m.score(kind, values));
    let rule_score = top.map_or(0.0, |t| t.score);
    let score = combine(rule_score, model_p.unwrap_or(0.0));
    let (pattern, level, measure) = match top {
        Some(t) if score <= t.score => (t.pattern, t.level, t.measure),
        _ => {
            let pattern = top.map_or(model_pattern(kind), |t| t.pattern);
            let entity = match kind {
                ModelKind::Account => EntityKind::Account,
                ModelKind::Sim => EntityKind::Number,
            };
            let found = rules
                .patterns()
                .find(|p| p.name() == pattern && p.entity() == entity);
            (
                pattern,
                found.and_then(|p| p.levels().level(score)),
                found.map(|p| p.measure()),
            )
        }
    };
    Verdict {
        score,
        level,
        pattern,
        measure: level.and(measure),
        rules: top,
        model_p,
        values,
    }
}

/// Whether an entity assessed at `level` is marked in the engine (see
/// [`Engine::mark`]): at orange and red. Links carry risk only from warnings sure enough to
/// act on: a yellow is a watch, and passing it on would spread one false alarm along
/// everyone its card paid.
pub fn marks(level: Option<Level>) -> bool {
    level.is_some_and(|l| l >= Level::Orange)
}

fn model_pattern(kind: ModelKind) -> PatternName {
    match kind {
        ModelKind::Account => PatternName::Mule,
        ModelKind::Sim => PatternName::ScamCallerSim,
    }
}
