//! Fanzha's repository: one interface ([`Store`]), two real backends.
//!
//! SQLite ([`sqlite::SqliteStore`]) is the embedded default: one file in WAL mode.
//! PostgreSQL ([`postgres::PgStore`]) is the shared deployment, bulk-loaded with COPY.
//! Both run the same migrations ([`migrate`]) and the same integration suite.
//!
//! Only this crate speaks SQL. Callers hand it [`Batch`]es of parsed rows in the layout of
//! [`fanzha_core::schema`]; each batch is committed atomically, together with the quarantine
//! entries for the rows it rejects, so a killed ingest loses nothing it committed and a rerun
//! stores nothing twice.

pub mod backup;
pub mod baseline;
mod compare;
mod error;
mod migrate;
pub mod orders;
pub mod postgres;
mod reads;
pub mod risk;
pub mod sqlite;
pub mod testing;
mod view;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use fanzha_core::schema::{Kind, Row};
use fanzha_core::vocab::Role;

pub use error::StoreError;
pub use migrate::MIGRATIONS;
pub use orders::{Case, NewCase, NewOrder, NewRound, Order, OrderChange, OrderFilter, Round};
pub use risk::{
    Appeal, AppealDecision, AppealStatus, InstitutionFeedback, Measure, NewFeedback,
    NewThresholdDecision, NewWarning, OutboxItem, OutboxState, PrecisionBy, PrecisionRow,
    ReasonSource, RiskEntity, RiskModel, RiskModelCard, ScanCursor, ScanKind, Score, ScoreBin,
    ScoredAnswer, ThresholdDecision, UpsertOutcome, Verdict, WarnedEntity, Warning, WarningFilter,
    WarningLevel, WarningReason, WarningStatus, WarningVersion, AGE_GROUPS,
};
pub use view::{
    Attribute, AuditFilter, Dashboard, DayFigures, EntityKind, EntityRef, Event, Field,
    InsiderFlag, Link, NewUser, Profile, Scope, SearchHit,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where a record came from: the file, the line (1-based, the header is line 1) and the
/// original bytes, kept so a rejected record can be quarantined exactly as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    /// Shared by every record of a file: a path per record would be an allocation per row.
    pub file: Arc<str>,
    pub line: u64,
    #[serde(rename = "original_text", serialize_with = "lossy_text")]
    pub original: Vec<u8>,
}

fn lossy_text<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

/// A parsed record and where it came from.
#[derive(Debug, Clone)]
pub struct Item {
    pub row: Row,
    pub origin: Origin,
}

/// A record that could not be parsed, or that conflicts with a stored one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub origin: Origin,
    pub kind: String,
    /// The offending field, when one field is to blame.
    pub field: Option<String>,
    pub reason: String,
}

/// Records of one kind to be committed together, with the rejections found while parsing
/// them.
#[derive(Debug, Clone)]
pub struct Batch {
    pub kind: Kind,
    pub items: Vec<Item>,
    pub rejections: Vec<Rejection>,
}

impl Batch {
    pub fn new(kind: Kind) -> Self {
        Batch {
            kind,
            items: Vec::new(),
            rejections: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.rejections.is_empty()
    }
}

/// What committing a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchOutcome {
    /// New records.
    pub inserted: u64,
    /// Known records whose mutable fields (status, class, deactivation) changed.
    pub updated: u64,
    /// Known records given again exactly: a re-ingest.
    pub unchanged: u64,
    /// Records rejected while parsing or as conflicts, now in the quarantine.
    pub rejected: u64,
    /// The conflicts among `rejected`, with their reasons.
    pub conflicts: Vec<Rejection>,
}

impl BatchOutcome {
    pub fn absorb(&mut self, other: BatchOutcome) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.conflicts.extend(other.conflicts);
    }
}

/// A quarantined record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub id: i64,
    pub file: String,
    pub line: u64,
    pub kind: String,
    pub field: Option<String>,
    pub reason: String,
    pub original: Vec<u8>,
    /// UTC microseconds since the epoch.
    pub quarantined_at: i64,
}

