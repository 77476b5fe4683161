//! The risk tables' SQL (see [`crate::risk`]), written once for both backends. Statements
//! that must run together come as plans: a backend runs the first statement, hands its rows
//! back, and runs the statements the plan answers with in the same transaction. The
//! decisions (is this new evidence, may this feedback move the status) are made here, so
//! the backends cannot drift apart.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use fanzha_core::schema::{ColType, Row, Value};
use sha2::{Digest, Sha256};

use super::{unmatchable, Builder, Cell, Rows, Stmt, I, T};
use crate::risk::{
    stored, Appeal, AppealDecision, AppealStatus, InstitutionFeedback, Measure, NewFeedback,
    NewThresholdDecision, NewWarning, OutboxItem, OutboxState, PrecisionBy, PrecisionRow,
    ReasonSource, RiskEntity, RiskModelCard, ScanCursor, ScanKind, Score, ScoreBin, ScoredAnswer,
    ThresholdDecision, UpsertOutcome, Verdict, WarnedEntity, Warning, WarningFilter, WarningLevel,
    WarningStatus, WarningVersion, AGE_GROUPS,
};
use crate::{Backend, Result, Scope, StoreError};

/// Row locks for a read-then-write in PostgreSQL; SQLite's writer is already alone.
fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

pub(crate) fn refuse_nul<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<()> {
    match texts.into_iter().find(|s| unmatchable(s)) {
        Some(s) => Err(StoreError::Invalid(format!(
            "text with a NUL character: {:?}",
            s.replace('\0', "\\0")
        ))),
        None => Ok(()),
    }
}

fn bad(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

/// A decoding cursor over one row.
struct Cells(std::vec::IntoIter<Cell>, &'static str);

impl Cells {
    fn new(row: Vec<Cell>, table: &'static str) -> Self {
        Cells(row.into_iter(), table)
    }

    fn int(&mut self) -> Result<i64> {
        self.0
            .next()
            .and_then(|c| c.int())
            .ok_or_else(|| bad(self.1))
    }

    fn opt_int(&mut self) -> Option<i64> {
        self.0.next().and_then(|c| c.int())
    }

    fn text(&mut self) -> Result<String> {
        self.0
            .next()
            .and_then(Cell::into_text)
            .ok_or_else(|| bad(self.1))
    }

    fn opt_text(&mut self) -> Option<String> {
        self.0.next().and_then(Cell::into_text)
    }
}

// ---- ordered event scans ----

/// Each scan's result columns: the kind's stored columns, then `extra`.
fn scan_cols(kind: ScanKind) -> &'static [ColType] {
    static COLS: OnceLock<Vec<(ScanKind, Vec<ColType>)>> = OnceLock::new();
    let all = COLS.get_or_init(|| {
        ScanKind::ALL
            .iter()
            .map(|k| {
                let mut cols: Vec<ColType> =
                    k.kind().schema().columns.iter().map(|c| c.ty).collect();
                cols.push(T);
                (*k, cols)
            })
            .collect()
    });
    all.iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, c)| c.as_slice())
}

/// One page of a table in event-time order, after `after`. Events without a time cannot be
/// placed in that order and are not scanned (every scanned kind requires its time, so
/// ingest stores none).
pub(crate) fn scan(
    backend: Backend,
    kind: ScanKind,
    after: Option<&ScanCursor>,
    limit: u32,
) -> Stmt {
    let schema = kind.kind().schema();
    let cols: Vec<&str> = schema.columns.iter().map(|c| c.name).collect();
    let table = kind.kind().as_str();
    let mut b = Builder::new(backend, &Scope::All);
    let t = kind.time_column();
    let id = b.bytewise(kind.id_column());
    // A row-value comparison is one range over the (time, id) index in both databases.
    let cond = match after {
        Some(c) => format!("({t}, {id}) > ({}, {})", b.int(c.ts), b.text(&c.id)),
        None => format!("{t} IS NOT NULL"),
    };
    let n = b.limit(limit);
    b.finish(
        format!(
            "SELECT {}, extra FROM {table} WHERE {cond} ORDER BY {t}, {id} LIMIT {n}",
            cols.join(", ")
        ),
        scan_cols(kind),
    )
}

pub(crate) fn scan_rows(rows: Rows) -> Vec<Row> {
    rows.into_iter()
        .map(|row| {
            let mut values: Vec<Value> = row
                .into_iter()
                .map(|c| match c {
                    Cell::Null => Value::Null,
                    Cell::Int(i) => Value::Int(i),
                    Cell::Text(s) => Value::Text(s),
                })
                .collect();
            let extra = match values.pop() {
                Some(Value::Text(s)) => Some(s),
                _ => None,
            };
            Row { values, extra }
        })
        .collect()
}

// ---- warnings ----

const WARNING_COLS: &str = "w.entity_type, w.entity_id, w.institution_code, w.score, w.level, \
     w.pattern, w.reasons, w.measure, w.model_version, w.rules_version, w.version, \
     w.first_warned_at, w.updated_at, w.status";
const WARNING_TYPES: &[ColType] = &[T, T, T, I, T, T, T, T, T, T, I, I, I, T];

/// The warning row `w` is within the builder's scope: an institution sees the warnings it
/// owns; a jurisdiction those whose entity's holder lives in it (an account's holder, any
/// holder of a SIM's number, the person), so a number seen only in traffic is in no
/// jurisdiction.
fn warning_in(b: &mut Builder<'_>, w: &str) -> String {
    match b.scope {
        Scope::All => "1 = 1".to_owned(),
        Scope::Institution(_) => format!("{w}.institution_code = {}", b.code()),
        Scope::Jurisdiction(_) => {
            let account = b.account_in("ax");
            let holding = b.holding_in("sx");
            let j = b.jurisdictions();
            format!(
                "(({w}.entity_type = 'account' AND EXISTS (SELECT 1 FROM accounts ax \
                 WHERE ax.account_id = {w}.entity_id AND {account})) \
                 OR ({w}.entity_type IN ('sim', 'number') AND EXISTS (SELECT 1 FROM sims sx \
                 WHERE sx.msisdn = {w}.entity_id AND {holding})) \
                 OR ({w}.entity_type = 'person' AND EXISTS (SELECT 1 FROM persons wp \
                 WHERE wp.person_id = {w}.entity_id AND wp.community_code IN {j})))"
            )
        }
    }
}

fn entity_where(b: &mut Builder<'_>, alias: &str, e: &WarnedEntity) -> String {
    let (t, id) = (b.text(e.kind.as_str()), b.text(&e.id));
    let p = if alias.is_empty() {
        String::new()
    } else {
        format!("{alias}.")
    };
    format!("{p}entity_type = {t} AND {p}entity_id = {id}")
}

pub(crate) fn warning_get(backend: Backend, scope: &Scope, e: &WarnedEntity) -> Option<Stmt> {
    if unmatchable(&e.id) {
        return None;
    }
    let mut b = Builder::new(backend, scope);
    let key = entity_where(&mut b, "w", e);
    let inside = warning_in(&mut b, "w");
    Some(b.finish(
        format!("SELECT {WARNING_COLS} FROM risk_warnings w WHERE {key} AND {inside}"),
        WARNING_TYPES,
    ))
}

