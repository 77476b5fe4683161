//! What the service layer hands the JSON API and the console: serialisable views in which
//! every personal value is already masked by its [`Field`] tag, and every entity is named
//! by an opaque handle (never its raw id), so nothing downstream can forget to mask.
//!
//! The one exception is [`RevealView::value`], the single raw value a reveal returns.

use fanzha_core::mask;
use fanzha_core::money::Money;
use fanzha_core::time::Instant;
use fanzha_store::{EntityKind, EntityRef, Field};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::handle::Handles;

/// An instant as UTC microseconds (for machines) and as Beijing time (for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TimeView {
    /// UTC microseconds since the epoch.
    pub micros: i64,
    /// RFC 3339 in +08:00, e.g. `2026-03-01T09:30:00+08:00`.
    #[schema(example = "2026-03-01T09:30:00+08:00")]
    pub shanghai: String,
}

impl TimeView {
    pub fn new(micros: i64) -> TimeView {
        TimeView {
            micros,
            shanghai: Instant::from_micros(micros)
                .map(|i| i.to_rfc3339_shanghai())
                .unwrap_or_default(),
        }
    }
}

/// Yuan with two decimals, e.g. `1234.50`.
pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen).yuan_string()
}

/// A device id or an IP address shown in part: an IPv4 address keeps its network half
/// (`10.2.*.*`), an IPv6 address its first two groups, any other id at most a third of its
/// characters (its head, which names the maker or series, and a short tail).
pub fn mask_device(s: &str) -> String {
    if let Ok(std::net::IpAddr::V4(ip)) = s.parse::<std::net::IpAddr>() {
        let [a, b, _, _] = ip.octets();
        return format!("{a}.{b}.*.*");
    }
    if let Ok(std::net::IpAddr::V6(ip)) = s.parse::<std::net::IpAddr>() {
        let seg = ip.segments();
        return format!("{:x}:{:x}:*", seg[0], seg[1]);
    }
    let chars: Vec<char> = s.chars().collect();
    let visible = chars.len() / 3;
    let tail = (visible / 2).min(3);
    let head = (visible - tail).min(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < head || i + tail >= chars.len() {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Personal free text (an address, a birth date, a memo): at most the first third of its
/// characters, and at most six, stay (the province and city of an address), never a digit;
/// the rest is starred. Masking only long digit runs would leave a street address or a
/// birth date whole.
pub fn mask_text(s: &str) -> String {
    let len = s.chars().count();
    let keep = (len / 3).min(6);
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep && !c.is_ascii_digit() {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// A value masked as its field says.
pub fn masked(value: &str, field: Field) -> String {
    match field {
        Field::Plain => value.to_owned(),
        Field::IdNumber => mask::id_number(value),
        Field::Name => mask::name(value),
        Field::Phone => mask::phone(value),
        Field::Card => mask::card(value),
        Field::Text => mask_text(value),
        Field::Device => mask_device(value),
    }
}

/// How an entity's own id is personal.
pub fn id_field(kind: EntityKind) -> Field {
    match kind {
        EntityKind::Person => Field::IdNumber,
        EntityKind::Account => Field::Card,
        EntityKind::Sim => Field::Phone,
        EntityKind::Device => Field::Device,
    }
}

/// The profile kind of a warned entity: a number seen in traffic has a SIM's profile.
pub fn warned_kind(kind: fanzha_store::RiskEntity) -> EntityKind {
    use fanzha_store::RiskEntity as R;
    match kind {
        R::Account => EntityKind::Account,
        R::Sim | R::Number => EntityKind::Sim,
        R::Person => EntityKind::Person,
    }
}

/// An entity as every view refers to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityView {
    /// Opaque; pass it to `/api/v1/entities/{handle}` or `/api/v1/reveal`. It changes on
    /// every answer and dies when the server restarts.
    pub handle: String,
    /// `person`, `account`, `sim` or `device`.
    #[schema(value_type = String, example = "person")]
    pub kind: EntityKind,
    /// The entity's id, masked: `500103********1234`, `**** 0128`, `138****5678`.
    #[schema(example = "500103********1234")]
    pub id_masked: String,
}

impl EntityView {
    pub fn new(handles: &Handles, entity: &EntityRef) -> EntityView {
        EntityView {
            handle: handles.seal(entity),
            kind: entity.kind,
            id_masked: masked(&entity.id, id_field(entity.kind)),
        }
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitView {
    pub entity: EntityView,
    /// What matched: `id`, `name`, `phone`.
    pub matched: String,
    /// A person's name or an account's bank, masked as personal data.
    pub label: String,
}

/// One attribute of a profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttributeView {
    /// A stable key (`name`, `community_code`, `bank_code`, …) the console translates.
    pub key: String,
    /// Masked when personal.
    pub value: String,
    /// How the value is personal: `plain`, `id_number`, `name`, `phone`, `card`, `text`,
    /// `device`.
    #[schema(value_type = String, example = "name")]
    pub field: Field,
    /// Whether this caller may reveal it (`POST /api/v1/reveal` with this key as `field`).
    pub revealable: bool,
}

/// An edge from the profiled entity to another.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkView {
    /// `holds_account`, `held_by`, `paid`, `called`, …: a key the console translates.
    pub relation: String,
    pub target: EntityView,
    /// How many events support the edge (1 for a holding).
    pub weight: u64,
    pub first_at: Option<TimeView>,
    pub last_at: Option<TimeView>,
}

/// One event of a profile's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub at: TimeView,
    /// `transfer_out`, `call_in`, `login`, `report`, `opened`, …
    pub what: String,
    pub counterparty: Option<EntityView>,
    pub amount_fen: Option<i64>,
    /// The amount in yuan, e.g. `1234.50`.
    pub amount_yuan: Option<String>,
    /// A short note (channel, duration, typology), long digit runs masked.
    pub note: String,
}

/// An entity's profile, masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub entity: EntityView,
    /// The community the entity belongs to, where known.
    pub community_code: Option<String>,
    pub attributes: Vec<AttributeView>,
    pub links: Vec<LinkView>,
    /// Newest first.
    pub history: Vec<EventView>,
    /// Whether this caller may reveal fields at all; the entity's own id is revealed with
    /// `field` = `id`.
    pub can_reveal: bool,
}

/// A reveal's answer: the one raw value asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevealView {
    pub entity: EntityView,
    pub field: String,
    /// Unmasked.
    pub value: String,
    /// The audit entry that records this reveal.
    pub audit_id: i64,
}

/// A person found by id, masked (the older person endpoint).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    /// Opens the full profile at `/api/v1/entities/{handle}`.
    pub handle: String,
    /// The identity document number, masked: `500103********1234`.
    #[schema(example = "500103********1234")]
    pub id_number: String,
    /// `resident_id`, `residence_permit`, `passport`, …
    pub id_kind: Option<String>,
    /// Masked: `张*`.
    #[schema(example = "张*")]
    pub name: Option<String>,
    /// Masked: `138****5678`.
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    /// The community (jurisdiction) the person belongs to.
    pub community_code: Option<String>,
    pub tags: Option<String>,
}

