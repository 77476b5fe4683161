//! What the store keeps for two-card risk (issue 5): ordered scans of the event tables for
//! the engine's batch run, and the warnings it raises with their delivery, the institutions'
//! answers, appeals, threshold decisions and model artefacts.
//!
//! Closed vocabularies are enums stored as their words; a stored word outside them reads
//! back as [`crate::StoreError::Corrupt`]. The SQL lives in `reads/risk.rs`, shared by both
//! backends like the server's reads.

use std::str::FromStr;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::vocab::VocabError;

/// Reads a stored word back: one outside the vocabulary means the table was written by
/// something other than this store.
pub(crate) fn stored<T: FromStr<Err = VocabError>>(s: &str) -> crate::Result<T> {
    s.parse().map_err(|e: VocabError| {
        let name = std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("word");
        crate::StoreError::Corrupt(format!("{name}: {e}"))
    })
}

fanzha_core::vocab! {
    /// What a warning is about. A `sim` is a SIM holding (the carrier's card), a `number`
    /// any telephone number seen in traffic, including another carrier's or a foreign one.
    RiskEntity { Account = "account", Sim = "sim", Number = "number", Person = "person" }
}

fanzha_core::vocab! {
    WarningLevel { Red = "red", Orange = "orange", Yellow = "yellow" }
}

fanzha_core::vocab! {
    /// Where a warning stands. A new version of its evidence reopens it, except while an
    /// appeal is pending. `withdrawn`: a later run found its evidence no longer reaches a
    /// level, and the owner was told.
    WarningStatus {
        Open = "open",
        Confirmed = "confirmed",
        FalseAlarm = "false_alarm",
        ActionTaken = "action_taken",
        Appealed = "appealed",
        Lifted = "lifted",
        Withdrawn = "withdrawn",
    }
}

fanzha_core::vocab! {
    /// An institution's answer to a warning.
    Verdict { Confirmed = "confirmed", FalseAlarm = "false_alarm", ActionTaken = "action_taken" }
}

fanzha_core::vocab! {
    /// The recommended measure, from the law's list (LEGAL.md).
    Measure {
        ReverifyIdentity = "reverify_identity",
        LimitNonCounter = "limit_non_counter",
        DelaySettlement = "delay_settlement",
        Suspend = "suspend",
    }
}

fanzha_core::vocab! {
    OutboxState { Pending = "pending", Delivered = "delivered", Dead = "dead" }
}

fanzha_core::vocab! {
    AppealStatus { Open = "open", Upheld = "upheld", Lifted = "lifted" }
}

fanzha_core::vocab! {
    /// Where a reason comes from: a rule hit (its code is a rule's), a feature's
    /// contribution, or the model.
    ReasonSource { Rule = "rule", Feature = "feature", Model = "model" }
}

impl<'de> serde::Deserialize<'de> for ReasonSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<Verdict> for WarningStatus {
    fn from(v: Verdict) -> WarningStatus {
        match v {
            Verdict::Confirmed => WarningStatus::Confirmed,
            Verdict::FalseAlarm => WarningStatus::FalseAlarm,
            Verdict::ActionTaken => WarningStatus::ActionTaken,
        }
    }
}

/// A risk score, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Score(u8);

impl Score {
    pub const MAX: u8 = 100;

    /// `None` above 100.
    pub fn new(n: u8) -> Option<Score> {
        (n <= Self::MAX).then_some(Score(n))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub(crate) fn stored(n: i64) -> crate::Result<Score> {
        u8::try_from(n)
            .ok()
            .and_then(Score::new)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("risk score {n}")))
    }
}

/// The entity a warning is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WarnedEntity {
    pub kind: RiskEntity,
    pub id: String,
}

impl WarnedEntity {
    pub fn new(kind: RiskEntity, id: impl Into<String>) -> Self {
        WarnedEntity {
            kind,
            id: id.into(),
        }
    }
}

/// One reason behind a warning. Stored as JSON in the warning and sent in its payload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WarningReason {
    /// A rule's code for a rule hit, a feature's name otherwise.
    pub code: String,
    pub source: ReasonSource,
    pub text_zh: String,
    pub text_en: String,
    /// Its share of the score.
    pub contribution: f64,
}

/// A warning as the engine computes it, to be stored or to update the stored one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWarning {
    pub entity: WarnedEntity,
    /// The bank or carrier that owns the entity and receives the warning.
    pub institution_code: String,
    pub score: Score,
    pub level: WarningLevel,
    pub pattern: String,
    pub reasons: Vec<WarningReason>,
    pub measure: Measure,
    pub model_version: Option<String>,
    pub rules_version: Option<String>,
    /// When the evidence was seen (UTC micros): event time in a batch run, not the clock.
    pub at: i64,
    /// When the entity first reached a warning level, if earlier than `at` (a batch run
    /// stores only the strongest evidence of a history). Kept from the first version on.
    pub first_warned_at: Option<i64>,
}