/// Newest evidence first.
pub(crate) fn warning_list(
    backend: Backend,
    scope: &Scope,
    f: &WarningFilter,
    limit: u32,
    offset: u64,
) -> Option<Stmt> {
    if f.pattern.as_deref().is_some_and(unmatchable) {
        return None;
    }
    let mut b = Builder::new(backend, scope);
    let mut conds = vec![warning_in(&mut b, "w")];
    if let Some(t) = f.entity_type {
        conds.push(format!("w.entity_type = {}", b.text(t.as_str())));
    }
    if let Some(l) = f.level {
        conds.push(format!("w.level = {}", b.text(l.as_str())));
    }
    if let Some(p) = &f.pattern {
        conds.push(format!("w.pattern = {}", b.text(p)));
    }
    if let Some(s) = f.status {
        conds.push(format!("w.status = {}", b.text(s.as_str())));
    }
    let n = b.limit(limit);
    let skip = b.int(i64::try_from(offset).unwrap_or(i64::MAX));
    let id = b.bytewise("w.entity_id");
    Some(b.finish(
        format!(
            "SELECT {WARNING_COLS} FROM risk_warnings w WHERE {} \
             ORDER BY w.updated_at DESC, w.entity_type, {id} LIMIT {n} OFFSET {skip}",
            conds.join(" AND ")
        ),
        WARNING_TYPES,
    ))
}

pub(crate) fn warnings(rows: Rows) -> Result<Vec<Warning>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "risk_warnings row");
            Ok(Warning {
                entity: WarnedEntity {
                    kind: stored::<RiskEntity>(&c.text()?)?,
                    id: c.text()?,
                },
                institution_code: c.text()?,
                score: Score::stored(c.int()?)?,
                level: stored::<WarningLevel>(&c.text()?)?,
                pattern: c.text()?,
                reasons: c.text()?,
                measure: stored::<Measure>(&c.text()?)?,
                model_version: c.opt_text(),
                rules_version: c.opt_text(),
                version: c.int()?,
                first_warned_at: c.int()?,
                updated_at: c.int()?,
                status: stored::<WarningStatus>(&c.text()?)?,
            })
        })
        .collect()
}

/// Storing one warning: insert it if new, else compare its evidence with the stored one's;
/// a new version gets its rule hits and its delivery in the same transaction.
pub(crate) struct UpsertPlan {
    backend: Backend,
    w: NewWarning,
    reasons: String,
    /// The clock, for the outbox: delivery is wall-clock work even in a replay.
    now: i64,
}

impl UpsertPlan {
    pub(crate) fn new(backend: Backend, w: &NewWarning, now: i64) -> Result<Self> {
        refuse_nul(
            [
                w.entity.id.as_str(),
                &w.institution_code,
                &w.pattern,
                w.model_version.as_deref().unwrap_or(""),
                w.rules_version.as_deref().unwrap_or(""),
            ]
            .into_iter()
            .chain(
                w.reasons
                    .iter()
                    .flat_map(|r| [r.code.as_str(), r.text_zh.as_str(), r.text_en.as_str()]),
            ),
        )?;
        if let Some(r) = w.reasons.iter().find(|r| !r.contribution.is_finite()) {
            return Err(StoreError::Invalid(format!(
                "reason {} has a contribution of {}",
                r.code, r.contribution
            )));
        }
        let reasons = serde_json::to_string(&w.reasons)
            .map_err(|e| StoreError::Invalid(format!("reasons: {e}")))?;
        Ok(UpsertPlan {
            backend,
            w: w.clone(),
            reasons,
            now,
        })
    }

    /// Inserts the warning as version 1 unless the entity has one; returns the version when
    /// it inserted.
    pub(crate) fn insert(&self) -> Stmt {
        let w = &self.w;
        let mut b = Builder::new(self.backend, &Scope::All);
        let vals = [
            b.text(w.entity.kind.as_str()),
            b.text(&w.entity.id),
            b.text(&w.institution_code),
            b.int(i64::from(w.score.get())),
            b.text(w.level.as_str()),
            b.text(&w.pattern),
            b.text(&self.reasons),
            b.text(w.measure.as_str()),
            opt_text(&mut b, w.model_version.as_deref()),
            opt_text(&mut b, w.rules_version.as_deref()),
            b.int(w.first_warned_at.unwrap_or(w.at)),
            b.int(w.at),
            b.text(WarningStatus::Open.as_str()),
        ];
        let [t, id, inst, score, level, pattern, reasons, measure, model, rules, first, at, open] =
            vals;
        b.finish(
            format!(
                "INSERT INTO risk_warnings (entity_type, entity_id, institution_code, score, level, \
                 pattern, reasons, measure, model_version, rules_version, version, first_warned_at, \
                 updated_at, status) VALUES ({t}, {id}, {inst}, {score}, {level}, {pattern}, \
                 {reasons}, {measure}, {model}, {rules}, 1, {first}, {at}, {open}) \
                 ON CONFLICT (entity_type, entity_id) DO NOTHING RETURNING version"
            ),
            &[I],
        )
    }

    /// The stored evidence, locked until the transaction ends.
    pub(crate) fn current(&self) -> Stmt {
        let mut b = Builder::new(self.backend, &Scope::All);
        let key = entity_where(&mut b, "", &self.w.entity);
        b.finish(
            format!(
                "SELECT score, level, pattern, reasons, version, first_warned_at, status \
                 FROM risk_warnings WHERE {key}{}",
                for_update(self.backend)
            ),
            &[I, T, T, T, I, I, T],
        )
    }

    /// What follows the insert: `None` when the entity already had a warning (run
    /// [`Self::current`] next).
    pub(crate) fn after_insert(&self, inserted: Rows) -> Option<(Vec<Stmt>, UpsertOutcome)> {
        inserted.into_iter().next()?;
        Some(self.new_version(
            1,
            self.w.first_warned_at.unwrap_or(self.w.at),
            WarningStatus::Open,
            Vec::new(),
        ))
    }