/// One entry of the append-only, hash-chained audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC microseconds since the epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    /// JSON.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The newest entry of the audit trail as recorded beside it (`audit_head`), moved in the same
/// transaction as each append. Comparing it with the trail's last entry catches the deletion
/// of the newest entries, which the hash chain alone cannot see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditHead {
    pub last_id: i64,
    pub hash: String,
}

/// Where and how an audit trail fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditBreak {
    /// Entry `id` does not chain: it was altered, or the entry before it was altered or
    /// deleted.
    #[error("entry #{id} does not chain to the one before it: altered, or its predecessor altered or deleted")]
    Link { id: i64 },
    /// The head records entry `head_id`, but the trail ends at `last_id` (or is empty): the
    /// newest entries were deleted.
    #[error("the head records entry #{head_id} but the trail ends at {}: the newest entries were deleted", last_id.map_or("no entry".to_owned(), |i| format!("#{i}")))]
    Truncated { head_id: i64, last_id: Option<i64> },
    /// The last entry chains, but the head records another hash for it: it was rewritten.
    #[error("entry #{id} differs from the head recorded for it: rewritten")]
    HeadMismatch { id: i64 },
    /// Entries from `id` on lie past the recorded head, or there is no head: written around
    /// the store, or the head was deleted.
    #[error("entries from #{id} on are not anchored by the head: written around the store, or the head was deleted")]
    Unanchored { id: i64 },
}

impl AuditBreak {
    /// The entry where the trail first fails: the one that does not chain, or the one the
    /// head names that is gone, or the first one past the head.
    pub fn id(&self) -> i64 {
        match *self {
            AuditBreak::Link { id }
            | AuditBreak::HeadMismatch { id }
            | AuditBreak::Unanchored { id } => id,
            AuditBreak::Truncated { head_id, .. } => head_id,
        }
    }
}

/// An audit entry to append: who did what, and the detail as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// The stored core of a transfer, for matching one transfer seen in two banks' statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferCore {
    pub tx_id: String,
    pub ts: i64,
    pub from_account: Option<String>,
    pub to_account: Option<String>,
    pub amount_fen: i64,
    /// The stored extras (JSON), which for a statement row say whose statement it came from.
    pub extra: Option<String>,
}

/// A victim's report with the payments it names (fund tracing follows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPayments {
    pub report_id: String,
    pub ts: i64,
    pub victim_id: String,
    pub loss_fen: i64,
    pub typology: String,
    /// Each payment's transaction id, with its time when the transaction is stored.
    pub payments: Vec<(String, Option<i64>)>,
}

/// Another authority's measure on an account (`external_freezes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalFreeze {
    pub account_id: String,
    pub authority: String,
    /// stop, freeze, renew, queued or release.
    pub measure: String,
    pub amount_fen: Option<i64>,
    pub registered_at: i64,
    pub expires_at: Option<i64>,
    pub document_no: Option<String>,
}

/// A stored person as the store holds it, unmasked: masking is the caller's duty at the edge
/// where someone other than the database's operator will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub person_id: String,
    pub id_kind: Option<String>,
    pub name: Option<String>,
    pub community_code: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub tags: Option<String>,
    /// YYYY-MM-DD, derived from the id where it carries one.
    pub birth_date: Option<String>,
}

/// A bank account or SIM an identity holds, as the account-opening check counts them
/// (issue 5, section 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// `account` or `sim`.
    pub kind: &'static str,
    /// The account number or MSISDN.
    pub id: String,
    /// The bank's or carrier's code.
    pub institution_code: String,
    /// An account's class (`I`, `II`, `III`, `corporate`, `payment`), when recorded.
    pub class: Option<String>,
    /// Whether it still counts: an account not `closed`, a SIM not deactivated.
    pub active: bool,
    /// Opening or activation time (UTC microseconds).
    pub since: i64,
}

/// A user who logs in to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    /// An argon2 hash in PHC string form; never the password.
    pub password_hash: String,
    pub role: Role,
    /// Set when the account is disabled: it can no longer log in or use its sessions.
    pub disabled_at: Option<i64>,
    /// The bank or carrier a bank or carrier operator works for.
    pub institution_code: Option<String>,
    /// The jurisdiction a station or community user works in.
    pub jurisdiction_code: Option<String>,
    pub created_at: i64,
}

