//! The server's reads — profiles, search, dashboard, audit pages, insider flags — written
//! once, in the SQL both dialects share, with the caller's [`Scope`] spelled into every
//! statement.
//!
//! A backend only executes [`Stmt`]s and hands back rows of [`Cell`]s; what a scope admits,
//! which rows make a profile and how they are ordered is decided here, so the two backends
//! cannot drift apart. Every value that comes from a caller is a bound parameter: the SQL
//! text depends only on the shape of the request (kind, scope variant, which filters are set).
//!
//! Scope rules (see [`Scope`]):
//! - a person is in a jurisdiction when its `community_code` is the jurisdiction or below it
//!   (a recursive walk down `jurisdictions.parent_code`), in an institution when it holds an
//!   account or SIM there;
//! - an account or a SIM holding is in scope with its holder, or by its bank or carrier;
//! - a SIM's calls, messages and log-ins count for a scope only while an in-scope holding was
//!   active: a recycled or ported number does not show its other holders' traffic;
//! - a device is in scope when an in-scope account or SIM used it, and its profile shows only
//!   those uses.
//!
//! Links and history may name out-of-scope entities (a transfer's counterpart is part of the
//! in-scope account's own history); their profiles are still refused.

pub(crate) mod risk;
pub(crate) mod trace;

use std::collections::HashSet;

use fanzha_core::phone::Msisdn;
use fanzha_core::schema::ColType;
use fanzha_core::time::Instant;

use crate::{
    Attribute, AuditEntry, AuditFilter, Backend, Dashboard, DayFigures, EntityKind, EntityRef,
    Event, Field, Holding, InsiderFlag, Link, PersonRow, Profile, Result, Scope, SearchHit,
    StoreError, DASHBOARD_MAX_DAYS,
};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

pub(crate) type Rows = Vec<Vec<Cell>>;

/// A statement ready to run: its SQL in the backend's dialect, its parameters, and the types
/// of its result columns (PostgreSQL's driver needs them to decode).
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
    pub cols: &'static [ColType],
}

use ColType::{Int as I, Text as T};

const LINK_COLS: &[ColType] = &[T, T, T, I, I, I];
const EVENT_COLS: &[ColType] = &[I, T, T, T, I, T, I, T];

/// Text no stored value can equal: PostgreSQL cannot store a NUL, so a parameter carrying one
/// is an error there. Refused up front in both backends, it simply matches nothing.
fn unmatchable(s: &str) -> bool {
    s.contains('\0')
}

/// Builds one statement: binds parameters and spells the scope's predicates.
///
/// Table aliases used inside the predicates' subqueries (`ai si hx ax sx dl dt dc pv jc`) are
/// never used by the statements around them, so a predicate always refers to the row it was
/// given.
struct Builder<'s> {
    backend: Backend,
    scope: &'s Scope,
    args: Vec<Arg>,
    /// The placeholder of the scope's code, once a predicate needed it.
    code: Option<String>,
    walks_jurisdictions: bool,
}

impl<'s> Builder<'s> {
    fn new(backend: Backend, scope: &'s Scope) -> Self {
        Builder {
            backend,
            scope,
            args: Vec::new(),
            code: None,
            walks_jurisdictions: false,
        }
    }

    fn placeholder(&self, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("?{n}"),
            Backend::Postgres => format!("${n}"),
        }
    }

    fn text(&mut self, s: &str) -> String {
        self.args.push(Arg::Text(s.to_owned()));
        self.placeholder(self.args.len())
    }

    fn int(&mut self, i: i64) -> String {
        self.args.push(Arg::Int(i));
        self.placeholder(self.args.len())
    }

    /// A row limit, written into the SQL as a literal: it comes from our code, never from
    /// input, and SQLite re-prepares a statement whose LIMIT is a bound parameter every time
    /// the parameter is bound (its planner reads the value), which cost a profile look-up
    /// most of its time.
    fn limit(&mut self, limit: u32) -> String {
        limit.to_string()
    }

    fn code(&mut self) -> String {
        if let Some(c) = &self.code {
            return c.clone();
        }
        let code = match self.scope {
            Scope::All => String::new(),
            Scope::Institution(c) | Scope::Jurisdiction(c) => c.clone(),
        };
        let ph = self.text(&code);
        self.code = Some(ph.clone());
        ph
    }

    /// The set of jurisdiction codes in scope, as an `IN` operand.
    fn jurisdictions(&mut self) -> &'static str {
        self.code();
        self.walks_jurisdictions = true;
        "(SELECT code FROM scope_j)"
    }

    fn is_all(&self) -> bool {
        matches!(self.scope, Scope::All)
    }

    fn is_institution(&self) -> bool {
        matches!(self.scope, Scope::Institution(_))
    }

    /// The person row `p` is in scope.
    fn person_in(&mut self, p: &str) -> String {
        match self.scope {
            Scope::All => "1 = 1".to_owned(),
            Scope::Jurisdiction(_) => format!("{p}.community_code IN {}", self.jurisdictions()),
            Scope::Institution(_) => {
                let c = self.code();
                format!(
                    "(EXISTS (SELECT 1 FROM accounts ai WHERE ai.holder_id = {p}.person_id AND ai.bank_code = {c}) \
                     OR EXISTS (SELECT 1 FROM sims si WHERE si.holder_id = {p}.person_id AND si.carrier = {c}))"
                )
            }
        }
    }

    /// The person with id `holder` lives in the scope's jurisdictions.
    fn holder_in_jurisdiction(&mut self, holder: &str) -> String {
        let j = self.jurisdictions();
        format!(
            "EXISTS (SELECT 1 FROM persons hx WHERE hx.person_id = {holder} AND hx.community_code IN {j})"
        )
    }

    /// The account row `a` is in scope.
    fn account_in(&mut self, a: &str) -> String {
        match self.scope {
            Scope::All => "1 = 1".to_owned(),
            Scope::Jurisdiction(_) => self.holder_in_jurisdiction(&format!("{a}.holder_id")),
            Scope::Institution(_) => format!("{a}.bank_code = {}", self.code()),
        }
    }

    /// The SIM holding row `s` is in scope.
    fn holding_in(&mut self, s: &str) -> String {
        match self.scope {
            Scope::All => "1 = 1".to_owned(),
            Scope::Jurisdiction(_) => self.holder_in_jurisdiction(&format!("{s}.holder_id")),
            Scope::Institution(_) => format!("{s}.carrier = {}", self.code()),
        }
    }

    /// The account numbered `expr` is a stored, in-scope account (anything under `All`).
    fn account_id_in(&mut self, expr: &str) -> String {
        if self.is_all() {
            return "1 = 1".to_owned();
        }
        let a = self.account_in("ax");
        format!("EXISTS (SELECT 1 FROM accounts ax WHERE ax.account_id = {expr} AND {a})")
    }

    /// The number `msisdn` was held in scope at instant `ts` (anything under `All`).
    fn sim_at_in(&mut self, msisdn: &str, ts: &str) -> String {
        if self.is_all() {
            return "1 = 1".to_owned();
        }
        let s = self.holding_in("sx");
        format!(
            "EXISTS (SELECT 1 FROM sims sx WHERE sx.msisdn = {msisdn} AND sx.activated_at <= {ts} \
             AND (sx.deactivated_at IS NULL OR {ts} < sx.deactivated_at) AND {s})"
        )
    }

    /// The device `d` was used by an in-scope account or SIM (under `All`: was used at all).
    fn device_in(&mut self, d: &str) -> String {
        let login_account = self.account_id_in("dl.subject");
        let login_sim = self.sim_at_in("dl.subject", "dl.ts");
        let payer = self.account_id_in("dt.from_account");
        let caller = self.sim_at_in("dc.caller_norm", "dc.ts");
        format!(
            "(EXISTS (SELECT 1 FROM logins dl WHERE dl.device_id = {d} AND ({login_account} OR {login_sim})) \
             OR EXISTS (SELECT 1 FROM transactions dt WHERE dt.device_id = {d} AND {payer}) \
             OR EXISTS (SELECT 1 FROM calls dc WHERE dc.imei = {d} AND {caller}))"
        )
    }

    /// The report row `r` is in scope: by its own community, else its victim's; for an
    /// institution, when its victim is one of the institution's customers.
    fn report_in(&mut self, r: &str) -> String {
        match self.scope {
            Scope::All => "1 = 1".to_owned(),
            Scope::Jurisdiction(_) => {
                let j = self.jurisdictions();
                format!(
                    "COALESCE({r}.community_code, (SELECT pv.community_code FROM persons pv \
                     WHERE pv.person_id = {r}.victim_id)) IN {j}"
                )
            }
            Scope::Institution(_) => {
                let p = self.person_in("pv");
                format!(
                    "EXISTS (SELECT 1 FROM persons pv WHERE pv.person_id = {r}.victim_id AND {p})"
                )
            }
        }
    }

    /// A text comparison in code-point order, whatever PostgreSQL's default collation.
    fn bytewise(&self, expr: &str) -> String {
        format!("{expr}{}", crate::migrate::collate_c(self.backend))
    }

    fn finish(self, body: String, cols: &'static [ColType]) -> Stmt {
        let sql = match (&self.code, self.walks_jurisdictions) {
            (Some(code), true) => format!(
                "WITH RECURSIVE scope_j(code) AS (SELECT CAST({code} AS TEXT) \
                 UNION SELECT jc.code FROM jurisdictions jc JOIN scope_j ON jc.parent_code = scope_j.code) {body}"
            ),
            _ => body,
        };
        Stmt {
            sql,
            args: self.args,
            cols,
        }
    }
}