    /// What follows reading the stored evidence.
    pub(crate) fn after_current(&self, current: Rows) -> Result<(Vec<Stmt>, UpsertOutcome)> {
        let row = current
            .into_iter()
            .next()
            .ok_or_else(|| bad("risk_warnings: the conflicting row is gone"))?;
        let mut c = Cells::new(row, "risk_warnings evidence");
        let (score, level, pattern, reasons) = (c.int()?, c.text()?, c.text()?, c.text()?);
        let (version, first, status) = (c.int()?, c.int()?, c.text()?);
        let w = &self.w;
        // Evidence that comes back after a withdrawal is new to the owner, even if equal to
        // what was withdrawn.
        let same = status != WarningStatus::Withdrawn.as_str()
            && score == i64::from(w.score.get())
            && level == w.level.as_str()
            && pattern == w.pattern
            && reasons == self.reasons;
        let mut b = Builder::new(self.backend, &Scope::All);
        if same {
            // Not new evidence: the owner, measure and versions may still be refreshed, but
            // nothing is delivered and the version stays.
            let sets = [
                format!("institution_code = {}", b.text(&w.institution_code)),
                format!("measure = {}", b.text(w.measure.as_str())),
                format!(
                    "model_version = {}",
                    opt_text(&mut b, w.model_version.as_deref())
                ),
                format!(
                    "rules_version = {}",
                    opt_text(&mut b, w.rules_version.as_deref())
                ),
            ];
            let key = entity_where(&mut b, "", &w.entity);
            let st = b.finish(
                format!("UPDATE risk_warnings SET {} WHERE {key}", sets.join(", ")),
                &[],
            );
            return Ok((
                vec![st],
                UpsertOutcome {
                    changed: false,
                    version,
                    idempotency_key: None,
                },
            ));
        }
        let next = version + 1;
        let sets = [
            format!("institution_code = {}", b.text(&w.institution_code)),
            format!("score = {}", b.int(i64::from(w.score.get()))),
            format!("level = {}", b.text(w.level.as_str())),
            format!("pattern = {}", b.text(&w.pattern)),
            format!("reasons = {}", b.text(&self.reasons)),
            format!("measure = {}", b.text(w.measure.as_str())),
            format!(
                "model_version = {}",
                opt_text(&mut b, w.model_version.as_deref())
            ),
            format!(
                "rules_version = {}",
                opt_text(&mut b, w.rules_version.as_deref())
            ),
            format!("version = {}", b.int(next)),
            format!("updated_at = {}", b.int(w.at)),
            // New evidence reopens the warning; a pending appeal keeps it until decided.
            "status = CASE WHEN status = 'appealed' THEN status ELSE 'open' END".to_owned(),
        ];
        let key = entity_where(&mut b, "", &w.entity);
        let update = b.finish(
            format!("UPDATE risk_warnings SET {} WHERE {key}", sets.join(", ")),
            &[],
        );
        let now_status = if status == WarningStatus::Appealed.as_str() {
            WarningStatus::Appealed
        } else {
            WarningStatus::Open
        };
        Ok(self.new_version(next, first, now_status, vec![update]))
    }

    fn new_version(
        &self,
        version: i64,
        first_warned_at: i64,
        status: WarningStatus,
        mut stmts: Vec<Stmt>,
    ) -> (Vec<Stmt>, UpsertOutcome) {
        let w = &self.w;
        stmts.push(version_row(
            self.backend,
            &VersionRow {
                entity: &w.entity,
                version,
                score: i64::from(w.score.get()),
                level: w.level.as_str(),
                pattern: &w.pattern,
                reasons: &self.reasons,
                status,
                model_version: w.model_version.as_deref(),
                at: w.at,
            },
        ));
        let rules: BTreeSet<&str> = w
            .reasons
            .iter()
            .filter(|r| r.source == ReasonSource::Rule)
            .map(|r| r.code.as_str())
            .collect();
        if !rules.is_empty() {
            let mut b = Builder::new(self.backend, &Scope::All);
            let (t, id, v) = (
                b.text(w.entity.kind.as_str()),
                b.text(&w.entity.id),
                b.int(version),
            );
            let tuples: Vec<String> = rules
                .iter()
                .map(|r| format!("({t}, {id}, {v}, {})", b.text(r)))
                .collect();
            stmts.push(b.finish(
                format!(
                    "INSERT INTO warning_rule_hits (entity_type, entity_id, version, rule_code) \
                     VALUES {} ON CONFLICT (entity_type, entity_id, version, rule_code) DO NOTHING",
                    tuples.join(", ")
                ),
                &[],
            ));
        }
        let key = idempotency_key(&w.entity, first_warned_at, version);
        let payload = serde_json::json!({
            "idempotency_key": key,
            "entity_type": w.entity.kind,
            "entity_id": w.entity.id,
            "institution_code": w.institution_code,
            "version": version,
            "score": w.score,
            "level": w.level,
            "pattern": w.pattern,
            "reasons": w.reasons,
            "measure": w.measure,
            "model_version": w.model_version,
            "rules_version": w.rules_version,
            "first_warned_at": first_warned_at,
            "updated_at": w.at,
        })
        .to_string();
        stmts.push(enqueue(
            self.backend,
            &w.institution_code,
            &w.entity,
            version,
            &key,
            &payload,
            self.now,
        ));
        (
            stmts,
            UpsertOutcome {
                changed: true,
                version,
                idempotency_key: Some(key),
            },
        )
    }
}

/// One version as `risk_warning_versions` keeps it.
struct VersionRow<'a> {
    entity: &'a WarnedEntity,
    version: i64,
    score: i64,
    level: &'a str,
    pattern: &'a str,
    reasons: &'a str,
    status: WarningStatus,
    model_version: Option<&'a str>,
    at: i64,
}

/// Keeps a version in the warning's history (once: a version is written once).
fn version_row(backend: Backend, r: &VersionRow<'_>) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let vals = [
        b.text(r.entity.kind.as_str()),
        b.text(&r.entity.id),
        b.int(r.version),
        b.int(r.score),
        b.text(r.level),
        b.text(r.pattern),
        b.text(r.reasons),
        b.text(r.status.as_str()),
        opt_text(&mut b, r.model_version),
        b.int(r.at),
    ];
    let [t, id, v, score, level, pattern, reasons, status, model, at] = vals;
    b.finish(
        format!(
            "INSERT INTO risk_warning_versions (entity_type, entity_id, version, score, level, \
             pattern, reasons, status, model_version, at) VALUES ({t}, {id}, {v}, {score}, {level}, \
             {pattern}, {reasons}, {status}, {model}, {at}) \
             ON CONFLICT (entity_type, entity_id, version) DO NOTHING"
        ),
        &[],
    )
}

/// Queues one version of a warning for its owner. A key already queued is the same
/// version of the same warning: it is queued once.
fn enqueue(
    backend: Backend,
    institution: &str,
    entity: &WarnedEntity,
    version: i64,
    key: &str,
    payload: &str,
    now: i64,
) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let vals = [
        b.text(institution),
        b.text(entity.kind.as_str()),
        b.text(&entity.id),
        b.int(version),
        b.text(key),
        b.text(payload),
        b.int(now),
    ];
    let [inst, t, id, v, k, p, now] = vals;
    b.finish(
        format!(
            "INSERT INTO warning_outbox (institution_code, entity_type, entity_id, warning_version, \
             idempotency_key, payload, attempts, next_attempt_at, state, created_at) \
             VALUES ({inst}, {t}, {id}, {v}, {k}, {p}, 0, {now}, 'pending', {now}) \
             ON CONFLICT (idempotency_key) DO NOTHING"
        ),
        &[],
    )
}

/// Withdrawing an open warning whose evidence no longer reaches a level (a batch run over
/// all the data found none, e.g. after a rule change): a new version with status
/// `withdrawn`, queued so the owner lifts what it did on the warning's account. Answered
/// warnings (confirmed, false alarm, action taken) and appeals keep their status: the
/// institution's or the reviewer's word stands.
pub(crate) struct WithdrawPlan {
    backend: Backend,
    entity: WarnedEntity,
    at: i64,
    now: i64,
}