/// A stored warning.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub entity: WarnedEntity,
    pub institution_code: String,
    pub score: Score,
    pub level: WarningLevel,
    pub pattern: String,
    /// JSON: a list of [`WarningReason`].
    pub reasons: String,
    pub measure: Measure,
    pub model_version: Option<String>,
    pub rules_version: Option<String>,
    /// 1 for the first evidence, one more each time the evidence changed.
    pub version: i64,
    pub first_warned_at: i64,
    /// When the evidence last changed.
    pub updated_at: i64,
    pub status: WarningStatus,
}

impl Warning {
    /// The reasons, parsed.
    pub fn reasons(&self) -> crate::Result<Vec<WarningReason>> {
        serde_json::from_str(&self.reasons)
            .map_err(|e| crate::StoreError::Corrupt(format!("risk_warnings.reasons: {e}")))
    }
}

/// What storing a warning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// Whether the evidence was new or changed: a new version, queued for delivery.
    pub changed: bool,
    /// The stored version after the call.
    pub version: i64,
    /// The delivery's idempotency key when a new version was queued.
    pub idempotency_key: Option<String>,
}

/// Which warnings a list returns; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarningFilter {
    pub entity_type: Option<RiskEntity>,
    pub level: Option<WarningLevel>,
    pub pattern: Option<String>,
    pub status: Option<WarningStatus>,
}

/// One delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub institution_code: String,
    pub entity: WarnedEntity,
    pub warning_version: i64,
    /// The same on every retry of this version, so the receiver applies it once.
    pub idempotency_key: String,
    /// JSON: the warning version as delivered.
    pub payload: String,
    /// Failed attempts so far (plus the successful one, once delivered).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub state: OutboxState,
    pub last_error: Option<String>,
    /// Set while a worker holds the row: until then no other claim returns it.
    pub leased_until: Option<i64>,
    pub delivered_at: Option<i64>,
}

/// An institution's answer to one version of a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    pub entity: WarnedEntity,
    pub version: i64,
    pub institution_code: String,
    pub verdict: Verdict,
    pub note: Option<String>,
    pub at: i64,
    pub actor: String,
}

/// How precision is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrecisionBy {
    Pattern,
    Institution,
    /// Per rule code, over the versions whose rule hits included it.
    Rule,
    /// Per age group of the warned entity's holder in `year` (an account's holder, a SIM's
    /// or number's subscriber, the person): [`AGE_GROUPS`] keys, `unknown` when the holder
    /// or their birth date is not in the data.
    AgeGroup {
        year: i32,
    },
}

/// The age groups of [`PrecisionBy::AgeGroup`], youngest first: the key and the lowest age
/// in it. 60 and over is where the law and the dissuasion work treat people as elderly.
pub const AGE_GROUPS: &[(&str, i32)] = &[
    ("under_25", 0),
    ("25_39", 25),
    ("40_59", 40),
    ("60_plus", 60),
];

/// Answers counted for one pattern, institution or rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrecisionRow {
    pub key: String,
    pub confirmed: u64,
    pub false_alarm: u64,
    pub action_taken: u64,
}

impl PrecisionRow {
    /// The share of answered warnings that were right (confirmed or acted on); `None`
    /// before any answer.
    pub fn precision(&self) -> Option<f64> {
        let right = self.confirmed + self.action_taken;
        let all = right + self.false_alarm;
        (all > 0).then(|| right as f64 / all as f64)
    }
}

/// An appeal (申诉) against a warning's measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub id: i64,
    pub entity: WarnedEntity,
    pub person_id: String,
    pub reason: String,
    pub filed_at: i64,
    pub status: AppealStatus,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<i64>,
}

/// A review's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealDecision {
    /// The measure stays; the warning returns to its status before the appeal.
    Upheld,
    /// The person is cleared: the warning is lifted at once.
    Lifted,
}

/// A stored model's version and card, without its artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskModelCard {
    pub version: String,
    pub created_at: i64,
    pub card: String,
}

/// A threshold change to record: the score at which a pattern's warnings reach `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewThresholdDecision {
    pub at: i64,
    pub actor: String,
    pub pattern: String,
    pub level: WarningLevel,
    /// When the new cut-off applies: a run from then on uses it (UTC micros).
    pub effective_at: i64,
    pub old_threshold: Option<i64>,
    pub new_threshold: i64,
    pub reason: String,
    /// JSON.
    pub evaluation: String,
}

/// A threshold change as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdDecision {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub pattern: String,
    /// The level whose cut-off moved (yellow, the warning threshold, for decisions recorded
    /// before levels were named).
    pub level: WarningLevel,
    /// When it applies (its recording time for decisions recorded before this was kept).
    pub effective_at: i64,
    pub old_threshold: Option<i64>,
    pub new_threshold: i64,
    pub reason: String,
    /// JSON: the evaluation at the new threshold.
    pub evaluation: String,
}