/// An institution's API key as stored (never the key itself, which only its holder has).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKeyRow {
    pub id: i64,
    /// The bank or carrier the key acts for (an `institutions` code).
    pub institution_code: String,
    #[serde(serialize_with = "role_text")]
    pub role: Role,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn role_text<S: serde::Serializer>(r: &Role, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(r.as_str())
}

/// A stored role that is not one of [`Role`]'s words: the table was written by something
/// other than this store.
pub(crate) fn parse_role(s: &str) -> Result<Role> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("users.role: {e}")))
}

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The repository interface every backend implements.
#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;

    /// A round trip to the database, for health checks: cheap at any data size.
    async fn ping(&self) -> Result<()>;

    /// Applies any migrations not yet applied, and builds any read index a killed bulk load
    /// left missing; returns the versions it applied.
    async fn migrate(&self) -> Result<Vec<u32>>;

    /// Commits a batch atomically: new records inserted, allowed changes applied, exact
    /// repeats skipped, conflicts and parse rejections quarantined.
    async fn write_batch(&self, batch: Batch) -> Result<BatchOutcome>;

    /// Before loading a whole file of `kind`: when its table is still empty, drops the
    /// indexes only the server's reads use (migration 5) so that a first bulk load does not
    /// maintain them row by row, which costs several times the load itself; `true` when it
    /// did. [`Store::build_read_indexes`] builds them at the end; reads stay correct in
    /// between, only slower. A table that already holds rows keeps its indexes: rebuilding
    /// them for a daily delta would cost more than maintaining them.
    async fn defer_read_indexes(&self, kind: Kind) -> Result<bool>;

    /// Builds whichever read indexes of `kind` are missing: after a bulk load, or after one
    /// that was killed before it could (opening a store does it too). Cheap when none is.
    async fn build_read_indexes(&self, kind: Kind) -> Result<()>;

    /// Row counts of every kind, plus `quarantine`.
    async fn counts(&self) -> Result<BTreeMap<String, u64>>;

    async fn quarantine_list(&self) -> Result<Vec<QuarantineEntry>>;

    async fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>>;

    /// The person with this id, if stored and within `scope`.
    async fn person(&self, scope: &Scope, person_id: &str) -> Result<Option<PersonRow>>;

    /// Adds a user; `None` when the username is taken.
    async fn user_add(&self, user: &NewUser<'_>) -> Result<Option<i64>>;

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>>;

    /// Every user, disabled ones included, by name.
    async fn user_list(&self) -> Result<Vec<UserRow>>;

    /// Disables a user (ending their sessions) or enables them again; `false` when there is
    /// no such user.
    async fn user_set_disabled(&self, username: &str, disabled: bool) -> Result<bool>;

    /// Gives an existing user (by `user.username`) this password hash, role, institution and
    /// jurisdiction, enables them, and ends all their sessions; `false` when there is no
    /// such user.
    async fn user_reset(&self, user: &NewUser<'_>) -> Result<bool>;

    /// Stores a new API key by its hash; returns its id.
    async fn api_key_add(
        &self,
        key_hash: &str,
        institution_code: &str,
        role: Role,
        label: &str,
    ) -> Result<i64>;

    /// The key with this hash, unless it is revoked.
    async fn api_key_active(&self, key_hash: &str) -> Result<Option<ApiKeyRow>>;

    /// Every key, revoked ones included, oldest first.
    async fn api_key_list(&self) -> Result<Vec<ApiKeyRow>>;

    /// Revokes a key; `false` when there is no such key or it was already revoked.
    async fn api_key_revoke(&self, id: i64) -> Result<bool>;

    /// Records a session, identified by the SHA-256 of its token (hex), until `expires_at`.
    async fn session_add(&self, token_hash: &str, user_id: i64, expires_at: i64) -> Result<()>;

    /// The user of a session that has not expired by `now`, unless the user is disabled.
    async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<UserRow>>;

    /// Ends a session (logout); ending an unknown one is not an error.
    async fn session_remove(&self, token_hash: &str) -> Result<()>;

    /// Stored transfers with these ids.
    async fn transfers_by_id(&self, ids: &[String]) -> Result<Vec<TransferCore>>;

    /// Stored transfers from `from` to `to` of exactly `amount_fen`, with `ts` in `[lo, hi]`.
    async fn transfers_matching(
        &self,
        from: &str,
        to: &str,
        amount_fen: i64,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<TransferCore>>;

    // ---- Fund tracing (issue 6). ----

    /// One report (or every report) in scope with its payments, in report-id order; an
    /// unknown or out-of-scope report is simply absent.
    async fn report_payments(
        &self,
        scope: &Scope,
        report_id: Option<&str>,
    ) -> Result<Vec<ReportPayments>>;

    /// Every opening balance: (account, as_of, balance_fen).
    async fn opening_balances(&self) -> Result<Vec<(String, i64, i64)>>;

    /// Other authorities' measures on one account (or all), in registration order.
    async fn external_freezes(&self, account: Option<&str>) -> Result<Vec<ExternalFreeze>>;

    /// Files a case; `false` when a case with that id is already filed (nothing changes).
    async fn case_file(&self, case: &NewCase) -> Result<bool>;

    async fn case_get(&self, case_id: &str) -> Result<Option<Case>>;

    /// Stores a draft order; its id.
    async fn order_add(&self, order: &NewOrder) -> Result<i64>;

    /// The orders the filter matches on accounts within `scope` (a bank: its own accounts;
    /// a station: accounts whose holder lives in its jurisdiction), oldest first.
    async fn orders(&self, scope: &Scope, filter: &OrderFilter) -> Result<Vec<Order>>;

    /// Every case filed here, newest first.
    async fn cases(&self) -> Result<Vec<Case>>;

    /// Opens a return round; its id, or `None` when the account already has that round.
    async fn round_open(&self, round: &NewRound) -> Result<Option<i64>>;

    /// Return rounds, on one account or all, oldest first.
    async fn rounds(&self, account: Option<&str>) -> Result<Vec<Round>>;

    /// Records a round's decision if it is still `noticed`; `false` when it is not.
    async fn round_decide(&self, id: i64, by: &str, at: i64, decision_no: &str) -> Result<bool>;

    /// Moves an order that is still in status `from`; `false` when it is not (someone else
    /// moved it first, or it does not exist), and nothing changes.
    async fn order_change(&self, id: i64, from: &str, change: &OrderChange) -> Result<bool>;

    /// The accounts a report's money can reach in at most `depth` transactions, each
    /// later than the one before, up to `as_of`, by a recursive query: the reference the
    /// tracing engine's reach is tested and measured against.
    async fn reach_by_query(&self, report_id: &str, as_of: i64, depth: u32) -> Result<Vec<String>>;

    /// Appends to the audit trail, chaining the new entry's hash to the recorded head.
    async fn audit_append(&self, actor: &str, action: &str, detail: &str) -> Result<AuditEntry> {
        let entry = NewAuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail: detail.to_owned(),
        };
        self.audit_append_many(vec![entry])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an audit append returned no entry".into()))
    }

    /// Appends several entries in one transaction, in order, each chained to the one before
    /// (the first to the recorded head), and moves the head: all are committed or none. One commit for many entries is what lets a busy server
    /// audit every look-up without queueing on the database's single writer.
    async fn audit_append_many(&self, entries: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>>;

    async fn audit_list(&self) -> Result<Vec<AuditEntry>>;

    /// The recorded head of the audit chain; `None` before the first entry.
    async fn audit_head(&self) -> Result<Option<AuditHead>>;

    // ---- The server's reads. Every one is narrowed by a `Scope` inside the SQL. ----

    /// The entity's profile within `scope` (its attributes, up to `limit` links and up to
    /// `limit` history events, newest first); `None` when it is not stored or not in scope.
    ///
    /// Links start with holdings (`holds_account`, `holds_sim`, `held_by`), then the
    /// heaviest edges. Under [`Scope::All`] an account or number known only from transfers,
    /// calls or messages (another bank's, another city's) has a profile with no attributes;
    /// a device is known from log-ins, transfers and calls. Under a narrower scope a device
    /// shows only its uses by in-scope accounts and SIMs, a SIM only the traffic of its
    /// in-scope holdings, and a person at an institution only that institution's holdings
    /// (and no police reports). Times in attributes are shown in Beijing time.
    async fn profile(
        &self,
        scope: &Scope,
        entity: &EntityRef,
        limit: u32,
    ) -> Result<Option<Profile>>;

    /// Entities within `scope` matching `query` (trimmed): an exact person id, account
    /// number, MSISDN or device id, or a name prefix; at most `limit`, exact hits first.
    /// A query over 64 characters matches nothing.
    async fn search(&self, scope: &Scope, query: &str, limit: u32) -> Result<Vec<SearchHit>>;

    /// Every bank account and SIM held by `person_id`, across all institutions (no scope:
    /// the cross-institution count the law asks for, Arts. 10 and 16), accounts first.
    async fn holdings(&self, person_id: &str) -> Result<Vec<Holding>>;

    /// Reports, cases and losses per Shanghai day with `from <= ts < to` (UTC micros),
    /// within `scope` (a report belongs to its `community_code`, else its victim's; at an
    /// institution, to its victim when a customer there; a case to the scope of any of its
    /// reports). A window of more than [`DASHBOARD_MAX_DAYS`] days keeps its last ones.
    async fn dashboard(&self, scope: &Scope, from: i64, to: i64) -> Result<Dashboard>;

    /// The latest instant in the data (reports, transactions, calls): where a dashboard over
    /// simulated or historic data ends. `None` on an empty store.
    async fn data_end(&self) -> Result<Option<i64>>;

    /// Audit entries matching `filter`, newest first, `limit` of them after skipping
    /// `offset`; and how many match in all.
    async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<AuditEntry>, u64)>;

    /// Raises a flag unless one for the same user, day and rule exists; its id if new.
    async fn flag_add(
        &self,
        username: &str,
        day: &str,
        rule: &str,
        detail: &str,
    ) -> Result<Option<i64>>;

    /// Every flag, newest first.
    async fn flag_list(&self) -> Result<Vec<InsiderFlag>>;

    /// Marks a flag reviewed by an auditor (the first review stands); `false` when there is
    /// no such flag.
    async fn flag_review(&self, id: i64, auditor: &str) -> Result<bool>;

    // ---- Two-card risk (issue 5): see [`risk`]. ----

    /// Up to `limit` rows of one event table in event-time order (time, then id by code
    /// point), after `after`: the risk engine's batch run pages through a table by passing
    /// the [`ScanKind::cursor_of`] its last row. Rows are in the kind's [`Row`] layout.
    /// Each page is one range of the table's scan index (migration 7); rows stored after a
    /// scan passed their place are not seen by it.
    async fn scan_events(
        &self,
        kind: ScanKind,
        after: Option<&ScanCursor>,
        limit: u32,
    ) -> Result<Vec<Row>>;

    /// Stores the entity's warning. New evidence (score, level, pattern or reasons differ, or
    /// no warning yet) makes a new version: its rule hits and its delivery to the owning
    /// institution are written in the same transaction, and the warning reopens unless an
    /// appeal is pending. The same evidence again only refreshes the owner, measure and
    /// model and rules versions.
    async fn warning_upsert(&self, warning: &NewWarning) -> Result<UpsertOutcome>;

    /// Withdraws the entity's warning if it is open and its evidence no longer reaches a
    /// level (`at`: when that was found, event time in a batch run): a new version with
    /// status `withdrawn`, queued for the owner in the same transaction. `None` when there
    /// is no open warning (answered or appealed ones keep their status).
    async fn warning_withdraw(
        &self,
        entity: &WarnedEntity,
        at: i64,
    ) -> Result<Option<UpsertOutcome>>;

    /// The entity's warning, if within `scope`. An institution sees the warnings it owns; a
    /// jurisdiction those whose entity's holder lives in it (a number seen only in traffic
    /// has no holder, so it is in no jurisdiction).
    async fn warning_get(&self, scope: &Scope, entity: &WarnedEntity) -> Result<Option<Warning>>;

    /// Warnings within `scope` matching `filter`, newest evidence first, `limit` of them
    /// after skipping `offset`.
    async fn warning_list(
        &self,
        scope: &Scope,
        filter: &WarningFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Warning>>;

    /// Leases up to `limit` pending deliveries due at `now` (oldest due first) until
    /// `now + lease` micros: no other claim returns them meanwhile, and a worker that dies
    /// leaves them to be claimed again once the lease runs out.
    async fn outbox_claim_due(&self, now: i64, limit: u32, lease: i64) -> Result<Vec<OutboxItem>>;

    /// Marks a pending delivery delivered; `false` when it is not pending.
    async fn outbox_delivered(&self, id: i64, at: i64) -> Result<bool>;

    /// Records a failed attempt: the delivery is retried at `retry_at` (the caller's
    /// backoff), or is dead once `max_attempts` attempts have failed. Its new state; `None`
    /// when it is not pending.
    async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: i64,
        max_attempts: u32,
    ) -> Result<Option<OutboxState>>;

    /// Deliveries in `state` (or all), oldest first, at most `limit`.
    async fn outbox_list(&self, state: Option<OutboxState>, limit: u32) -> Result<Vec<OutboxItem>>;

    /// Records an institution's answer to a version of a warning (a second answer from the
    /// same institution replaces the first); an answer to the current version sets the
    /// warning's status, unless an appeal is pending or has lifted it. `false` when there is
    /// no such warning version.
    async fn feedback_record(&self, feedback: &NewFeedback) -> Result<bool>;

    /// Answers counted per pattern, institution or rule code, ordered by key.
    async fn precision(&self, by: PrecisionBy) -> Result<Vec<PrecisionRow>>;

    /// Files an appeal against the entity's warning, which becomes `appealed`; the appeal's
    /// id, or `None` when there is no warning or an appeal against it is pending.
    async fn appeal_file(
        &self,
        entity: &WarnedEntity,
        person_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<Option<i64>>;

    /// Decides an open appeal: lifted clears the warning (`lifted`) at once, upheld returns
    /// it to its status before the appeal. `false` when there is no such open appeal.
    async fn appeal_decide(
        &self,
        id: i64,
        decision: AppealDecision,
        decided_by: &str,
        reason: &str,
        at: i64,
    ) -> Result<bool>;

    /// Appeals against one entity's warning, or all, oldest first.
    async fn appeal_list(&self, entity: Option<&WarnedEntity>) -> Result<Vec<Appeal>>;

    /// Records a threshold change; its id.
    async fn threshold_decision_add(&self, decision: &NewThresholdDecision) -> Result<i64>;

    /// Every threshold change, oldest first.
    async fn threshold_decisions(&self) -> Result<Vec<ThresholdDecision>>;

    /// Stores a model; `false` when its version is already stored (versions are immutable).
    async fn model_put(&self, model: &RiskModel) -> Result<bool>;

    async fn model_get(&self, version: &str) -> Result<Option<RiskModel>>;

    /// Every stored model's version and card, oldest first.
    async fn model_list(&self) -> Result<Vec<RiskModelCard>>;

    // ---- Governance of two-card risk (issue 5, sections 4 and 5). ----

    /// Every stored version of the entity's warning, oldest first (the warning's timeline;
    /// migration 9 kept the current version of warnings stored before it).
    async fn warning_versions(&self, entity: &WarnedEntity) -> Result<Vec<WarningVersion>>;

    /// Warnings within `scope` per status, in word order; statuses with none are absent.
    async fn warning_status_counts(&self, scope: &Scope) -> Result<Vec<(WarningStatus, u64)>>;

    /// Deliveries per state; states with none are absent.
    async fn outbox_state_counts(&self) -> Result<Vec<(OutboxState, u64)>>;

    /// Re-queues every dead delivery, due at `now`, attempts reset, with its idempotency key
    /// and payload unchanged; how many.
    async fn outbox_resend_dead(&self, now: i64) -> Result<u64>;

    /// Per institution: its current warnings, those it answered, and their statuses.
    async fn institution_feedback(&self) -> Result<Vec<InstitutionFeedback>>;

    /// Stored warning versions (not withdrawals or lifts) per model version and score decile.
    async fn score_bins(&self) -> Result<Vec<ScoreBin>>;

    /// Appeals in `status` (or all), oldest filed first.
    async fn appeals_by_status(&self, status: Option<AppealStatus>) -> Result<Vec<Appeal>>;

    async fn appeal_get(&self, id: i64) -> Result<Option<Appeal>>;

    /// Answers to `pattern`'s warning versions per stored score and verdict, by score: the
    /// evaluation of a cut-off on the institutions' word.
    async fn answered_scores(&self, pattern: &str) -> Result<Vec<ScoredAnswer>>;
}

/// The longest dashboard window, in days (ten years): a longer one keeps its last days, so a
/// careless request cannot make the store build millions of empty days.
pub const DASHBOARD_MAX_DAYS: u32 = 3_660;

/// Opens a store: a `postgres://` or `postgresql://` URL selects PostgreSQL, anything else
/// is a SQLite file path. A `schema=NAME` parameter in the URL keeps Fanzha's tables in that
/// schema (created if missing). Migrations are applied on open, so a new store is ready.
pub async fn open(target: &str) -> Result<Arc<dyn Store>> {
    let store = open_unmigrated(target).await?;
    store.migrate().await?;
    Ok(store)
}

/// A store target fit to print or log: a URL's password is replaced by `***`.
pub fn redact_target(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &target[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &target[..scheme_end + 3], &target[at..])
                }
                None => target.to_owned(),
            }
        }
        _ => target.to_owned(),
    }
}