impl WithdrawPlan {
    pub(crate) fn new(backend: Backend, entity: &WarnedEntity, at: i64, now: i64) -> Result<Self> {
        refuse_nul([entity.id.as_str()])?;
        Ok(WithdrawPlan {
            backend,
            entity: entity.clone(),
            at,
            now,
        })
    }

    /// The stored warning, locked until the transaction ends.
    pub(crate) fn current(&self) -> Stmt {
        let mut b = Builder::new(self.backend, &Scope::All);
        let key = entity_where(&mut b, "", &self.entity);
        b.finish(
            format!(
                "SELECT institution_code, score, level, pattern, reasons, measure, version, \
                 first_warned_at, status, model_version FROM risk_warnings WHERE {key}{}",
                for_update(self.backend)
            ),
            &[T, I, T, T, T, T, I, I, T, T],
        )
    }

    /// The update and the delivery, or `None` when there is no open warning.
    pub(crate) fn after_current(
        &self,
        current: Rows,
    ) -> Result<Option<(Vec<Stmt>, UpsertOutcome)>> {
        let Some(row) = current.into_iter().next() else {
            return Ok(None);
        };
        let mut c = Cells::new(row, "risk_warnings withdrawal");
        let (inst, score, level, pattern, reasons) =
            (c.text()?, c.int()?, c.text()?, c.text()?, c.text()?);
        let (measure, version, first, status) = (c.text()?, c.int()?, c.int()?, c.text()?);
        let model = c.opt_text();
        if status != WarningStatus::Open.as_str() {
            return Ok(None);
        }
        let history = version_row(
            self.backend,
            &VersionRow {
                entity: &self.entity,
                version: version + 1,
                score,
                level: &level,
                pattern: &pattern,
                reasons: &reasons,
                status: WarningStatus::Withdrawn,
                model_version: model.as_deref(),
                at: self.at,
            },
        );
        let next = version + 1;
        let mut b = Builder::new(self.backend, &Scope::All);
        let sets = format!(
            "status = {}, version = {}, updated_at = {}",
            b.text(WarningStatus::Withdrawn.as_str()),
            b.int(next),
            b.int(self.at)
        );
        let key_where = entity_where(&mut b, "", &self.entity);
        let update = b.finish(
            format!("UPDATE risk_warnings SET {sets} WHERE {key_where}"),
            &[],
        );
        let key = idempotency_key(&self.entity, first, next);
        let reasons: serde_json::Value = serde_json::from_str(&reasons)
            .map_err(|e| bad(&format!("risk_warnings.reasons: {e}")))?;
        let payload = serde_json::json!({
            "idempotency_key": key,
            "entity_type": self.entity.kind,
            "entity_id": self.entity.id,
            "institution_code": inst,
            "version": next,
            "status": WarningStatus::Withdrawn.as_str(),
            "score": score,
            "level": level,
            "pattern": pattern,
            "reasons": reasons,
            "measure": measure,
            "first_warned_at": first,
            "updated_at": self.at,
        })
        .to_string();
        let queue = enqueue(
            self.backend,
            &inst,
            &self.entity,
            next,
            &key,
            &payload,
            self.now,
        );
        Ok(Some((
            vec![update, history, queue],
            UpsertOutcome {
                changed: true,
                version: next,
                idempotency_key: Some(key),
            },
        )))
    }
}

fn opt_text(b: &mut Builder<'_>, s: Option<&str>) -> String {
    match s {
        Some(s) => b.text(s),
        None => "CAST(NULL AS TEXT)".to_owned(),
    }
}

/// One key per version of one warning, the same on every retry. The first warning's time is
/// in it so that a warning raised afresh after its entity's record was cleared does not
/// reuse a key the receiver has already applied.
fn idempotency_key(e: &WarnedEntity, first_warned_at: i64, version: i64) -> String {
    let mut h = Sha256::new();
    for part in [
        e.kind.as_str(),
        &e.id,
        &first_warned_at.to_string(),
        &version.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("fzw1-{hex}")
}

// ---- the outbox ----

const OUTBOX_COLS: &str = "id, institution_code, entity_type, entity_id, warning_version, \
     idempotency_key, payload, attempts, next_attempt_at, state, last_error, leased_until, delivered_at";
const OUTBOX_TYPES: &[ColType] = &[I, T, T, T, I, T, T, I, I, T, T, I, I];

/// Leases up to `limit` due deliveries until `now + lease`, oldest due first. In PostgreSQL
/// rows another claim holds are skipped, not waited for; the outer condition is checked
/// again on the locked rows, so two claimers never return the same row.
pub(crate) fn outbox_claim(backend: Backend, now: i64, limit: u32, lease: i64) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let until = b.int(now.saturating_add(lease.max(0)));
    let now = b.int(now);
    let n = b.limit(limit);
    let due = format!(
        "SELECT id FROM warning_outbox WHERE state = 'pending' AND next_attempt_at <= {now} \
         ORDER BY next_attempt_at, id LIMIT {n}"
    );
    // PostgreSQL may run an `IN (subquery)` as a join that scans the subquery again, and with
    // SKIP LOCKED each scan skips the rows the last one locked: the limit leaks. An array
    // built from the subquery is computed once.
    let picked = match backend {
        Backend::Sqlite => format!("id IN ({due})"),
        Backend::Postgres => format!("id = ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"),
    };
    b.finish(
        format!(
            "UPDATE warning_outbox SET next_attempt_at = {until}, leased_until = {until} \
             WHERE {picked} AND state = 'pending' AND next_attempt_at <= {now} RETURNING {OUTBOX_COLS}"
        ),
        OUTBOX_TYPES,
    )
}

pub(crate) fn outbox_delivered(backend: Backend, id: i64, at: i64) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let (at, id) = (b.int(at), b.int(id));
    b.finish(
        format!(
            "UPDATE warning_outbox SET state = 'delivered', delivered_at = {at}, leased_until = NULL, \
             attempts = attempts + 1 WHERE id = {id} AND state = 'pending' RETURNING id"
        ),
        &[I],
    )
}

/// Records a failed attempt: retried at `retry_at`, or dead once `max_attempts` have failed.
pub(crate) fn outbox_failed(
    backend: Backend,
    id: i64,
    error: &str,
    retry_at: i64,
    max_attempts: u32,
) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let err = b.text(&error.replace('\0', "\\0"));
    let retry = b.int(retry_at);
    let max = b.int(i64::from(max_attempts));
    let id = b.int(id);
    b.finish(
        format!(
            "UPDATE warning_outbox SET attempts = attempts + 1, last_error = {err}, \
             next_attempt_at = {retry}, leased_until = NULL, \
             state = CASE WHEN attempts + 1 >= {max} THEN 'dead' ELSE 'pending' END \
             WHERE id = {id} AND state = 'pending' RETURNING state"
        ),
        &[T],
    )
}