/// One version of a warning as it was stored: the warning's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningVersion {
    pub version: i64,
    pub score: Score,
    pub level: WarningLevel,
    pub pattern: String,
    /// JSON: a list of [`WarningReason`].
    pub reasons: String,
    /// The warning's status when this version was stored (`withdrawn`, `lifted` for the
    /// versions that told the owner so).
    pub status: WarningStatus,
    pub model_version: Option<String>,
    /// When the evidence was seen, or the warning was withdrawn or lifted.
    pub at: i64,
}

impl WarningVersion {
    pub fn reasons(&self) -> crate::Result<Vec<WarningReason>> {
        serde_json::from_str(&self.reasons)
            .map_err(|e| crate::StoreError::Corrupt(format!("risk_warning_versions.reasons: {e}")))
    }
}

/// One institution's warnings and its answers to them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstitutionFeedback {
    pub institution_code: String,
    /// Its current warnings.
    pub warnings: u64,
    /// Those whose current version it has answered.
    pub answered: u64,
    /// By the warning's status: the answer to the current version, unless an appeal or a
    /// withdrawal came after it.
    pub confirmed: u64,
    pub false_alarm: u64,
    pub action_taken: u64,
}

/// Answers to warning versions of one pattern with this score and verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScoredAnswer {
    pub score: u8,
    pub verdict: Verdict,
    pub count: u64,
}

/// Stored warning versions of one model version (`None`: scored by the rules alone) whose
/// score fell in `[10·bin, 10·bin + 10)` (bin 10 holds 100).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScoreBin {
    pub model_version: Option<String>,
    pub bin: u8,
    pub count: u64,
}

/// A stored model: its artefact and its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskModel {
    pub version: String,
    pub created_at: i64,
    pub artefact: Vec<u8>,
    /// JSON: training data, evaluation, feature importances.
    pub card: String,
}

// ---- ordered event scans ----

/// An event table the risk engine's batch run reads in event-time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanKind {
    Transactions,
    Calls,
    Sms,
    Logins,
    /// Accounts by `opened_at`.
    Accounts,
    /// SIM holdings by `activated_at`.
    Sims,
}

impl ScanKind {
    pub const ALL: [ScanKind; 6] = [
        ScanKind::Transactions,
        ScanKind::Calls,
        ScanKind::Sms,
        ScanKind::Logins,
        ScanKind::Accounts,
        ScanKind::Sims,
    ];

    /// The kind whose [`Row`] layout the scan returns.
    pub fn kind(self) -> Kind {
        match self {
            ScanKind::Transactions => Kind::Transactions,
            ScanKind::Calls => Kind::Calls,
            ScanKind::Sms => Kind::Sms,
            ScanKind::Logins => Kind::Logins,
            ScanKind::Accounts => Kind::Accounts,
            ScanKind::Sims => Kind::Sims,
        }
    }

    /// The column that orders the scan: the event's time.
    pub fn time_column(self) -> &'static str {
        match self {
            ScanKind::Accounts => "opened_at",
            ScanKind::Sims => "activated_at",
            _ => "ts",
        }
    }

    /// The column that orders events with the same time.
    pub fn id_column(self) -> &'static str {
        match self {
            ScanKind::Transactions => "tx_id",
            ScanKind::Calls => "call_id",
            ScanKind::Sms => "sms_id",
            ScanKind::Logins => "event_id",
            ScanKind::Accounts => "account_id",
            ScanKind::Sims => "msisdn",
        }
    }

    /// Where a scan that returned `row` last resumes; `None` for a row of another layout.
    pub fn cursor_of(self, row: &Row) -> Option<ScanCursor> {
        let schema = self.kind().schema();
        let t = schema.column_index(self.time_column())?;
        let i = schema.column_index(self.id_column())?;
        match (row.values.get(t)?, row.values.get(i)?) {
            (Value::Int(ts), Value::Text(id)) => Some(ScanCursor {
                ts: *ts,
                id: id.clone(),
            }),
            _ => None,
        }
    }
}

/// Where an ordered scan resumes: after the event with this time and id. Ids order by code
/// point on both backends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanCursor {
    pub ts: i64,
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_strangers_are_refused() {
        for s in WarningStatus::ALL {
            assert_eq!(s.as_str().parse::<WarningStatus>(), Ok(*s));
        }
        assert!("purple".parse::<WarningLevel>().is_err());
        assert!(stored::<RiskEntity>("device").is_err());
    }

    #[test]
    fn scores_stop_at_100() {
        assert_eq!(Score::new(100).map(Score::get), Some(100));
        assert!(Score::new(101).is_none());
        assert!(Score::stored(-1).is_err());
    }

    #[test]
    fn precision_counts_actions_as_right() {
        let row = PrecisionRow {
            key: "mule".into(),
            confirmed: 2,
            false_alarm: 1,
            action_taken: 1,
        };
        assert_eq!(row.precision(), Some(0.75));
        let none = PrecisionRow {
            key: "x".into(),
            confirmed: 0,
            false_alarm: 0,
            action_taken: 0,
        };
        assert_eq!(none.precision(), None);
    }
}