// ---- person ----

pub(crate) fn person(backend: Backend, scope: &Scope, person_id: &str) -> Option<Stmt> {
    if unmatchable(person_id) {
        return None;
    }
    let mut b = Builder::new(backend, scope);
    let id = b.text(person_id);
    let pin = b.person_in("p");
    Some(b.finish(
        format!(
            "SELECT {} FROM persons p WHERE p.person_id = {id} AND {pin}",
            crate::migrate::PERSON_COLS
        ),
        &[T, T, T, T, T, T, T, T],
    ))
}

pub(crate) fn person_row(rows: Rows) -> Option<PersonRow> {
    let mut c = rows.into_iter().next()?.into_iter().map(Cell::into_text);
    let mut next = || c.next().flatten();
    Some(PersonRow {
        person_id: next()?,
        id_kind: next(),
        name: next(),
        community_code: next(),
        phone: next(),
        address: next(),
        tags: next(),
        birth_date: next(),
    })
}

// ---- holdings (account-opening checks) ----

pub(crate) fn holdings(backend: Backend, person_id: &str) -> Option<Stmt> {
    if unmatchable(person_id) {
        return None;
    }
    let mut b = Builder::new(backend, &Scope::All);
    let p = b.text(person_id);
    Some(b.finish(
        format!(
            "SELECT 'account', a.account_id, a.bank_code, a.class, \
             CAST(CASE WHEN a.status = 'closed' THEN 0 ELSE 1 END AS BIGINT), a.opened_at \
             FROM accounts a WHERE a.holder_id = {p} \
             UNION ALL SELECT 'sim', s.msisdn, s.carrier, {NO_TEXT}, \
             CAST(CASE WHEN s.deactivated_at IS NULL THEN 1 ELSE 0 END AS BIGINT), s.activated_at \
             FROM sims s WHERE s.holder_id = {p} ORDER BY 1, 3, 2"
        ),
        &[T, T, T, T, I, I],
    ))
}

pub(crate) fn holding_rows(rows: Rows) -> Result<Vec<Holding>> {
    rows.into_iter()
        .map(|row| {
            let mut c = row.into_iter();
            let kind = match c.next().and_then(Cell::into_text).as_deref() {
                Some("account") => "account",
                Some("sim") => "sim",
                other => {
                    return Err(StoreError::Corrupt(format!("holding kind {other:?}")));
                }
            };
            let id = c.next().and_then(Cell::into_text).unwrap_or_default();
            let institution_code = c.next().and_then(Cell::into_text).unwrap_or_default();
            let class = c.next().and_then(Cell::into_text);
            let active = c.next().and_then(|x| x.int()).unwrap_or(1) != 0;
            let since = c.next().and_then(|x| x.int()).unwrap_or(0);
            Ok(Holding {
                kind,
                id,
                institution_code,
                class,
                active,
                since,
            })
        })
        .collect()
}

// ---- profiles ----

/// What one body statement of a profile yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Links,
    History,
}

/// The statements behind one profile: the head (attributes; no row means not stored or not in
/// scope), then the links and the history, run only when the head found the entity.
pub(crate) struct ProfilePlan {
    entity: EntityRef,
    limit: u32,
    pub head: Stmt,
    pub body: Vec<Stmt>,
    parts: Vec<Part>,
}

const PERSON_HEAD: &[ColType] = &[T, T, T, T, T, T, T];
const ACCOUNT_HEAD: &[ColType] = &[T, T, T, I, T, T];
const SIM_HEAD: &[ColType] = &[T, T, I, I, T, T];
const DEVICE_HEAD: &[ColType] = &[I];