/// Opens a store without applying migrations (for `db migrate`, which reports what it applies).
pub async fn open_unmigrated(target: &str) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            match split_schema(target) {
                (url, Some(schema)) => {
                    Arc::new(postgres::PgStore::connect_in_schema(&url, &schema).await?)
                }
                (url, None) => Arc::new(postgres::PgStore::connect(&url).await?),
            }
        } else {
            Arc::new(sqlite::SqliteStore::open(target)?)
        };
    Ok(store)
}

/// Takes a `schema=` parameter out of a URL's query.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("schema=") {
            Some(s) => {
                schema = Some(s.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, schema)
}

/// Verifies the audit chain: every entry's hash covers its content and the previous hash.
/// Returns the id of the first entry that does not verify.
pub fn verify_audit_chain(entries: &[AuditEntry]) -> Option<i64> {
    let mut prev = compare::AUDIT_GENESIS.to_owned();
    for e in entries {
        if e.prev_hash != prev
            || e.hash != compare::audit_hash(&prev, e.at, &e.actor, &e.action, &e.detail)
        {
            return Some(e.id);
        }
        prev = e.hash.clone();
    }
    None
}

/// Verifies a whole audit trail: the hash chain, and that its last entry is the recorded
/// head (so deleting the newest entries is caught too). `head` must be read before
/// `entries` (see [`audit_trail`]): an entry appended in between then lies past the head
/// and is not held against the trail.
pub fn verify_audit_trail(
    head: Option<&AuditHead>,
    entries: &[AuditEntry],
) -> std::result::Result<(), AuditBreak> {
    if let Some(id) = verify_audit_chain(entries) {
        return Err(AuditBreak::Link { id });
    }
    let Some(head) = head else {
        return match entries.first() {
            Some(e) => Err(AuditBreak::Unanchored { id: e.id }),
            None => Ok(()),
        };
    };
    match entries.iter().position(|e| e.id == head.last_id) {
        Some(i) if entries[i].hash != head.hash => {
            Err(AuditBreak::HeadMismatch { id: head.last_id })
        }
        Some(_) => Ok(()),
        None => match entries.last() {
            Some(last) if last.id > head.last_id => Err(AuditBreak::Unanchored {
                id: entries
                    .iter()
                    .find(|e| e.id > head.last_id)
                    .map_or(last.id, |e| e.id),
            }),
            last => Err(AuditBreak::Truncated {
                head_id: head.last_id,
                last_id: last.map(|e| e.id),
            }),
        },
    }
}