/// Figures summed over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// 警情: reports received.
    pub reports: u64,
    /// 发案: cases filed.
    pub cases: u64,
    /// 损失: reported losses, fen.
    pub loss_fen: i64,
    pub loss_yuan: String,
}

/// One Shanghai calendar day's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub reports: u64,
    pub cases: u64,
    pub loss_fen: i64,
}

/// Reports and losses of one typology over the window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypologyView {
    pub typology: String,
    pub reports: u64,
    pub loss_fen: i64,
    pub loss_yuan: String,
}

/// The dashboard: a window of whole Shanghai days ending at the data's end (historic or
/// simulated data) or now, its totals, and the previous window of equal length.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardView {
    pub days: u32,
    /// The window, `from` inclusive, `to` exclusive (Shanghai midnights).
    pub from: TimeView,
    pub to: TimeView,
    /// When these figures were computed: they are shared and refreshed every minute or so.
    pub as_of: TimeView,
    /// What the figures cover: `all`, `institution:CODE` or `jurisdiction:CODE`.
    pub scope: String,
    pub totals: Totals,
    /// The same figures over the window of equal length just before.
    pub previous: Totals,
    /// Every day of the window, oldest first.
    pub series: Vec<DayView>,
    /// Most reports first.
    pub by_typology: Vec<TypologyView>,
}