/// The head statement: the entity's attributes, one row when it is stored and in scope.
fn head(backend: Backend, scope: &Scope, entity: &EntityRef) -> Stmt {
    let mut b = Builder::new(backend, scope);
    let id = b.text(&entity.id);
    match entity.kind {
        EntityKind::Person => {
            let pin = b.person_in("p");
            b.finish(
                format!(
                    "SELECT p.id_kind, p.name, p.community_code, p.phone, p.address, p.tags, p.birth_date \
                     FROM persons p WHERE p.person_id = {id} AND {pin}"
                ),
                PERSON_HEAD,
            )
        }
        EntityKind::Account => {
            let cols = "a.bank_code, a.class, a.status, a.opened_at, a.holder_id, h.community_code";
            let sql = if b.is_all() {
                // An account known only from transfers (another district's, another bank's)
                // still has a history worth opening.
                format!(
                    "SELECT {cols} FROM (SELECT CAST({id} AS TEXT) AS id) k \
                     LEFT JOIN accounts a ON a.account_id = k.id \
                     LEFT JOIN persons h ON h.person_id = a.holder_id \
                     WHERE a.account_id IS NOT NULL \
                     OR EXISTS (SELECT 1 FROM transactions t WHERE t.from_account = k.id) \
                     OR EXISTS (SELECT 1 FROM transactions t WHERE t.to_account = k.id)"
                )
            } else {
                let ain = b.account_in("a");
                format!(
                    "SELECT {cols} FROM accounts a LEFT JOIN persons h ON h.person_id = a.holder_id \
                     WHERE a.account_id = {id} AND {ain}"
                )
            };
            b.finish(sql, ACCOUNT_HEAD)
        }
        EntityKind::Sim => {
            let cols = "s.carrier, s.kind, s.activated_at, s.deactivated_at, s.holder_id, h.community_code";
            let sql = if b.is_all() {
                // The latest holding; a number known only from calls or messages (another
                // carrier's, another city's) still has a history.
                format!(
                    "SELECT {cols} FROM (SELECT CAST({id} AS TEXT) AS id) k \
                     LEFT JOIN sims s ON s.msisdn = k.id \
                     AND s.activated_at = (SELECT MAX(sm.activated_at) FROM sims sm WHERE sm.msisdn = k.id) \
                     LEFT JOIN persons h ON h.person_id = s.holder_id \
                     WHERE s.msisdn IS NOT NULL \
                     OR EXISTS (SELECT 1 FROM calls c WHERE c.caller_norm = k.id) \
                     OR EXISTS (SELECT 1 FROM calls c WHERE c.callee_norm = k.id) \
                     OR EXISTS (SELECT 1 FROM sms m WHERE m.sender_norm = k.id) \
                     OR EXISTS (SELECT 1 FROM sms m WHERE m.receiver_norm = k.id)"
                )
            } else {
                let sin = b.holding_in("s");
                format!(
                    "SELECT {cols} FROM sims s LEFT JOIN persons h ON h.person_id = s.holder_id \
                     WHERE s.msisdn = {id} AND {sin} ORDER BY s.activated_at DESC LIMIT 1"
                )
            };
            b.finish(sql, SIM_HEAD)
        }
        EntityKind::Device => {
            let din = b.device_in("k.id");
            b.finish(
                format!(
                    "SELECT CAST(1 AS BIGINT) FROM (SELECT CAST({id} AS TEXT) AS id) k WHERE {din}"
                ),
                DEVICE_HEAD,
            )
        }
    }
}

/// The newest-first union of several event selects, each already bounded by the limit.
/// Every select yields (at, what, cp_kind, cp_id, amount, note, num, tie).
fn events(backend: Backend, branches: &[Branch<'_>], n: &str) -> String {
    let parts: Vec<String> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| format!("SELECT * FROM ({}) e{i}", b.sql(n)))
        .collect();
    let c = crate::migrate::collate_c(backend);
    format!(
        "SELECT * FROM ({}) z ORDER BY at DESC, what{c}, tie{c} DESC LIMIT {n}",
        parts.join(" UNION ALL ")
    )
}

/// One source of history events: the expressions giving each event column, and the rows
/// (`FROM … WHERE …`).
struct Branch<'a> {
    at: &'a str,
    what: &'static str,
    cp_kind: &'a str,
    cp_id: &'a str,
    amount: &'a str,
    note: &'a str,
    /// A call's duration, which the note then carries.
    num: &'a str,
    /// A unique id, so equal times still order the same on both backends.
    tie: &'a str,
    rows: String,
}

impl Branch<'_> {
    /// The newest `n` events of this source.
    fn sql(&self, n: &str) -> String {
        let Branch {
            at,
            what,
            cp_kind,
            cp_id,
            amount,
            note,
            num,
            tie,
            rows,
        } = self;
        format!(
            "SELECT {at} AS at, '{what}' AS what, {cp_kind} AS cp_kind, {cp_id} AS cp_id, \
             {amount} AS amount, {note} AS note, {num} AS num, {tie} AS tie {rows} \
             AND {at} IS NOT NULL ORDER BY {at} DESC, {tie} DESC LIMIT {n}"
        )
    }
}

const NO_TEXT: &str = "CAST(NULL AS TEXT)";
const NO_INT: &str = "CAST(NULL AS BIGINT)";

/// Counterparts aggregated from one table: (relation, kind, id, weight, first, last).
fn aggregated(
    relation: &str,
    kind: &str,
    other: &str,
    ts: &str,
    from_where: &str,
    n: &str,
) -> String {
    format!(
        "SELECT '{relation}', '{kind}', {other}, COUNT(*), MIN({ts}), MAX({ts}) {from_where} \
         AND {other} IS NOT NULL GROUP BY {other} ORDER BY COUNT(*) DESC, {other} LIMIT {n}"
    )
}

/// Devices a subject used, from several (device, ts) sources, merged per device.
fn devices_used(sources: &[String], n: &str) -> String {
    let parts: Vec<String> = sources
        .iter()
        .map(|s| format!("SELECT dev, COUNT(*) AS w, MIN(ts) AS first_at, MAX(ts) AS last_at FROM ({s}) x GROUP BY dev"))
        .collect();
    format!(
        "SELECT 'used_device', 'device', u.dev, CAST(SUM(u.w) AS BIGINT) AS weight, MIN(u.first_at), MAX(u.last_at) \
         FROM ({}) u GROUP BY u.dev ORDER BY weight DESC, u.dev LIMIT {n}",
        parts.join(" UNION ALL ")
    )
}

/// A login subject's kind, where the store knows it (NULL otherwise).
fn subject_kind(subject: &str) -> String {
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM accounts ak WHERE ak.account_id = {subject}) THEN 'account' \
         WHEN EXISTS (SELECT 1 FROM sims sk WHERE sk.msisdn = {subject}) THEN 'sim' END"
    )
}

impl ProfilePlan {
    pub(crate) fn new(
        backend: Backend,
        scope: &Scope,
        entity: &EntityRef,
        limit: u32,
    ) -> Option<ProfilePlan> {
        if unmatchable(&entity.id) {
            return None;
        }
        let head = head(backend, scope, entity);
        let mut plan = ProfilePlan {
            entity: entity.clone(),
            limit,
            head,
            body: Vec::new(),
            parts: Vec::new(),
        };
        match entity.kind {
            EntityKind::Person => plan.person(backend, scope),
            EntityKind::Account => plan.account(backend, scope),
            EntityKind::Sim => plan.sim(backend, scope),
            EntityKind::Device => plan.device(backend, scope),
        }
        Some(plan)
    }

    fn push(&mut self, part: Part, stmt: Stmt) {
        self.parts.push(part);
        self.body.push(stmt);
    }