pub(crate) fn outbox_list(backend: Backend, state: Option<OutboxState>, limit: u32) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let cond = match state {
        Some(s) => format!("state = {}", b.text(s.as_str())),
        None => "1 = 1".to_owned(),
    };
    let n = b.limit(limit);
    b.finish(
        format!("SELECT {OUTBOX_COLS} FROM warning_outbox WHERE {cond} ORDER BY id LIMIT {n}"),
        OUTBOX_TYPES,
    )
}

pub(crate) fn outbox_items(rows: Rows) -> Result<Vec<OutboxItem>> {
    let mut out = rows
        .into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "warning_outbox row");
            let id = c.int()?;
            let institution_code = c.text()?;
            let entity = WarnedEntity {
                kind: stored::<RiskEntity>(&c.text()?)?,
                id: c.text()?,
            };
            Ok(OutboxItem {
                id,
                institution_code,
                entity,
                warning_version: c.int()?,
                idempotency_key: c.text()?,
                payload: c.text()?,
                attempts: c.int()?,
                next_attempt_at: c.int()?,
                state: stored::<OutboxState>(&c.text()?)?,
                last_error: c.opt_text(),
                leased_until: c.opt_int(),
                delivered_at: c.opt_int(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // RETURNING keeps no order.
    out.sort_by_key(|o| o.id);
    Ok(out)
}

pub(crate) fn outbox_state(rows: Rows) -> Result<Option<OutboxState>> {
    rows.into_iter()
        .next()
        .map(|row| stored::<OutboxState>(&Cells::new(row, "warning_outbox.state").text()?))
        .transpose()
}

// ---- feedback and precision ----

/// Recording an institution's answer: read the warning, then write.
pub(crate) struct FeedbackPlan {
    backend: Backend,
    fb: NewFeedback,
}

impl FeedbackPlan {
    pub(crate) fn new(backend: Backend, fb: &NewFeedback) -> Result<Self> {
        refuse_nul([
            fb.entity.id.as_str(),
            &fb.institution_code,
            &fb.actor,
            fb.note.as_deref().unwrap_or(""),
        ])?;
        Ok(FeedbackPlan {
            backend,
            fb: fb.clone(),
        })
    }

    pub(crate) fn target(&self) -> Stmt {
        let mut b = Builder::new(self.backend, &Scope::All);
        let key = entity_where(&mut b, "", &self.fb.entity);
        b.finish(
            format!(
                "SELECT version, pattern, status FROM risk_warnings WHERE {key}{}",
                for_update(self.backend)
            ),
            &[I, T, T],
        )
    }

    /// The writes, or `None` when there is no such warning version. An answer to the
    /// current version moves the warning's status, unless an appeal is pending or has
    /// lifted it: the review decides then. The pattern recorded is the warning's current one.
    pub(crate) fn writes(&self, target: Rows) -> Result<Option<Vec<Stmt>>> {
        let Some(row) = target.into_iter().next() else {
            return Ok(None);
        };
        let mut c = Cells::new(row, "risk_warnings row");
        let (version, pattern) = (c.int()?, c.text()?);
        let status = stored::<WarningStatus>(&c.text()?)?;
        let fb = &self.fb;
        if fb.version < 1 || fb.version > version {
            return Ok(None);
        }
        let mut b = Builder::new(self.backend, &Scope::All);
        let vals = [
            b.text(fb.entity.kind.as_str()),
            b.text(&fb.entity.id),
            b.int(fb.version),
            b.text(&fb.institution_code),
            b.text(&pattern),
            b.text(fb.verdict.as_str()),
            opt_text(&mut b, fb.note.as_deref()),
            b.int(fb.at),
            b.text(&fb.actor),
        ];
        let [t, id, v, inst, pat, verdict, note, at, actor] = vals;
        let mut out = vec![b.finish(
            format!(
                "INSERT INTO warning_feedback (entity_type, entity_id, version, institution_code, \
                 pattern, verdict, note, at, actor) VALUES ({t}, {id}, {v}, {inst}, {pat}, {verdict}, \
                 {note}, {at}, {actor}) ON CONFLICT (entity_type, entity_id, version, institution_code) \
                 DO UPDATE SET verdict = excluded.verdict, note = excluded.note, at = excluded.at, \
                 actor = excluded.actor"
            ),
            &[],
        )];
        let settled = matches!(status, WarningStatus::Appealed | WarningStatus::Lifted);
        if fb.version == version && !settled {
            let mut b = Builder::new(self.backend, &Scope::All);
            let s = b.text(WarningStatus::from(fb.verdict).as_str());
            let key = entity_where(&mut b, "", &fb.entity);
            out.push(b.finish(
                format!("UPDATE risk_warnings SET status = {s} WHERE {key}"),
                &[],
            ));
        }
        Ok(Some(out))
    }
}

pub(crate) fn precision(backend: Backend, by: PrecisionBy) -> Stmt {
    let counts = "SUM(CASE WHEN f.verdict = 'confirmed' THEN 1 ELSE 0 END), \
                  SUM(CASE WHEN f.verdict = 'false_alarm' THEN 1 ELSE 0 END), \
                  SUM(CASE WHEN f.verdict = 'action_taken' THEN 1 ELSE 0 END)";
    let b = Builder::new(backend, &Scope::All);
    let age_key;
    let (key, from) = match by {
        PrecisionBy::Pattern => ("f.pattern", "warning_feedback f".to_owned()),
        PrecisionBy::Institution => ("f.institution_code", "warning_feedback f".to_owned()),
        PrecisionBy::Rule => (
            "h.rule_code",
            "warning_feedback f JOIN warning_rule_hits h ON h.entity_type = f.entity_type \
             AND h.entity_id = f.entity_id AND h.version = f.version"
                .to_owned(),
        ),
        PrecisionBy::AgeGroup { year } => {
            // The holder of each warned entity: an account's, a SIM's or number's current
            // subscriber (the holding activated last), or the person.
            // Four-digit years compare as text in both databases, and a malformed date
            // cannot fail a cast.
            let born = "SUBSTR(p.birth_date, 1, 4)";
            // Literals, not parameters: they come from our code and the clock, and the same
            // expression must appear in GROUP BY.
            let arms: Vec<String> = AGE_GROUPS
                .iter()
                .rev()
                .map(|(k, lowest)| format!("WHEN {born} <= '{:04}' THEN '{k}'", year - lowest))
                .collect();
            age_key = format!(
                "CASE WHEN p.birth_date IS NULL OR LENGTH(p.birth_date) < 4 THEN 'unknown' {} \
                 ELSE 'unknown' END",
                arms.join(" ")
            );
            (
                age_key.as_str(),
                "warning_feedback f LEFT JOIN persons p ON p.person_id = CASE \
                 WHEN f.entity_type = 'person' THEN f.entity_id \
                 WHEN f.entity_type = 'account' THEN (SELECT a.holder_id FROM accounts a \
                 WHERE a.account_id = f.entity_id) \
                 ELSE (SELECT s.holder_id FROM sims s WHERE s.msisdn = f.entity_id \
                 ORDER BY s.activated_at DESC LIMIT 1) END"
                    .to_owned(),
            )
        }
    };
    let ordered = b.bytewise(key);
    // SUM is NUMERIC in PostgreSQL; the casts keep both backends' rows integers.
    let counts = counts
        .replace("SUM(", "CAST(SUM(")
        .replace(" END)", " END) AS BIGINT)");
    b.finish(
        format!("SELECT {key}, {counts} FROM {from} GROUP BY {key} ORDER BY {ordered}"),
        &[T, I, I, I],
    )
}

pub(crate) fn precision_rows(rows: Rows) -> Result<Vec<PrecisionRow>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "precision row");
            let key = c.text()?;
            let mut n = || c.int().map(|v| u64::try_from(v).unwrap_or(0));
            Ok(PrecisionRow {
                key,
                confirmed: n()?,
                false_alarm: n()?,
                action_taken: n()?,
            })
        })
        .collect()
}