/// A user as the admin pages show them (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    #[schema(example = "analyst")]
    pub role: String,
    pub institution_code: Option<String>,
    pub jurisdiction_code: Option<String>,
    pub disabled: bool,
    pub disabled_at: Option<TimeView>,
    pub created_at: TimeView,
}

impl From<fanzha_store::UserRow> for UserView {
    fn from(u: fanzha_store::UserRow) -> Self {
        UserView {
            username: u.username,
            role: u.role.as_str().to_owned(),
            institution_code: u.institution_code,
            jurisdiction_code: u.jurisdiction_code,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at.map(TimeView::new),
            created_at: TimeView::new(u.created_at),
        }
    }
}

/// A new user, as the admin submits it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 1 to 64 characters: letters, digits, `_`, `-`, `.`.
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    #[schema(example = "station_officer")]
    pub role: String,
    /// Required for bank and carrier operators.
    pub institution_code: Option<String>,
    /// Required for station and community roles.
    pub jurisdiction_code: Option<String>,
}

/// An institution's API key as listed (never the key itself).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub id: i64,
    pub institution_code: String,
    #[schema(example = "bank_operator")]
    pub role: String,
    pub label: String,
    pub created_at: TimeView,
    pub revoked_at: Option<TimeView>,
    pub active: bool,
}

impl From<fanzha_store::ApiKeyRow> for KeyView {
    fn from(k: fanzha_store::ApiKeyRow) -> Self {
        KeyView {
            id: k.id,
            institution_code: k.institution_code,
            role: k.role.as_str().to_owned(),
            label: k.label,
            created_at: TimeView::new(k.created_at),
            revoked_at: k.revoked_at.map(TimeView::new),
            active: k.revoked_at.is_none(),
        }
    }
}

/// A new key, as the admin asks for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// The bank or carrier the key acts for.
    pub institution_code: String,
    /// `bank_operator` or `carrier_operator`.
    #[schema(example = "bank_operator")]
    pub role: String,
    /// What the key is for, e.g. `core banking`.
    pub label: String,
}

/// A key just made: the secret is in this answer and nowhere else, ever.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewKeyView {
    pub key: KeyView,
    /// `fzk_…`: send as `Authorization: Bearer …`.
    pub secret: String,
}

/// One audit entry, its detail masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: TimeView,
    /// `user:NAME`, `key:ID:INSTITUTION`, `cli:…`.
    pub actor: String,
    pub action: String,
    /// The entry's JSON detail with personal values masked.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The entry's chain hash.
    pub hash: String,
}

/// One page of the audit trail, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// Entries matching the filter, on all pages.
    pub total: u64,
    pub pages: u64,
}

/// The audit chain's verification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyView {
    /// Every entry's hash covers its content and the entry before.
    pub ok: bool,
    pub entries: u64,
    /// The id of the first entry that does not verify (altered, or after a deleted one).
    pub first_broken: Option<i64>,
}

/// An insider flag for the auditors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagView {
    pub id: i64,
    pub raised_at: TimeView,
    pub username: String,
    /// The Shanghai day the behaviour happened on.
    pub day: String,
    /// `peer_volume`, `own_baseline`, `out_of_scope`.
    pub rule: String,
    /// Why, in figures; personal values masked.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub reviewed_by: Option<String>,
}

/// One reason behind a warning: a rule hit or a feature's contribution, in both languages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonView {
    /// The rule's code for a rule hit, the feature's name otherwise.
    #[schema(example = "acct_pass_through_fast")]
    pub code: String,
    /// `rule`, `feature` or `model`.
    #[schema(value_type = String, example = "rule")]
    pub source: fanzha_store::ReasonSource,
    pub text_zh: String,
    pub text_en: String,
    /// Its share of the score, 0 to 1.
    pub contribution: f64,
}