    fn person(&mut self, backend: Backend, scope: &Scope) {
        let lim = self.limit;
        let id = self.entity.id.clone();

        let mut b = Builder::new(backend, scope);
        let (p, n) = (b.text(&id), b.limit(lim));
        let ain = b.account_in("a");
        let sql = format!(
            "SELECT 'holds_account', 'account', a.account_id, CAST(1 AS BIGINT), a.opened_at, {NO_INT} \
             FROM accounts a WHERE a.holder_id = {p} AND {ain} \
             ORDER BY COALESCE(a.opened_at, 0) DESC, a.account_id LIMIT {n}"
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        let mut b = Builder::new(backend, scope);
        let (p, n) = (b.text(&id), b.limit(lim));
        let sin = b.holding_in("s");
        let sql = format!(
            "SELECT 'holds_sim', 'sim', s.msisdn, CAST(1 AS BIGINT), s.activated_at, s.deactivated_at \
             FROM sims s WHERE s.holder_id = {p} AND {sin} \
             ORDER BY s.activated_at DESC, s.msisdn LIMIT {n}"
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        let mut b = Builder::new(backend, scope);
        let (p, n) = (b.text(&id), b.limit(lim));
        let mut branches = Vec::new();
        // Reports are police records: a bank or carrier sees its customer, not their report.
        if !b.is_institution() {
            branches.push(Branch {
                at: "r.ts",
                what: "report",
                cp_kind: NO_TEXT,
                cp_id: NO_TEXT,
                amount: "r.loss_fen",
                note: "r.typology",
                num: NO_INT,
                tie: "r.report_id",
                rows: format!("FROM reports r WHERE r.victim_id = {p}"),
            });
        }
        let ain = b.account_in("a");
        branches.push(Branch {
            at: "a.opened_at",
            what: "opened",
            cp_kind: "'account'",
            cp_id: "a.account_id",
            amount: NO_INT,
            note: "a.bank_code",
            num: NO_INT,
            tie: "a.account_id",
            rows: format!("FROM accounts a WHERE a.holder_id = {p} AND {ain}"),
        });
        let sin = b.holding_in("s");
        for (at, what) in [
            ("s.activated_at", "activated"),
            ("s.deactivated_at", "deactivated"),
        ] {
            branches.push(Branch {
                at,
                what,
                cp_kind: "'sim'",
                cp_id: "s.msisdn",
                amount: NO_INT,
                note: "s.carrier",
                num: NO_INT,
                tie: "s.msisdn",
                rows: format!("FROM sims s WHERE s.holder_id = {p} AND {sin}"),
            });
        }
        let sql = events(backend, &branches, &n);
        self.push(Part::History, b.finish(sql, EVENT_COLS));
    }

    fn account(&mut self, backend: Backend, scope: &Scope) {
        let lim = self.limit;
        let id = self.entity.id.clone();

        for (relation, mine, other) in [
            ("paid", "from_account", "to_account"),
            ("paid_by", "to_account", "from_account"),
        ] {
            let mut b = Builder::new(backend, scope);
            let (a, n) = (b.text(&id), b.limit(lim));
            let sql = aggregated(
                relation,
                "account",
                &format!("t.{other}"),
                "t.ts",
                &format!("FROM transactions t WHERE t.{mine} = {a}"),
                &n,
            );
            self.push(Part::Links, b.finish(sql, LINK_COLS));
        }

        let mut b = Builder::new(backend, scope);
        let (a, n) = (b.text(&id), b.limit(lim));
        let sql = devices_used(
            &[
                format!(
                    "SELECT t.device_id AS dev, t.ts AS ts FROM transactions t \
                     WHERE t.from_account = {a} AND t.device_id IS NOT NULL"
                ),
                format!(
                    "SELECT lg.device_id AS dev, lg.ts AS ts FROM logins lg \
                     WHERE lg.subject = {a} AND lg.device_id IS NOT NULL"
                ),
            ],
            &n,
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        let mut b = Builder::new(backend, scope);
        let (a, n) = (b.text(&id), b.limit(lim));
        let branches = [
            Branch {
                at: "t.ts",
                what: "transfer_out",
                cp_kind: "'account'",
                cp_id: "t.to_account",
                amount: "t.amount_fen",
                note: "t.channel",
                num: NO_INT,
                tie: "t.tx_id",
                rows: format!("FROM transactions t WHERE t.from_account = {a}"),
            },
            Branch {
                at: "t.ts",
                what: "transfer_in",
                cp_kind: "'account'",
                cp_id: "t.from_account",
                amount: "t.amount_fen",
                note: "t.channel",
                num: NO_INT,
                tie: "t.tx_id",
                rows: format!("FROM transactions t WHERE t.to_account = {a}"),
            },
        ];
        let sql = events(backend, &branches, &n);
        self.push(Part::History, b.finish(sql, EVENT_COLS));
    }

    fn sim(&mut self, backend: Backend, scope: &Scope) {
        let lim = self.limit;
        let id = self.entity.id.clone();

        let mut b = Builder::new(backend, scope);
        let (m, n) = (b.text(&id), b.limit(lim));
        let sin = b.holding_in("s");
        let sql = format!(
            "SELECT 'held_by', 'person', s.holder_id, CAST(1 AS BIGINT), s.activated_at, s.deactivated_at \
             FROM sims s WHERE s.msisdn = {m} AND s.holder_id IS NOT NULL AND {sin} \
             ORDER BY s.activated_at DESC LIMIT {n}"
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        for (relation, mine, other) in [
            ("called", "caller_norm", "callee_norm"),
            ("called_by", "callee_norm", "caller_norm"),
        ] {
            let mut b = Builder::new(backend, scope);
            let (m, n) = (b.text(&id), b.limit(lim));
            let window = b.sim_at_in(&m, "c.ts");
            let sql = aggregated(
                relation,
                "sim",
                &format!("c.{other}"),
                "c.ts",
                &format!("FROM calls c WHERE c.{mine} = {m} AND {window}"),
                &n,
            );
            self.push(Part::Links, b.finish(sql, LINK_COLS));
        }

        let mut b = Builder::new(backend, scope);
        let (m, n) = (b.text(&id), b.limit(lim));
        let calls_window = b.sim_at_in(&m, "c.ts");
        let logins_window = b.sim_at_in(&m, "lg.ts");
        let sql = devices_used(
            &[
                format!(
                    "SELECT c.imei AS dev, c.ts AS ts FROM calls c \
                     WHERE c.caller_norm = {m} AND c.imei IS NOT NULL AND {calls_window}"
                ),
                format!(
                    "SELECT lg.device_id AS dev, lg.ts AS ts FROM logins lg \
                     WHERE lg.subject = {m} AND lg.device_id IS NOT NULL AND {logins_window}"
                ),
            ],
            &n,
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        let mut b = Builder::new(backend, scope);
        let (m, n) = (b.text(&id), b.limit(lim));
        // (event, table, time, my side, the other side, id); calls carry kind and duration.
        let sources = [
            (
                "call_out",
                "calls c",
                "c.ts",
                "c.caller_norm",
                "c.callee_norm",
                "c.call_id",
            ),
            (
                "call_in",
                "calls c",
                "c.ts",
                "c.callee_norm",
                "c.caller_norm",
                "c.call_id",
            ),
            (
                "sms_out",
                "sms m",
                "m.ts",
                "m.sender_norm",
                "m.receiver_norm",
                "m.sms_id",
            ),
            (
                "sms_in",
                "sms m",
                "m.ts",
                "m.receiver_norm",
                "m.sender_norm",
                "m.sms_id",
            ),
        ];
        let mut branches = Vec::new();
        for (what, table, at, mine, other, tie) in sources {
            let is_call = table.starts_with("calls");
            let window = b.sim_at_in(&m, at);
            branches.push(Branch {
                at,
                what,
                cp_kind: "'sim'",
                cp_id: other,
                amount: NO_INT,
                note: if is_call { "c.kind" } else { NO_TEXT },
                num: if is_call { "c.duration_s" } else { NO_INT },
                tie,
                rows: format!("FROM {table} WHERE {mine} = {m} AND {window}"),
            });
        }
        let sql = events(backend, &branches, &n);
        self.push(Part::History, b.finish(sql, EVENT_COLS));
    }

    fn device(&mut self, backend: Backend, scope: &Scope) {
        let lim = self.limit;
        let id = self.entity.id.clone();

        let mut b = Builder::new(backend, scope);
        let (d, n) = (b.text(&id), b.limit(lim));
        let login_account = b.account_id_in("lg.subject");
        let login_sim = b.sim_at_in("lg.subject", "lg.ts");
        let payer = b.account_id_in("t.from_account");
        let caller = b.sim_at_in("c.caller_norm", "c.ts");
        let kind = subject_kind("lg.subject");
        let sql = format!(
            "SELECT 'used_by', u.kind, u.id, CAST(SUM(u.w) AS BIGINT) AS weight, MIN(u.first_at), MAX(u.last_at) FROM ( \
             SELECT {kind} AS kind, lg.subject AS id, COUNT(*) AS w, MIN(lg.ts) AS first_at, MAX(lg.ts) AS last_at \
             FROM logins lg WHERE lg.device_id = {d} AND lg.subject IS NOT NULL AND ({login_account} OR {login_sim}) \
             GROUP BY lg.subject \
             UNION ALL SELECT 'account', t.from_account, COUNT(*), MIN(t.ts), MAX(t.ts) FROM transactions t \
             WHERE t.device_id = {d} AND t.from_account IS NOT NULL AND {payer} GROUP BY t.from_account \
             UNION ALL SELECT 'sim', c.caller_norm, COUNT(*), MIN(c.ts), MAX(c.ts) FROM calls c \
             WHERE c.imei = {d} AND c.caller_norm IS NOT NULL AND {caller} GROUP BY c.caller_norm \
             ) u GROUP BY u.kind, u.id ORDER BY weight DESC, u.id, COALESCE(u.kind, '') LIMIT {n}"
        );
        self.push(Part::Links, b.finish(sql, LINK_COLS));

        let mut b = Builder::new(backend, scope);
        let (d, n) = (b.text(&id), b.limit(lim));
        let login_account = b.account_id_in("lg.subject");
        let login_sim = b.sim_at_in("lg.subject", "lg.ts");
        let branch = Branch {
            at: "lg.ts",
            what: "login",
            cp_kind: &subject_kind("lg.subject"),
            cp_id: "lg.subject",
            amount: NO_INT,
            note: NO_TEXT,
            num: NO_INT,
            tie: "lg.event_id",
            rows: format!(
                "FROM logins lg WHERE lg.device_id = {d} AND ({login_account} OR {login_sim})"
            ),
        };
        let sql = events(backend, &[branch], &n);
        self.push(Part::History, b.finish(sql, EVENT_COLS));
    }

    /// The profile from the head's row and the body's results, in the plan's order.
    pub(crate) fn assemble(self, head: Vec<Cell>, body: Vec<Rows>) -> Result<Profile> {
        let (community_code, attributes, mut holdings) = attributes(&self.entity, head)?;
        let mut others = Vec::new();
        let mut history = Vec::new();
        for (part, rows) in self.parts.iter().zip(body) {
            match part {
                Part::Links => {
                    for row in rows {
                        let link = link(row)?;
                        if HOLDINGS.contains(&link.relation) {
                            holdings.push(link);
                        } else {
                            others.push(link);
                        }
                    }
                }
                Part::History => {
                    for row in rows {
                        history.push(event(row)?);
                    }
                }
            }
        }
        // Holdings first (who holds what is the heart of a profile), then the strongest edges.
        others.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then(b.last_at.cmp(&a.last_at))
                .then(a.relation.cmp(b.relation))
                .then(a.target.id.cmp(&b.target.id))
        });
        let mut links = holdings;
        links.extend(others);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        links.truncate(limit);
        history.truncate(limit);
        Ok(Profile {
            entity: self.entity,
            community_code,
            attributes,
            links,
            history,
        })
    }
}

const HOLDINGS: &[&str] = &["held_by", "holds_account", "holds_sim"];
const RELATIONS: &[&str] = &[
    "held_by",
    "holds_account",
    "holds_sim",
    "paid",
    "paid_by",
    "called",
    "called_by",
    "used_device",
    "used_by",
];
const EVENTS: &[&str] = &[
    "transfer_out",
    "transfer_in",
    "call_out",
    "call_in",
    "sms_out",
    "sms_in",
    "login",
    "report",
    "opened",
    "activated",
    "deactivated",
];

fn word(words: &'static [&'static str], got: Option<&str>, what: &str) -> Result<&'static str> {
    got.and_then(|g| words.iter().copied().find(|w| *w == g))
        .ok_or_else(|| StoreError::Corrupt(format!("unexpected {what} {got:?}")))
}

/// An entity kind as a statement spells it; an unknown login subject is a SIM when it reads
/// as a mobile or IoT number, else an account.
fn kind_of(kind: Option<&str>, id: &str) -> EntityKind {
    kind.and_then(EntityKind::parse)
        .unwrap_or_else(|| match Msisdn::parse(id) {
            Ok(_) => EntityKind::Sim,
            Err(_) => EntityKind::Account,
        })
}

fn link(row: Vec<Cell>) -> Result<Link> {
    let relation = word(RELATIONS, row.first().and_then(Cell::text), "relation")?;
    let id = row
        .get(2)
        .and_then(Cell::text)
        .ok_or_else(|| StoreError::Corrupt(format!("{relation} link without a target")))?
        .to_owned();
    let kind = kind_of(row.get(1).and_then(Cell::text), &id);
    Ok(Link {
        relation,
        target: EntityRef { kind, id },
        weight: row
            .get(3)
            .and_then(Cell::int)
            .map_or(0, |w| u64::try_from(w).unwrap_or(0)),
        first_at: row.get(4).and_then(Cell::int),
        last_at: row.get(5).and_then(Cell::int),
    })
}

fn event(row: Vec<Cell>) -> Result<Event> {
    let at = row
        .first()
        .and_then(Cell::int)
        .ok_or_else(|| StoreError::Corrupt("history event without a time".into()))?;
    let what = word(EVENTS, row.get(1).and_then(Cell::text), "event")?;
    let counterparty = row.get(3).and_then(Cell::text).map(|id| EntityRef {
        kind: kind_of(row.get(2).and_then(Cell::text), id),
        id: id.to_owned(),
    });
    let note = row.get(5).and_then(Cell::text).unwrap_or_default();
    let note = match row.get(6).and_then(Cell::int) {
        // A call: its kind and duration.
        Some(seconds) if note.is_empty() => format!("{seconds}s"),
        Some(seconds) => format!("{note} {seconds}s"),
        None => note.to_owned(),
    };
    Ok(Event {
        at,
        what,
        counterparty,
        amount_fen: row.get(4).and_then(Cell::int),
        note,
    })
}

/// An instant as the console shows it (Beijing time).
fn shown_at(micros: i64) -> String {
    Instant::from_micros(micros).map_or_else(|| micros.to_string(), |i| i.to_string())
}

type Head = (Option<String>, Vec<Attribute>, Vec<Link>);

/// The head row as attributes (NULLs left out), the community, and the holder link of an
/// account or SIM.
fn attributes(entity: &EntityRef, head: Vec<Cell>) -> Result<Head> {
    let mut attrs = Vec::new();
    let mut put = |key: &'static str, value: Option<String>, field: Field| {
        if let Some(value) = value {
            attrs.push(Attribute { key, value, field });
        }
    };
    let text = |i: usize| head.get(i).and_then(Cell::text).map(str::to_owned);
    let time = |i: usize| head.get(i).and_then(Cell::int);
    match entity.kind {
        EntityKind::Person => {
            put("id_kind", text(0), Field::Plain);
            put("name", text(1), Field::Name);
            put("community_code", text(2), Field::Plain);
            put("phone", text(3), Field::Phone);
            put("address", text(4), Field::Text);
            put("tags", text(5), Field::Plain);
            // The birth date is the part of a resident id its mask hides: masked as digits.
            put("birth_date", text(6), Field::Text);
            Ok((text(2), attrs, Vec::new()))
        }
        EntityKind::Account => {
            put("bank_code", text(0), Field::Plain);
            put("class", text(1), Field::Plain);
            put("status", text(2), Field::Plain);
            put("opened_at", time(3).map(shown_at), Field::Plain);
            put("holder", text(4), Field::IdNumber);
            let held_by = text(4).map(|id| Link {
                relation: "held_by",
                target: EntityRef {
                    kind: EntityKind::Person,
                    id,
                },
                weight: 1,
                first_at: time(3),
                last_at: None,
            });
            Ok((text(5), attrs, held_by.into_iter().collect()))
        }
        EntityKind::Sim => {
            put("carrier", text(0), Field::Plain);
            put("kind", text(1), Field::Plain);
            put("activated_at", time(2).map(shown_at), Field::Plain);
            put("deactivated_at", time(3).map(shown_at), Field::Plain);
            put("holder", text(4), Field::IdNumber);
            // A SIM's holders come from its holdings (a recycled number has several).
            Ok((text(5), attrs, Vec::new()))
        }
        EntityKind::Device => Ok((None, attrs, Vec::new())),
    }
}