// ---- appeals ----

const APPEAL_COLS: &str = "id, entity_type, entity_id, person_id, reason, filed_at, status, \
     decided_by, decision_reason, decided_at";
const APPEAL_TYPES: &[ColType] = &[I, T, T, T, T, I, T, T, T, I];

/// Filing an appeal: read the warning, then write.
pub(crate) struct AppealPlan {
    backend: Backend,
    entity: WarnedEntity,
    person_id: String,
    reason: String,
    at: i64,
}

impl AppealPlan {
    pub(crate) fn new(
        backend: Backend,
        entity: &WarnedEntity,
        person_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<Self> {
        refuse_nul([entity.id.as_str(), person_id, reason])?;
        Ok(AppealPlan {
            backend,
            entity: entity.clone(),
            person_id: person_id.to_owned(),
            reason: reason.to_owned(),
            at,
        })
    }

    pub(crate) fn target(&self) -> Stmt {
        let mut b = Builder::new(self.backend, &Scope::All);
        let key = entity_where(&mut b, "", &self.entity);
        b.finish(
            format!(
                "SELECT status FROM risk_warnings WHERE {key}{}",
                for_update(self.backend)
            ),
            &[T],
        )
    }

    /// The insert (returning the appeal's id) and the status change; `None` when there is no
    /// warning, or an appeal against it is already pending.
    pub(crate) fn writes(&self, target: Rows) -> Result<Option<(Stmt, Stmt)>> {
        let Some(row) = target.into_iter().next() else {
            return Ok(None);
        };
        let status = stored::<WarningStatus>(&Cells::new(row, "risk_warnings.status").text()?)?;
        if status == WarningStatus::Appealed {
            return Ok(None);
        }
        let mut b = Builder::new(self.backend, &Scope::All);
        let vals = [
            b.text(self.entity.kind.as_str()),
            b.text(&self.entity.id),
            b.text(&self.person_id),
            b.text(&self.reason),
            b.int(self.at),
            b.text(status.as_str()),
        ];
        let [t, id, person, reason, at, prior] = vals;
        let insert = b.finish(
            format!(
                "INSERT INTO risk_appeals (entity_type, entity_id, person_id, reason, filed_at, status, \
                 prior_status) VALUES ({t}, {id}, {person}, {reason}, {at}, 'open', {prior}) RETURNING id"
            ),
            &[I],
        );
        let mut b = Builder::new(self.backend, &Scope::All);
        let key = entity_where(&mut b, "", &self.entity);
        let update = b.finish(
            format!("UPDATE risk_warnings SET status = 'appealed' WHERE {key}"),
            &[],
        );
        Ok(Some((insert, update)))
    }
}

/// Deciding an appeal: read it, then write.
pub(crate) struct DecisionPlan {
    backend: Backend,
    id: i64,
    decision: AppealDecision,
    by: String,
    reason: String,
    at: i64,
}

impl DecisionPlan {
    pub(crate) fn new(
        backend: Backend,
        id: i64,
        decision: AppealDecision,
        by: &str,
        reason: &str,
        at: i64,
    ) -> Result<Self> {
        refuse_nul([by, reason])?;
        Ok(DecisionPlan {
            backend,
            id,
            decision,
            by: by.to_owned(),
            reason: reason.to_owned(),
            at,
        })
    }

    /// The appeal and its warning, both locked until the transaction ends.
    pub(crate) fn target(&self) -> Stmt {
        let mut b = Builder::new(self.backend, &Scope::All);
        let id = b.int(self.id);
        b.finish(
            format!(
                "SELECT a.entity_type, a.entity_id, a.status, a.prior_status, w.institution_code, \
                 w.score, w.level, w.pattern, w.reasons, w.measure, w.version, w.first_warned_at, \
                 w.status, w.model_version FROM risk_appeals a JOIN risk_warnings w \
                 ON w.entity_type = a.entity_type AND w.entity_id = a.entity_id \
                 WHERE a.id = {id}{}",
                for_update(self.backend)
            ),
            &[T, T, T, T, T, I, T, T, T, T, I, I, T, T],
        )
    }