/// A warning as the queue lists it: the warned entity masked and named by a handle (the
/// same handle opens the warning and the entity's profile).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningSummaryView {
    pub entity: EntityView,
    /// `account`, `sim`, `number` or `person`: what the warning is about (a `number`'s
    /// profile is a SIM's).
    #[schema(value_type = String, example = "account")]
    pub entity_type: fanzha_store::RiskEntity,
    /// The bank or carrier that owns the entity and receives the warning.
    pub institution_code: String,
    /// 0 to 100.
    pub score: u8,
    /// `red`, `orange` or `yellow`.
    #[schema(value_type = String, example = "red")]
    pub level: fanzha_store::WarningLevel,
    /// `mule`, `runner`, `sold_card`, `scam_caller_sim`, `sim_box`.
    #[schema(example = "mule")]
    pub pattern: String,
    /// `open`, `confirmed`, `false_alarm`, `action_taken`, `appealed`, `lifted`.
    #[schema(value_type = String, example = "open")]
    pub status: fanzha_store::WarningStatus,
    /// `reverify_identity`, `limit_non_counter`, `delay_settlement`, `suspend`.
    #[schema(value_type = String, example = "limit_non_counter")]
    pub measure: fanzha_store::Measure,
    pub version: i64,
    pub first_warned_at: TimeView,
    pub updated_at: TimeView,
}

/// A warning in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningView {
    #[serde(flatten)]
    pub summary: WarningSummaryView,
    /// Strongest first.
    pub reasons: Vec<ReasonView>,
    pub rules_version: Option<String>,
    pub model_version: Option<String>,
    /// Whether this caller may answer it (`POST /api/v1/warnings/{handle}/feedback`).
    pub can_answer: bool,
    /// Whether this caller may record an appeal against it
    /// (`POST /api/v1/warnings/{handle}/appeals`): a measure is in force and no appeal is
    /// pending.
    pub can_appeal: bool,
    /// Every stored version, oldest first: the warning's timeline.
    pub history: Vec<WarningVersionView>,
    /// Appeals against it, oldest first.
    pub appeals: Vec<super::governance::AppealView>,
}

/// One version of a warning as it was stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningVersionView {
    pub version: i64,
    pub score: u8,
    #[schema(value_type = String, example = "red")]
    pub level: fanzha_store::WarningLevel,
    pub pattern: String,
    /// The status it was stored with: `withdrawn` and `lifted` versions told the owner so.
    #[schema(value_type = String, example = "open")]
    pub status: fanzha_store::WarningStatus,
    pub model_version: Option<String>,
    pub at: TimeView,
    /// Strongest first.
    pub reasons: Vec<ReasonView>,
}

/// One page of the warning queue, newest evidence first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningPageView {
    pub warnings: Vec<WarningSummaryView>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// Whether a next page has warnings.
    pub has_more: bool,
}

/// Answers counted for one key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrecisionRowView {
    /// The pattern, institution code or rule code.
    pub key: String,
    pub confirmed: u64,
    pub false_alarm: u64,
    pub action_taken: u64,
    /// All answers.
    pub answered: u64,
    /// Confirmed or acted on, over all answers; `null` before any answer.
    pub precision: Option<f64>,
    /// False alarms over all answers; `null` before any answer.
    pub false_alarm_rate: Option<f64>,
}

/// Precision of the warnings, from the institutions' answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrecisionView {
    /// `pattern`, `institution`, `rule` or `age_group` (the holder's age this year:
    /// `under_25`, `25_39`, `40_59`, `60_plus`, `unknown`).
    pub by: String,
    /// Ordered by key.
    pub rows: Vec<PrecisionRowView>,
}

/// Warnings in the caller's scope by level, for the dashboard; each count stops at
/// `cap` (then shown as "cap+").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningCountsView {
    pub red: u64,
    pub orange: u64,
    pub yellow: u64,
    pub cap: u64,
    /// Exact counts per status, counted by the store (statuses with none are absent).
    pub by_status: Vec<super::governance::CountView>,
}