// ---- search ----

/// Longer queries match nothing: no id or name is this long, and a bound keeps work bounded.
const MAX_QUERY_CHARS: usize = 64;

/// The statements behind a search: one exact look-up per kind (the profile heads, so every
/// hit opens), then a name prefix.
pub(crate) struct SearchPlan {
    query: String,
    limit: u32,
    pub exact: Vec<(EntityKind, Stmt)>,
    pub by_name: Stmt,
}

impl SearchPlan {
    pub(crate) fn new(
        backend: Backend,
        scope: &Scope,
        query: &str,
        limit: u32,
    ) -> Option<SearchPlan> {
        let q = query.trim();
        if q.is_empty() || limit == 0 || unmatchable(q) || q.chars().count() > MAX_QUERY_CHARS {
            return None;
        }
        let exact = EntityKind::ALL
            .into_iter()
            .map(|kind| {
                let entity = EntityRef {
                    kind,
                    id: q.to_owned(),
                };
                (kind, head(backend, scope, &entity))
            })
            .collect();
        let mut b = Builder::new(backend, scope);
        let lo = b.text(q);
        // Every name starting with `q` sorts below `q` followed by the last code point.
        let hi = b.text(&format!("{q}{}", char::MAX));
        let len = b.int(i64::try_from(q.chars().count()).unwrap_or(i64::MAX));
        let n = b.limit(limit);
        let pin = b.person_in("p");
        let (name_lo, name_hi) = (b.bytewise("p.name"), b.bytewise("p.name"));
        let by_name = b.finish(
            format!(
                "SELECT p.person_id, p.name FROM persons p WHERE {name_lo} >= {lo} AND {name_hi} < {hi} \
                 AND substr(p.name, 1, CAST({len} AS INTEGER)) = {lo} AND {pin} \
                 ORDER BY p.name{}, p.person_id LIMIT {n}",
                crate::migrate::collate_c(backend)
            ),
            &[T, T],
        );
        Some(SearchPlan {
            query: q.to_owned(),
            limit,
            exact,
            by_name,
        })
    }

