//! What the server reads: scoped entity profiles, search hits, dashboard figures, audit
//! pages and insider flags. Values are raw (unmasked); masking is the server's duty, by the
//! [`Field`] each value is tagged with.
//!
//! Scoping lives here, in the queries, not in the pages: a [`Scope`] narrows every read, so a
//! handler that forgets to check a role still cannot return another tenant's rows.

use fanzha_core::vocab::Role;

/// Whose data a read may return. The server derives it from the caller (role, institution,
/// jurisdiction); the store applies it inside the SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole district (the anti-fraud centre's roles).
    All,
    /// One bank's or carrier's own accounts and SIMs (`accounts.bank_code`, `sims.carrier`),
    /// and the holders of those, showing only that institution's holdings.
    Institution(String),
    /// A jurisdiction code (district, town or community) and every jurisdiction below it by
    /// `parent_code`: persons by `community_code`, and their accounts and SIMs.
    Jurisdiction(String),
}

/// The entities a profile can be opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Person,
    Account,
    Sim,
    Device,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [
        EntityKind::Person,
        EntityKind::Account,
        EntityKind::Sim,
        EntityKind::Device,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Account => "account",
            EntityKind::Sim => "sim",
            EntityKind::Device => "device",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entity: a person id, an account number, an MSISDN or a device id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub id: String,
}

/// How a value is personal, which decides how the server masks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Not personal (a bank code, a status, a date, an amount).
    Plain,
    IdNumber,
    Name,
    Phone,
    Card,
    /// Free text that may carry numbers (an address, a memo): digits are masked.
    Text,
    /// A device id or IP: shown in part.
    Device,
}

/// One attribute of a profile, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// A stable key (`name`, `community_code`, `bank_code`, …); the console translates it.
    pub key: &'static str,
    pub value: String,
    pub field: Field,
}

/// An edge from the profiled entity to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `holds_account`, `holds_sim`, `held_by`, `used_device`, `used_by`, `paid`, `paid_by`,
    /// `called`, `called_by`…: a stable key the console translates.
    pub relation: &'static str,
    pub target: EntityRef,
    /// How many events support the edge (transfers, calls, log-ins); 1 for a holding.
    pub weight: u64,
    /// The first and last time the edge was seen (UTC microseconds), where it has times.
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
}

/// One event in a profile's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UTC microseconds.
    pub at: i64,
    /// `transfer_out`, `transfer_in`, `call_out`, `call_in`, `sms_out`, `sms_in`, `login`,
    /// `report`, `opened`, `activated`, `deactivated`…
    pub what: &'static str,
    /// The other side, where there is one (kept raw; masked by its `Field`).
    pub counterparty: Option<EntityRef>,
    pub amount_fen: Option<i64>,
    /// A short, non-personal note (channel, duration, typology).
    pub note: String,
}

/// A scoped profile of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub entity: EntityRef,
    /// The community the entity belongs to, where known (a person's, or its holder's): the
    /// audit trail records it so insider detection can tell out-of-jurisdiction look-ups.
    pub community_code: Option<String>,
    pub attributes: Vec<Attribute>,
    pub links: Vec<Link>,
    pub history: Vec<Event>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub entity: EntityRef,
    /// What matched: `id`, `name`, `phone`.
    pub matched: &'static str,
    /// A person's name or an account's bank, for telling hits apart (personal: masked by the
    /// server as `label_field` says).
    pub label: String,
    pub label_field: Field,
}

/// The commander's figures for one day (Asia/Shanghai calendar day).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// 警情: reports received.
    pub reports: u64,
    /// 发案: cases filed.
    pub cases: u64,
    /// 损失: reported losses, fen.
    pub loss_fen: i64,
}

/// Dashboard figures over a window, within a scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dashboard {
    /// Every day of the window, oldest first, zero days included.
    pub days: Vec<DayFigures>,
    /// Reports by typology over the window: (typology, reports, loss fen), most reports first.
    pub by_typology: Vec<(String, u64, i64)>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact actor (`user:NAME`, `key:ID:INST`, `cli:…`).
    pub actor: Option<String>,
    /// Action prefix (`person.` matches `person.view` and `person.reveal`).
    pub action_prefix: Option<String>,
    /// UTC microseconds, inclusive.
    pub from: Option<i64>,
    /// UTC microseconds, exclusive.
    pub to: Option<i64>,
}

/// A user the insider rules found acting unlike their peers or outside their remit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InsiderFlag {
    pub id: i64,
    /// When the flag was raised (UTC microseconds).
    pub raised_at: i64,
    pub username: String,
    /// The Shanghai calendar day the behaviour happened on, `YYYY-MM-DD`.
    pub day: String,
    /// `peer_volume`, `own_baseline`, `out_of_scope`.
    pub rule: String,
    /// Why, in figures (JSON).
    pub detail: String,
    /// The auditor who reviewed it, once reviewed.
    pub reviewed_by: Option<String>,
}

/// A new user as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser<'a> {
    pub username: &'a str,
    /// An argon2 PHC string.
    pub password_hash: &'a str,
    pub role: Role,
    /// The bank or carrier (an `institutions` code) a bank or carrier operator works for.
    pub institution_code: Option<&'a str>,
    /// The jurisdiction (a `jurisdictions` code) a station or community user works in.
    pub jurisdiction_code: Option<&'a str>,
}