/// Masks the JSON detail of an audit entry or flag for display: an entity id by the kind
/// the action names (`lookup.person` → identity number), a search query as a name or digits,
/// and every other string's long digit runs.
pub fn masked_detail(action: &str, detail: &str) -> serde_json::Value {
    let kind = action
        .rsplit('.')
        .next()
        .and_then(EntityKind::parse)
        .filter(|_| action.starts_with("lookup.") || action.starts_with("reveal."));
    match serde_json::from_str::<serde_json::Value>(detail) {
        // A warning's entries name the warned entity's type beside its id.
        Ok(v) if action == "lookup.warning" || action == "warning.feedback" => {
            let kind = v["entity_type"]
                .as_str()
                .and_then(|t| t.parse::<fanzha_store::RiskEntity>().ok())
                .map(warned_kind);
            mask_value(None, v, kind)
        }
        Ok(v) => mask_value(None, v, kind),
        Err(_) => serde_json::Value::String(mask::digits_in_text(detail)),
    }
}

fn mask_value(
    key: Option<&str>,
    v: serde_json::Value,
    kind: Option<EntityKind>,
) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(match (key, kind) {
            (Some("id"), Some(kind)) => masked(&s, id_field(kind)),
            (Some("person_id" | "victim_id" | "holder_id"), _) => mask::id_number(&s),
            (Some("q" | "query"), _) => mask_query(&s),
            (Some("name"), _) => mask::name(&s),
            _ => mask::digits_in_text(&s),
        }),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| mask_value(key, i, kind))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let masked = mask_value(Some(&k), v, kind);
                    (k, masked)
                })
                .collect(),
        ),
        other => other,
    }
}

/// A typed search query: digits (an id, a phone, a card) keep only what the digit mask
/// keeps; anything without digits is taken for a name.
fn mask_query(q: &str) -> String {
    if q.chars().any(|c| c.is_ascii_digit()) {
        let m = mask::digits_in_text(q);
        // Short digit runs pass the text mask; a query is nothing but the identifier, so
        // mask it as one.
        if m == q {
            mask::id_number(q)
        } else {
            m
        }
    } else {
        mask::name(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_addresses_show_in_part() {
        assert_eq!(mask_device("10.2.33.44"), "10.2.*.*");
        assert_eq!(mask_device("2001:db8::1"), "2001:db8:*");
        assert_eq!(mask_device("866123456789012"), "866**********12");
        assert_eq!(mask_device("DEV-0000123456"), "DE**********56");
        assert_eq!(mask_device("ab"), "**");
    }

    #[test]
    fn free_text_keeps_at_most_its_region() {
        assert_eq!(mask_text("重庆市渝中区民族路88号"), "重庆市渝********");
        assert_eq!(mask_text("1990-01-01"), "**********");
        assert_eq!(mask_text("货款"), "**");
        assert_eq!(mask_text(""), "");
    }

    #[test]
    fn audit_details_are_masked_by_what_they_hold() {
        let d = masked_detail(
            "lookup.person",
            r#"{"id":"500103199001011234","community":"500103001001","found":true,"in_scope":false}"#,
        );
        assert_eq!(d["id"], "500103********1234");
        assert_eq!(d["found"], true);
        let d = masked_detail(
            "lookup.warning",
            r#"{"entity_type":"number","id":"13812345678","found":true}"#,
        );
        assert_eq!(d["id"], "138****5678");
        let d = masked_detail("lookup.account", r#"{"id":"6222021234567890128"}"#);
        assert_eq!(d["id"], "**** 0128");
        let d = masked_detail("search", r#"{"q":"张三丰","hits":2}"#);
        assert_eq!(
            (d["q"].as_str(), d["hits"].as_u64()),
            (Some("张**"), Some(2))
        );
        let d = masked_detail("search", r#"{"q":"13812345678"}"#);
        assert!(!d.to_string().contains("1381234"), "{d}");
        let d = masked_detail("search", r#"{"q":"123456"}"#);
        assert!(!d.to_string().contains("1234"), "{d}");
        let d = masked_detail(
            "reveal.sim",
            r#"{"id":"13812345678","reason":"核查 6222021234567890128 的资金流向","field":"id"}"#,
        );
        assert_eq!(d["id"], "138****5678");
        assert!(!d.to_string().contains("622202123"), "{d}");
        assert_eq!(
            masked_detail("x", "not json 6222021234567890128"),
            serde_json::json!("not json ***************0128")
        );
    }
}