    /// Hits from the exact look-ups' rows (in the plan's order) and the name rows.
    pub(crate) fn assemble(self, exact: Vec<Rows>, by_name: Rows) -> Vec<SearchHit> {
        let mut hits: Vec<SearchHit> = Vec::new();
        for ((kind, _), rows) in self.exact.iter().zip(exact) {
            let Some(row) = rows.into_iter().next() else {
                continue;
            };
            let first = row.first().and_then(Cell::text).map(str::to_owned);
            let (matched, label, label_field) = match kind {
                EntityKind::Person => ("id", row.get(1).and_then(Cell::text), Field::Name),
                EntityKind::Account => ("id", first.as_deref(), Field::Plain),
                EntityKind::Sim => ("phone", first.as_deref(), Field::Plain),
                EntityKind::Device => ("id", None, Field::Plain),
            };
            hits.push(SearchHit {
                entity: EntityRef {
                    kind: *kind,
                    id: self.query.clone(),
                },
                matched,
                label: label.unwrap_or_default().to_owned(),
                label_field,
            });
        }
        for row in by_name {
            let mut c = row.into_iter().map(Cell::into_text);
            let (Some(id), name) = (c.next().flatten(), c.next().flatten()) else {
                continue;
            };
            if hits
                .iter()
                .any(|h| h.entity.kind == EntityKind::Person && h.entity.id == id)
            {
                continue;
            }
            hits.push(SearchHit {
                entity: EntityRef {
                    kind: EntityKind::Person,
                    id,
                },
                matched: "name",
                label: name.unwrap_or_default(),
                label_field: Field::Name,
            });
        }
        hits.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        hits
    }
}