/// The head, then the entries, of the audit trail: in that order, so a concurrent append
/// adds entries past the head rather than moving the head past the entries read.
pub async fn audit_trail(store: &dyn Store) -> Result<(Option<AuditHead>, Vec<AuditEntry>)> {
    let head = store.audit_head().await?;
    let entries = store.audit_list().await?;
    if head.is_none() && !entries.is_empty() {
        // Either the head was deleted or the first entries were appended between the two
        // reads; read again, in the same order, to tell which.
        if let Some(head) = store.audit_head().await? {
            let entries = store.audit_list().await?;
            return Ok((Some(head), entries));
        }
    }
    Ok((head, entries))
}

pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Row counts keyed by kind name, with every kind present.
pub(crate) fn empty_counts() -> BTreeMap<String, u64> {
    Kind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{verify_audit_trail, AuditBreak, AuditEntry, AuditHead};

    /// A chained trail of `n` entries with ids 1..=n, and its head.
    fn trail(n: i64) -> (AuditHead, Vec<AuditEntry>) {
        let mut prev = super::compare::AUDIT_GENESIS.to_owned();
        let mut out = Vec::new();
        for id in 1..=n {
            let detail = format!("{{\"n\":{id}}}");
            let hash = super::compare::audit_hash(&prev, id * 10, "cli:root", "cli.x", &detail);
            out.push(AuditEntry {
                id,
                at: id * 10,
                actor: "cli:root".into(),
                action: "cli.x".into(),
                detail,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        let head = AuditHead {
            last_id: n,
            hash: prev,
        };
        (head, out)
    }

    #[test]
    fn an_intact_trail_verifies_and_an_empty_one_too() {
        let (head, entries) = trail(4);
        assert_eq!(verify_audit_trail(Some(&head), &entries), Ok(()));
        assert_eq!(verify_audit_trail(None, &[]), Ok(()));
    }

    #[test]
    fn deleting_the_newest_entries_is_caught() {
        let (head, mut entries) = trail(4);
        entries.pop();
        assert_eq!(
            verify_audit_trail(Some(&head), &entries),
            Err(AuditBreak::Truncated {
                head_id: 4,
                last_id: Some(3)
            })
        );
        assert_eq!(
            verify_audit_trail(Some(&head), &[]),
            Err(AuditBreak::Truncated {
                head_id: 4,
                last_id: None
            })
        );
    }

    #[test]
    fn deleting_or_altering_a_middle_entry_names_the_first_broken_link() {
        let (head, mut entries) = trail(4);
        entries.remove(1);
        assert_eq!(
            verify_audit_trail(Some(&head), &entries),
            Err(AuditBreak::Link { id: 3 })
        );
        let (head, mut entries) = trail(4);
        entries[2].actor = "cli:someone".into();
        assert_eq!(
            verify_audit_trail(Some(&head), &entries),
            Err(AuditBreak::Link { id: 3 })
        );
    }

    #[test]
    fn a_rewritten_last_entry_or_a_missing_head_is_caught() {
        let (mut head, entries) = trail(3);
        head.hash = "0".repeat(64);
        assert_eq!(
            verify_audit_trail(Some(&head), &entries),
            Err(AuditBreak::HeadMismatch { id: 3 })
        );
        let (_, entries) = trail(3);
        assert_eq!(
            verify_audit_trail(None, &entries),
            Err(AuditBreak::Unanchored { id: 1 })
        );
    }

    #[test]
    fn entries_appended_after_the_head_was_read_are_fine() {
        let (_, entries) = trail(5);
        let (head, _) = trail(3);
        assert_eq!(verify_audit_trail(Some(&head), &entries), Ok(()));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_target("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            super::redact_target("postgres://u@h/db"),
            "postgres://u@h/db"
        );
        assert_eq!(super::redact_target("./fanzha.db"), "./fanzha.db");
    }

    #[test]
    fn schema_is_taken_out_of_the_url() {
        assert_eq!(
            super::split_schema("postgres://h/db?schema=a1"),
            ("postgres://h/db".into(), Some("a1".into()))
        );
        assert_eq!(
            super::split_schema("postgres://h/db?sslmode=disable&schema=a1"),
            ("postgres://h/db?sslmode=disable".into(), Some("a1".into()))
        );
        assert_eq!(
            super::split_schema("postgres://h/db"),
            ("postgres://h/db".into(), None)
        );
    }
}