    /// The writes, or `None` when there is no such appeal or it was already decided. A
    /// lifted measure is a new version of the warning, status `lifted`, queued to the owner
    /// in the same transaction so the bank or carrier lifts what it did.
    pub(crate) fn writes(&self, target: Rows) -> Result<Option<Vec<Stmt>>> {
        let Some(row) = target.into_iter().next() else {
            return Ok(None);
        };
        let mut c = Cells::new(row, "risk_appeals row");
        let entity = WarnedEntity {
            kind: stored::<RiskEntity>(&c.text()?)?,
            id: c.text()?,
        };
        if stored::<AppealStatus>(&c.text()?)? != AppealStatus::Open {
            return Ok(None);
        }
        let prior = stored::<WarningStatus>(&c.text()?)?;
        let (inst, score, level, pattern, reasons) =
            (c.text()?, c.int()?, c.text()?, c.text()?, c.text()?);
        let (measure, version, first) = (c.text()?, c.int()?, c.int()?);
        let status = stored::<WarningStatus>(&c.text()?)?;
        let model = c.opt_text();
        let appeal = match self.decision {
            AppealDecision::Upheld => AppealStatus::Upheld,
            AppealDecision::Lifted => AppealStatus::Lifted,
        };
        let mut b = Builder::new(self.backend, &Scope::All);
        let vals = [
            b.text(appeal.as_str()),
            b.text(&self.by),
            b.text(&self.reason),
            b.int(self.at),
            b.int(self.id),
        ];
        let [st, by, reason, at, id] = vals;
        let mut out = vec![b.finish(
            format!(
                "UPDATE risk_appeals SET status = {st}, decided_by = {by}, decision_reason = {reason}, \
                 decided_at = {at} WHERE id = {id}"
            ),
            &[],
        )];
        // Only the appeal's own hold on the warning is undone; a warning no longer appealed
        // (never the case through this store) keeps what it is.
        if status != WarningStatus::Appealed {
            return Ok(Some(out));
        }
        let mut b = Builder::new(self.backend, &Scope::All);
        match self.decision {
            AppealDecision::Upheld => {
                let s = b.text(prior.as_str());
                let key = entity_where(&mut b, "", &entity);
                out.push(b.finish(
                    format!("UPDATE risk_warnings SET status = {s} WHERE {key}"),
                    &[],
                ));
            }
            AppealDecision::Lifted => {
                let next = version + 1;
                let sets = format!(
                    "status = {}, version = {}, updated_at = {}",
                    b.text(WarningStatus::Lifted.as_str()),
                    b.int(next),
                    b.int(self.at)
                );
                let key_where = entity_where(&mut b, "", &entity);
                out.push(b.finish(
                    format!("UPDATE risk_warnings SET {sets} WHERE {key_where}"),
                    &[],
                ));
                out.push(version_row(
                    self.backend,
                    &VersionRow {
                        entity: &entity,
                        version: next,
                        score,
                        level: &level,
                        pattern: &pattern,
                        reasons: &reasons,
                        status: WarningStatus::Lifted,
                        model_version: model.as_deref(),
                        at: self.at,
                    },
                ));
                let key = idempotency_key(&entity, first, next);
                let reasons: serde_json::Value = serde_json::from_str(&reasons)
                    .map_err(|e| bad(&format!("risk_warnings.reasons: {e}")))?;
                let payload = serde_json::json!({
                    "idempotency_key": key,
                    "entity_type": entity.kind,
                    "entity_id": entity.id,
                    "institution_code": inst,
                    "version": next,
                    "status": WarningStatus::Lifted.as_str(),
                    "score": score,
                    "level": level,
                    "pattern": pattern,
                    "reasons": reasons,
                    "measure": measure,
                    "lift_measure": true,
                    "first_warned_at": first,
                    "updated_at": self.at,
                })
                .to_string();
                out.push(enqueue(
                    self.backend,
                    &inst,
                    &entity,
                    next,
                    &key,
                    &payload,
                    self.at,
                ));
            }
        }
        Ok(Some(out))
    }
}

pub(crate) fn appeal_list(backend: Backend, entity: Option<&WarnedEntity>) -> Option<Stmt> {
    if entity.is_some_and(|e| unmatchable(&e.id)) {
        return None;
    }
    let mut b = Builder::new(backend, &Scope::All);
    let cond = match entity {
        Some(e) => entity_where(&mut b, "", e),
        None => "1 = 1".to_owned(),
    };
    Some(b.finish(
        format!("SELECT {APPEAL_COLS} FROM risk_appeals WHERE {cond} ORDER BY id"),
        APPEAL_TYPES,
    ))
}

pub(crate) fn appeals(rows: Rows) -> Result<Vec<Appeal>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "risk_appeals row");
            let id = c.int()?;
            Ok(Appeal {
                id,
                entity: WarnedEntity {
                    kind: stored::<RiskEntity>(&c.text()?)?,
                    id: c.text()?,
                },
                person_id: c.text()?,
                reason: c.text()?,
                filed_at: c.int()?,
                status: stored::<AppealStatus>(&c.text()?)?,
                decided_by: c.opt_text(),
                decision_reason: c.opt_text(),
                decided_at: c.opt_int(),
            })
        })
        .collect()
}

// ---- threshold decisions and models ----

pub(crate) fn decision_add(backend: Backend, d: &NewThresholdDecision) -> Result<Stmt> {
    refuse_nul([
        d.actor.as_str(),
        &d.pattern,
        &d.reason,
        d.evaluation.as_str(),
    ])?;
    let mut b = Builder::new(backend, &Scope::All);
    let old = match d.old_threshold {
        Some(t) => b.int(t),
        None => "CAST(NULL AS BIGINT)".to_owned(),
    };
    let vals = [
        b.int(d.at),
        b.text(&d.actor),
        b.text(&d.pattern),
        b.int(d.new_threshold),
        b.text(&d.reason),
        b.text(&d.evaluation),
        b.text(d.level.as_str()),
        b.int(d.effective_at),
    ];
    let [at, actor, pattern, new, reason, eval, level, effective] = vals;
    Ok(b.finish(
        format!(
            "INSERT INTO risk_decisions_log (at, actor, pattern, old_threshold, new_threshold, reason, \
             evaluation, level, effective_at) VALUES ({at}, {actor}, {pattern}, {old}, {new}, {reason}, \
             {eval}, {level}, {effective}) RETURNING id"
        ),
        &[I],
    ))
}

pub(crate) fn decision_list(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT id, at, actor, pattern, old_threshold, new_threshold, reason, evaluation, level, \
         effective_at FROM risk_decisions_log ORDER BY id"
            .to_owned(),
        &[I, I, T, T, I, I, T, T, T, I],
    )
}

pub(crate) fn decisions(rows: Rows) -> Result<Vec<ThresholdDecision>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "risk_decisions_log row");
            let (id, at, actor, pattern) = (c.int()?, c.int()?, c.text()?, c.text()?);
            let (old_threshold, new_threshold) = (c.opt_int(), c.int()?);
            let (reason, evaluation) = (c.text()?, c.text()?);
            let level = match c.opt_text() {
                Some(l) => stored::<WarningLevel>(&l)?,
                None => WarningLevel::Yellow,
            };
            Ok(ThresholdDecision {
                id,
                at,
                actor,
                pattern,
                level,
                effective_at: c.opt_int().unwrap_or(at),
                old_threshold,
                new_threshold,
                reason,
                evaluation,
            })
        })
        .collect()
}

pub(crate) fn model_list(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT version, created_at, card FROM risk_models ORDER BY created_at, version".to_owned(),
        &[T, I, T],
    )
}

pub(crate) fn model_cards(rows: Rows) -> Result<Vec<RiskModelCard>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "risk_models row");
            Ok(RiskModelCard {
                version: c.text()?,
                created_at: c.int()?,
                card: c.text()?,
            })
        })
        .collect()
}

// ---- governance: history, counts, the dead letters ----

pub(crate) fn warning_versions(backend: Backend, e: &WarnedEntity) -> Option<Stmt> {
    if unmatchable(&e.id) {
        return None;
    }
    let mut b = Builder::new(backend, &Scope::All);
    let key = entity_where(&mut b, "", e);
    Some(b.finish(
        format!(
            "SELECT version, score, level, pattern, reasons, status, model_version, at \
             FROM risk_warning_versions WHERE {key} ORDER BY version"
        ),
        &[I, I, T, T, T, T, T, I],
    ))
}

pub(crate) fn versions(rows: Rows) -> Result<Vec<WarningVersion>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "risk_warning_versions row");
            Ok(WarningVersion {
                version: c.int()?,
                score: Score::stored(c.int()?)?,
                level: stored::<WarningLevel>(&c.text()?)?,
                pattern: c.text()?,
                reasons: c.text()?,
                status: stored::<WarningStatus>(&c.text()?)?,
                model_version: c.opt_text(),
                at: c.int()?,
            })
        })
        .collect()
}

/// Warnings within `scope` per status.
pub(crate) fn warning_status_counts(backend: Backend, scope: &Scope) -> Stmt {
    let mut b = Builder::new(backend, scope);
    let inside = warning_in(&mut b, "w");
    b.finish(
        format!(
            "SELECT w.status, COUNT(*) FROM risk_warnings w WHERE {inside} GROUP BY w.status \
             ORDER BY w.status"
        ),
        &[T, I],
    )
}