// ---- dashboard ----

const DAY: i64 = 86_400_000_000;
/// Asia/Shanghai is UTC+8 all year (no DST since 1991).
const SHANGHAI_OFFSET: i64 = 8 * 3_600_000_000;

/// The Shanghai calendar day of `micros`, as days since 1970-01-01.
fn day_of(micros: i64) -> i64 {
    micros.saturating_add(SHANGHAI_OFFSET).div_euclid(DAY)
}

/// The same in SQL, flooring for instants before 1970 too, as [`day_of`] does.
fn day_sql(ts: &str) -> String {
    let shifted = format!("({ts} + {SHANGHAI_OFFSET})");
    format!("(({shifted} - ((({shifted} % {DAY}) + {DAY}) % {DAY})) / {DAY})")
}

fn day_name(day: i64) -> String {
    day.checked_mul(DAY)
        .and_then(Instant::from_micros)
        .map_or_else(|| day.to_string(), |i| i.utc().date_naive().to_string())
}

/// How many case report ids one membership query checks: fixed, so the SQL text is too.
const CASE_CHUNK: usize = 64;

pub(crate) struct DashboardPlan<'s> {
    backend: Backend,
    scope: &'s Scope,
    first_day: i64,
    last_day: i64,
    pub by_day: Stmt,
    pub by_typology: Stmt,
    pub cases: Stmt,
}

impl<'s> DashboardPlan<'s> {
    /// `None` for an empty window. A window longer than [`DASHBOARD_MAX_DAYS`] keeps its last
    /// days.
    pub(crate) fn new(
        backend: Backend,
        scope: &'s Scope,
        from: i64,
        to: i64,
    ) -> Option<DashboardPlan<'s>> {
        let to = to.min(Instant::MAX.micros().saturating_add(1));
        let from = from.max(Instant::MIN.micros());
        if to <= from {
            return None;
        }
        let last_day = day_of(to - 1);
        let first_day = day_of(from).max(last_day - (i64::from(DASHBOARD_MAX_DAYS) - 1));
        let from = from.max(first_day * DAY - SHANGHAI_OFFSET);

        let mut b = Builder::new(backend, scope);
        let (lo, hi) = (b.int(from), b.int(to));
        let rin = b.report_in("r");
        let day = day_sql("r.ts");
        let by_day = b.finish(
            format!(
                "SELECT x.day, COUNT(*), COALESCE(CAST(SUM(x.loss) AS BIGINT), 0) FROM \
                 (SELECT {day} AS day, r.loss_fen AS loss FROM reports r \
                 WHERE r.ts >= {lo} AND r.ts < {hi} AND {rin}) x GROUP BY x.day ORDER BY x.day"
            ),
            &[I, I, I],
        );

        let mut b = Builder::new(backend, scope);
        let (lo, hi) = (b.int(from), b.int(to));
        let rin = b.report_in("r");
        let by_typology = b.finish(
            format!(
                "SELECT COALESCE(r.typology, ''), COUNT(*), COALESCE(CAST(SUM(r.loss_fen) AS BIGINT), 0) \
                 FROM reports r WHERE r.ts >= {lo} AND r.ts < {hi} AND {rin} \
                 GROUP BY COALESCE(r.typology, '') ORDER BY COUNT(*) DESC, COALESCE(r.typology, '')"
            ),
            &[T, I, I],
        );

        let mut b = Builder::new(backend, &Scope::All);
        let (lo, hi) = (b.int(from), b.int(to));
        let cases = b.finish(
            format!(
                "SELECT c.filed_at, c.report_ids FROM cases c WHERE c.filed_at >= {lo} AND c.filed_at < {hi}"
            ),
            &[I, T],
        );
        Some(DashboardPlan {
            backend,
            scope,
            first_day,
            last_day,
            by_day,
            by_typology,
            cases,
        })
    }

    /// The cases' rows as (day, report ids), and the statements that tell which of those
    /// reports are in scope (none under `All`, where every case counts).
    pub(crate) fn case_reports(&self, cases: Rows) -> (Vec<(i64, Vec<String>)>, Vec<Stmt>) {
        let cases: Vec<(i64, Vec<String>)> = cases
            .into_iter()
            .filter_map(|row| {
                let at = row.first().and_then(Cell::int)?;
                let ids = row
                    .get(1)
                    .and_then(Cell::text)
                    .unwrap_or_default()
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && !unmatchable(s))
                    .map(str::to_owned)
                    .collect();
                Some((day_of(at), ids))
            })
            .collect();
        if matches!(self.scope, Scope::All) {
            return (cases, Vec::new());
        }
        let ids: Vec<&String> = {
            let mut seen = HashSet::new();
            cases
                .iter()
                .flat_map(|(_, ids)| ids)
                .filter(|id| seen.insert(*id))
                .collect()
        };
        let stmts = ids
            .chunks(CASE_CHUNK)
            .map(|chunk| {
                let mut b = Builder::new(self.backend, self.scope);
                // Padded with the chunk's first id, so every chunk has the same SQL.
                let phs: Vec<String> = (0..CASE_CHUNK)
                    .map(|i| b.text(chunk.get(i).unwrap_or(&chunk[0])))
                    .collect();
                let rin = b.report_in("r");
                b.finish(
                    format!(
                        "SELECT r.report_id FROM reports r WHERE r.report_id IN ({}) AND {rin}",
                        phs.join(", ")
                    ),
                    &[T],
                )
            })
            .collect();
        (cases, stmts)
    }

    pub(crate) fn assemble(
        self,
        by_day: Rows,
        by_typology: Rows,
        cases: Vec<(i64, Vec<String>)>,
        in_scope: Vec<Rows>,
    ) -> Dashboard {
        let mut days: Vec<DayFigures> = (self.first_day..=self.last_day)
            .map(|d| DayFigures {
                day: day_name(d),
                ..DayFigures::default()
            })
            .collect();
        let slot = |d: i64| usize::try_from(d - self.first_day).ok();
        for row in by_day {
            let (Some(d), Some(n), Some(loss)) = (
                row.first().and_then(Cell::int),
                row.get(1).and_then(Cell::int),
                row.get(2).and_then(Cell::int),
            ) else {
                continue;
            };
            if let Some(f) = slot(d).and_then(|i| days.get_mut(i)) {
                f.reports = u64::try_from(n).unwrap_or(0);
                f.loss_fen = loss;
            }
        }
        let all = matches!(self.scope, Scope::All);
        let visible: HashSet<String> = in_scope
            .into_iter()
            .flatten()
            .filter_map(|row| row.into_iter().next().and_then(Cell::into_text))
            .collect();
        for (d, ids) in cases {
            if !all && !ids.iter().any(|id| visible.contains(id)) {
                continue;
            }
            if let Some(f) = slot(d).and_then(|i| days.get_mut(i)) {
                f.cases += 1;
            }
        }
        let by_typology = by_typology
            .into_iter()
            .filter_map(|row| {
                let mut c = row.into_iter();
                let t = c.next()?.into_text()?;
                let n = c.next()?.int()?;
                let loss = c.next()?.int()?;
                Some((t, u64::try_from(n).unwrap_or(0), loss))
            })
            .collect();
        Dashboard { days, by_typology }
    }
}