pub(crate) fn outbox_state_counts(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT state, COUNT(*) FROM warning_outbox GROUP BY state ORDER BY state".to_owned(),
        &[T, I],
    )
}

pub(crate) fn word_counts<W: std::str::FromStr<Err = fanzha_core::vocab::VocabError>>(
    rows: Rows,
) -> Result<Vec<(W, u64)>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "count row");
            let w = stored::<W>(&c.text()?)?;
            Ok((w, u64::try_from(c.int()?).unwrap_or(0)))
        })
        .collect()
}

/// Puts every dead delivery back in the queue, due `now`, with its attempts reset: the same
/// row, so the same idempotency key and payload, and a receiver that did apply it once
/// (its answer lost) applies it no more.
pub(crate) fn outbox_resend_dead(backend: Backend, now: i64) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let now = b.int(now);
    b.finish(
        format!(
            "UPDATE warning_outbox SET state = 'pending', attempts = 0, next_attempt_at = {now}, \
             leased_until = NULL WHERE state = 'dead' RETURNING id"
        ),
        &[I],
    )
}

/// Each institution's current warnings, those whose current version it answered, and
/// their statuses.
pub(crate) fn institution_feedback(backend: Backend) -> Stmt {
    let b = Builder::new(backend, &Scope::All);
    let n = |cond: &str| format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)");
    let answered = n(
        "EXISTS (SELECT 1 FROM warning_feedback f WHERE f.entity_type = w.entity_type \
         AND f.entity_id = w.entity_id AND f.version = w.version \
         AND f.institution_code = w.institution_code)",
    );
    let ordered = b.bytewise("w.institution_code");
    b.finish(
        format!(
            "SELECT w.institution_code, COUNT(*), {answered}, {}, {}, {} FROM risk_warnings w \
             GROUP BY w.institution_code ORDER BY {ordered}",
            n("w.status = 'confirmed'"),
            n("w.status = 'false_alarm'"),
            n("w.status = 'action_taken'"),
        ),
        &[T, I, I, I, I, I],
    )
}

pub(crate) fn institution_feedback_rows(rows: Rows) -> Result<Vec<InstitutionFeedback>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "institution feedback row");
            let institution_code = c.text()?;
            let mut n = || c.int().map(|v| u64::try_from(v).unwrap_or(0));
            Ok(InstitutionFeedback {
                institution_code,
                warnings: n()?,
                answered: n()?,
                confirmed: n()?,
                false_alarm: n()?,
                action_taken: n()?,
            })
        })
        .collect()
}

/// Stored versions per model version and score decile. Versions that only withdrew or
/// lifted a warning repeat an earlier score and are left out.
pub(crate) fn score_bins(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT model_version, score / 10, COUNT(*) FROM risk_warning_versions \
         WHERE status NOT IN ('withdrawn', 'lifted') GROUP BY model_version, score / 10 \
         ORDER BY model_version, score / 10"
            .to_owned(),
        &[T, I, I],
    )
}

pub(crate) fn score_bin_rows(rows: Rows) -> Result<Vec<ScoreBin>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "score bin row");
            let model_version = c.opt_text();
            let bin = u8::try_from(c.int()?).map_err(|_| bad("score bin"))?;
            Ok(ScoreBin {
                model_version,
                bin,
                count: u64::try_from(c.int()?).unwrap_or(0),
            })
        })
        .collect()
}

/// Answers to `pattern`'s warning versions per stored score and verdict: how a cut-off
/// would have fared on what the institutions said. Versions stored before migration 9
/// other than a warning's then-current one have no stored score and are not counted.
pub(crate) fn answered_scores(backend: Backend, pattern: &str) -> Option<Stmt> {
    if unmatchable(pattern) {
        return None;
    }
    let mut b = Builder::new(backend, &Scope::All);
    let p = b.text(pattern);
    Some(b.finish(
        format!(
            "SELECT v.score, f.verdict, COUNT(*) FROM warning_feedback f \
             JOIN risk_warning_versions v ON v.entity_type = f.entity_type \
             AND v.entity_id = f.entity_id AND v.version = f.version \
             WHERE f.pattern = {p} GROUP BY v.score, f.verdict ORDER BY v.score, f.verdict"
        ),
        &[I, T, I],
    ))
}

pub(crate) fn scored_answers(rows: Rows) -> Result<Vec<ScoredAnswer>> {
    rows.into_iter()
        .map(|row| {
            let mut c = Cells::new(row, "scored answer row");
            Ok(ScoredAnswer {
                score: Score::stored(c.int()?)?.get(),
                verdict: stored::<Verdict>(&c.text()?)?,
                count: u64::try_from(c.int()?).unwrap_or(0),
            })
        })
        .collect()
}

/// Appeals in `status` (or all), oldest first.
pub(crate) fn appeals_by_status(backend: Backend, status: Option<AppealStatus>) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let cond = match status {
        Some(s) => format!("status = {}", b.text(s.as_str())),
        None => "1 = 1".to_owned(),
    };
    b.finish(
        format!("SELECT {APPEAL_COLS} FROM risk_appeals WHERE {cond} ORDER BY filed_at, id"),
        APPEAL_TYPES,
    )
}

pub(crate) fn appeal_get(backend: Backend, id: i64) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let id = b.int(id);
    b.finish(
        format!("SELECT {APPEAL_COLS} FROM risk_appeals WHERE id = {id}"),
        APPEAL_TYPES,
    )
}

/// Refuses a model whose texts PostgreSQL could not store.
pub(crate) fn check_model(version: &str, card: &str) -> Result<()> {
    refuse_nul([version, card])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_resume_on_a_row_value_in_code_point_order() {
        let after = ScanCursor {
            ts: 5,
            id: "b".into(),
        };
        let st = scan(Backend::Postgres, ScanKind::Calls, Some(&after), 100);
        assert!(
            st.sql.contains("(ts, call_id COLLATE \"C\") > ($1, $2)")
                && st
                    .sql
                    .ends_with("ORDER BY ts, call_id COLLATE \"C\" LIMIT 100"),
            "{}",
            st.sql
        );
        let st = scan(Backend::Sqlite, ScanKind::Sims, None, 10);
        assert!(
            st.sql.contains("WHERE activated_at IS NOT NULL"),
            "{}",
            st.sql
        );
        assert_eq!(
            st.cols.len(),
            ScanKind::Sims.kind().schema().columns.len() + 1
        );
    }

    #[test]
    fn idempotency_keys_differ_per_version_and_warning() {
        let e = WarnedEntity::new(RiskEntity::Account, "6222");
        let k1 = idempotency_key(&e, 10, 1);
        assert_eq!(k1, idempotency_key(&e, 10, 1));
        assert_ne!(k1, idempotency_key(&e, 10, 2));
        assert_ne!(k1, idempotency_key(&e, 11, 1));
        assert_ne!(
            k1,
            idempotency_key(&WarnedEntity::new(RiskEntity::Sim, "6222"), 10, 1)
        );
        assert!(k1.starts_with("fzw1-") && k1.len() == 5 + 32, "{k1}");
    }
}