pub(crate) fn data_end(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT MAX(m) FROM (SELECT MAX(ts) AS m FROM reports UNION ALL SELECT MAX(ts) FROM transactions \
         UNION ALL SELECT MAX(ts) FROM calls) x"
            .to_owned(),
        &[I],
    )
}

pub(crate) fn single_int(rows: Rows) -> Option<i64> {
    rows.into_iter().next()?.first().and_then(Cell::int)
}

// ---- audit pages and insider flags ----

const AUDIT_COLS: &[ColType] = &[I, I, T, T, T, T, T];

/// The page's statement and the count's, or `None` when a filter cannot match anything.
pub(crate) fn audit_page(
    backend: Backend,
    filter: &AuditFilter,
    limit: u32,
    offset: u64,
) -> Option<(Stmt, Stmt)> {
    let texts = [filter.actor.as_deref(), filter.action_prefix.as_deref()];
    if texts.into_iter().flatten().any(unmatchable) {
        return None;
    }
    let build = |page: bool| {
        let mut b = Builder::new(backend, &Scope::All);
        let mut conds = vec!["1 = 1".to_owned()];
        if let Some(actor) = &filter.actor {
            conds.push(format!("actor = {}", b.text(actor)));
        }
        if let Some(prefix) = &filter.action_prefix {
            let len = b.int(i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX));
            conds.push(format!(
                "substr(action, 1, CAST({len} AS INTEGER)) = {}",
                b.text(prefix)
            ));
        }
        if let Some(from) = filter.from {
            conds.push(format!("at >= {}", b.int(from)));
        }
        if let Some(to) = filter.to {
            conds.push(format!("at < {}", b.int(to)));
        }
        let conds = conds.join(" AND ");
        if page {
            let n = b.limit(limit);
            let skip = b.int(i64::try_from(offset).unwrap_or(i64::MAX));
            b.finish(
                format!(
                    "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log \
                     WHERE {conds} ORDER BY id DESC LIMIT {n} OFFSET {skip}"
                ),
                AUDIT_COLS,
            )
        } else {
            b.finish(
                format!("SELECT COUNT(*) FROM audit_log WHERE {conds}"),
                &[I],
            )
        }
    };
    Some((build(true), build(false)))
}

pub(crate) fn audit_entries(rows: Rows) -> Result<Vec<AuditEntry>> {
    rows.into_iter()
        .map(|row| {
            let mut c = row.into_iter();
            let mut int = |what: &str| {
                c.next()
                    .and_then(|v| v.int())
                    .ok_or_else(|| StoreError::Corrupt(format!("audit_log.{what}")))
            };
            let (id, at) = (int("id")?, int("at")?);
            let mut text = |what: &str| {
                c.next()
                    .and_then(Cell::into_text)
                    .ok_or_else(|| StoreError::Corrupt(format!("audit_log.{what}")))
            };
            Ok(AuditEntry {
                id,
                at,
                actor: text("actor")?,
                action: text("action")?,
                detail: text("detail")?,
                prev_hash: text("prev_hash")?,
                hash: text("hash")?,
            })
        })
        .collect()
}

pub(crate) fn flag_add(
    backend: Backend,
    username: &str,
    day: &str,
    rule: &str,
    detail: &str,
    now: i64,
) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let vals = [
        b.int(now),
        b.text(username),
        b.text(day),
        b.text(rule),
        b.text(detail),
    ];
    b.finish(
        format!(
            "INSERT INTO insider_flags (raised_at, username, day, rule, detail) VALUES ({}) \
             ON CONFLICT (username, day, rule) DO NOTHING RETURNING id",
            vals.join(", ")
        ),
        &[I],
    )
}

pub(crate) fn flag_list(backend: Backend) -> Stmt {
    Builder::new(backend, &Scope::All).finish(
        "SELECT id, raised_at, username, day, rule, detail, reviewed_by FROM insider_flags \
         ORDER BY raised_at DESC, id DESC"
            .to_owned(),
        &[I, I, T, T, T, T, T],
    )
}

pub(crate) fn flags(rows: Rows) -> Result<Vec<InsiderFlag>> {
    rows.into_iter()
        .map(|row| {
            let bad = || StoreError::Corrupt("insider_flags row".into());
            let mut c = row.into_iter();
            let id = c.next().and_then(|v| v.int()).ok_or_else(bad)?;
            let raised_at = c.next().and_then(|v| v.int()).ok_or_else(bad)?;
            let mut text = || c.next().and_then(Cell::into_text);
            Ok(InsiderFlag {
                id,
                raised_at,
                username: text().ok_or_else(bad)?,
                day: text().ok_or_else(bad)?,
                rule: text().ok_or_else(bad)?,
                detail: text().ok_or_else(bad)?,
                reviewed_by: text(),
            })
        })
        .collect()
}

/// Marks a flag reviewed, keeping the first reviewer of a flag reviewed twice; a row comes
/// back when the flag exists.
pub(crate) fn flag_review(backend: Backend, id: i64, auditor: &str, now: i64) -> Stmt {
    let mut b = Builder::new(backend, &Scope::All);
    let (who, at, id) = (b.text(auditor), b.int(now), b.int(id));
    b.finish(
        format!(
            "UPDATE insider_flags SET reviewed_by = COALESCE(reviewed_by, {who}), \
             reviewed_at = COALESCE(reviewed_at, {at}) WHERE id = {id} RETURNING id"
        ),
        &[I],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_days_floor_before_and_after_midnight() {
        // 2026-03-01T00:00:00+08:00 is 2026-02-28T16:00:00Z.
        let midnight = 1_772_294_400_000_000;
        assert_eq!(day_name(day_of(midnight)), "2026-03-01");
        assert_eq!(day_name(day_of(midnight - 1)), "2026-02-28");
        assert_eq!(day_name(day_of(-SHANGHAI_OFFSET - 1)), "1969-12-31");
    }

    #[test]
    fn scope_codes_are_bound_not_spliced() {
        let hostile = Scope::Jurisdiction("x') OR 1=1 --".into());
        let st = person(Backend::Postgres, &hostile, "' OR '1'='1").unwrap();
        assert!(
            !st.sql.contains("OR 1=1") && !st.sql.contains("'1'='1"),
            "{}",
            st.sql
        );
        assert_eq!(st.args.len(), 2);
        assert!(st.sql.starts_with("WITH RECURSIVE"));
    }

    #[test]
    fn a_nul_matches_nothing_without_reaching_the_database() {
        assert!(person(Backend::Sqlite, &Scope::All, "a\0b").is_none());
        assert!(SearchPlan::new(Backend::Sqlite, &Scope::All, "a\0", 5).is_none());
    }
}
