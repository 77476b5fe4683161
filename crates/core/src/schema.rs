//! Record kinds and their field contracts: what each interchange file must and may carry
//! (`DATA.md`), and the stored layout a parsed record takes.
//!
//! The stored layout lives here, beside the contract, because it is shared by the three
//! places that must agree on it: ingest produces [`Row`]s in this layout, the store persists
//! them, and the simulator writes the input fields. It names columns, not SQL: only the store
//! knows a dialect.

use std::fmt;
use std::str::FromStr;

/// One kind of interchange record; its name is the file stem and the stored table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Jurisdictions,
    Institutions,
    Places,
    Persons,
    Accounts,
    Sims,
    Balances,
    Transactions,
    Calls,
    Sms,
    Logins,
    AppEvents,
    Reports,
    ReportPayments,
    Leads,
    Cases,
    ExternalFreezes,
}

/// Fields a JSON-lines record may give as numbers: counts, amounts and coordinates. Every
/// other field, identifiers above all, must be a string (a number would have lost its
/// leading zeros before anyone saw it).
pub const JSON_NUMERIC_FIELDS: &[&str] = &[
    "amount_fen",
    "balance_fen",
    "loss_fen",
    "duration_s",
    "suspects_arrested",
    "suspects_prosecuted",
    "lat",
    "lon",
];

/// How a stored value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    /// A 64-bit integer: fen, seconds, or an instant as UTC microseconds since the epoch.
    Int,
}

/// What a column means for a record's identity (DATA.md, "Identity of a record").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Part of the record's identity.
    Key,
    /// Fixed once stored: a different value for a known record is a conflict.
    Fixed,
    /// May change on re-ingest (status, class, deactivation): an update.
    Mutable,
}

/// One stored column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub role: Role,
}

const fn col(name: &'static str, ty: ColType, role: Role) -> Column {
    Column { name, ty, role }
}
const fn key(name: &'static str) -> Column {
    col(name, ColType::Text, Role::Key)
}
const fn text(name: &'static str) -> Column {
    col(name, ColType::Text, Role::Fixed)
}
const fn int(name: &'static str) -> Column {
    col(name, ColType::Int, Role::Fixed)
}

/// The contract of one kind: input fields and stored columns.
#[derive(Debug)]
pub struct Schema {
    pub kind: Kind,
    /// Fields every file of this kind must have as columns.
    pub required: &'static [&'static str],
    /// Fields with a meaning when present; any other column is kept as an extra.
    pub optional: &'static [&'static str],
    /// The stored layout; a [`Row`] holds one value per column, in this order.
    pub columns: &'static [Column],
}

impl Schema {
    /// Index of a stored column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Whether `field` has a meaning for this kind.
    pub fn is_known_field(&self, field: &str) -> bool {
        self.required.contains(&field) || self.optional.contains(&field)
    }

    pub fn key_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.role == Role::Key)
    }

    /// Positions in a [`Row`] of the key columns.
    pub fn key_indices(&self) -> Vec<usize> {
        self.indices_of(Role::Key)
    }

    /// Positions in a [`Row`] of the columns with this role.
    pub fn indices_of(&self, role: Role) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == role)
            .map(|(i, _)| i)
            .collect()
    }
}

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    /// Text, or `Null` for an empty string (empty optional fields are stored as absent).
    pub fn text_or_null(s: &str) -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            Value::Text(s.to_owned())
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("(empty)"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// One parsed record in its kind's stored layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub values: Vec<Value>,
    /// Columns outside the contract, kept with the record as a JSON object (no meaning).
    pub extra: Option<String>,
}

use ColType::Int as I;
use Role::Mutable as M;

static SCHEMAS: [Schema; 17] = [
    Schema {
        kind: Kind::Jurisdictions,
        required: &["code", "name", "level", "parent_code"],
        optional: &["police_station"],
        columns: &[
            key("code"),
            text("name"),
            text("level"),
            text("parent_code"),
            text("police_station"),
        ],
    },
    Schema {
        kind: Kind::Institutions,
        required: &["code", "name", "kind"],
        optional: &[],
        columns: &[key("code"), text("name"), text("kind")],
    },
    Schema {
        kind: Kind::Places,
        required: &["place_id", "kind", "community_code"],
        optional: &["name", "address", "lat", "lon"],
        columns: &[
            key("place_id"),
            text("kind"),
            text("community_code"),
            text("name"),
            text("address"),
            // Kept as the decimal text given, so a re-ingest compares exactly.
            text("lat"),
            text("lon"),
        ],
    },
    Schema {
        kind: Kind::Persons,
        required: &["person_id", "name", "community_code"],
        optional: &["id_kind", "phone", "address", "tags"],
        columns: &[
            key("person_id"),
            text("id_kind"),
            text("name"),
            text("community_code"),
            text("phone"),
            text("address"),
            text("tags"),
            // Derived from the id where it carries one: YYYY-MM-DD.
            text("birth_date"),
        ],
    },
    Schema {
        kind: Kind::Accounts,
        required: &["account_id", "bank_code", "holder_id", "opened_at"],
        optional: &["class", "status"],
        columns: &[
            key("account_id"),
            text("bank_code"),
            text("holder_id"),
            int("opened_at"),
            col("class", ColType::Text, M),
            col("status", ColType::Text, M),
        ],
    },
    Schema {
        kind: Kind::Sims,
        required: &["msisdn", "carrier", "holder_id", "activated_at"],
        optional: &["kind", "deactivated_at"],
        columns: &[
            key("msisdn"),
            // A recycled number is a new holding, so activation is part of the identity.
            col("activated_at", I, Role::Key),
            text("carrier"),
            text("holder_id"),
            // DATA.md lets a holding change only its deactivation: a personal SIM that
            // becomes an IoT one is a conflict, not an update.
            text("kind"),
            col("deactivated_at", I, M),
        ],
    },
    Schema {
        kind: Kind::Balances,
        required: &["account_id", "as_of", "balance_fen"],
        optional: &[],
        columns: &[
            key("account_id"),
            col("as_of", I, Role::Key),
            int("balance_fen"),
        ],
    },
    Schema {
        kind: Kind::Transactions,
        required: &[
            "tx_id",
            "ts",
            "from_account",
            "to_account",
            "amount_fen",
            "channel",
        ],
        optional: &["memo", "device_id", "ip", "cell_id"],
        columns: &[
            key("tx_id"),
            int("ts"),
            text("from_account"),
            text("to_account"),
            int("amount_fen"),
            text("channel"),
            text("memo"),
            text("device_id"),
            text("ip"),
            text("cell_id"),
            // The form of each side's number (card, digits, other): counterparties are
            // never rejected for their form, only marked.
            text("from_form"),
            text("to_form"),
        ],
    },
    Schema {
        kind: Kind::Calls,
        required: &["call_id", "ts", "caller", "callee", "duration_s"],
        optional: &["kind", "cell_id", "imei"],
        columns: &[
            key("call_id"),
            int("ts"),
            text("caller"),
            text("caller_norm"),
            text("caller_class"),
            text("callee"),
            text("callee_norm"),
            text("callee_class"),
            int("duration_s"),
            text("kind"),
            text("cell_id"),
            text("imei"),
        ],
    },
    Schema {
        kind: Kind::Sms,
        required: &["sms_id", "ts", "sender", "receiver"],
        optional: &["text", "cell_id"],
        columns: &[
            key("sms_id"),
            int("ts"),
            text("sender"),
            text("sender_norm"),
            text("sender_class"),
            text("receiver"),
            text("receiver_norm"),
            text("receiver_class"),
            text("text"),
            text("cell_id"),
        ],
    },
    Schema {
        kind: Kind::Logins,
        required: &["event_id", "ts", "subject", "device_id"],
        optional: &["ip", "cell_id"],
        columns: &[
            key("event_id"),
            int("ts"),
            text("subject"),
            text("device_id"),
            text("ip"),
            text("cell_id"),
        ],
    },
    Schema {
        kind: Kind::AppEvents,
        required: &["event_id", "ts", "msisdn", "event", "app"],
        optional: &["risk_label"],
        columns: &[
            key("event_id"),
            int("ts"),
            text("msisdn"),
            text("event"),
            text("app"),
            text("risk_label"),
        ],
    },
    Schema {
        kind: Kind::Reports,
        required: &["report_id", "ts", "victim_id", "typology", "loss_fen"],
        optional: &["description", "community_code", "channel"],
        columns: &[
            key("report_id"),
            int("ts"),
            text("victim_id"),
            text("typology"),
            int("loss_fen"),
            text("description"),
            text("community_code"),
            text("channel"),
        ],
    },
    Schema {
        kind: Kind::ReportPayments,
        required: &["report_id", "tx_id"],
        optional: &[],
        columns: &[key("report_id"), key("tx_id")],
    },
    Schema {
        kind: Kind::Leads,
        required: &["lead_id", "ts", "source", "reason"],
        optional: &["person_id", "msisdn", "account_id", "typology"],
        columns: &[
            key("lead_id"),
            int("ts"),
            text("source"),
            text("reason"),
            text("person_id"),
            text("msisdn"),
            text("account_id"),
            text("typology"),
        ],
    },
    Schema {
        kind: Kind::Cases,
        required: &["case_id", "filed_at", "report_ids"],
        optional: &["solved_at", "suspects_arrested", "suspects_prosecuted"],
        columns: &[
            key("case_id"),
            int("filed_at"),
            text("report_ids"),
            int("solved_at"),
            int("suspects_arrested"),
            int("suspects_prosecuted"),
        ],
    },
    Schema {
        kind: Kind::ExternalFreezes,
        required: &[
            "account_id",
            "authority",
            "measure",
            "amount_fen",
            "registered_at",
        ],
        optional: &["expires_at", "document_no"],
        // The kind has no id field: a measure is identified by who registered what, when.
        columns: &[
            key("account_id"),
            key("authority"),
            key("measure"),
            col("registered_at", I, Role::Key),
            int("amount_fen"),
            int("expires_at"),
            text("document_no"),
        ],
    },
];

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Jurisdictions,
        Kind::Institutions,
        Kind::Places,
        Kind::Persons,
        Kind::Accounts,
        Kind::Sims,
        Kind::Balances,
        Kind::Transactions,
        Kind::Calls,
        Kind::Sms,
        Kind::Logins,
        Kind::AppEvents,
        Kind::Reports,
        Kind::ReportPayments,
        Kind::Leads,
        Kind::Cases,
        Kind::ExternalFreezes,
    ];

    /// The file stem and table name, e.g. `app_events`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Jurisdictions => "jurisdictions",
            Kind::Institutions => "institutions",
            Kind::Places => "places",
            Kind::Persons => "persons",
            Kind::Accounts => "accounts",
            Kind::Sims => "sims",
            Kind::Balances => "balances",
            Kind::Transactions => "transactions",
            Kind::Calls => "calls",
            Kind::Sms => "sms",
            Kind::Logins => "logins",
            Kind::AppEvents => "app_events",
            Kind::Reports => "reports",
            Kind::ReportPayments => "report_payments",
            Kind::Leads => "leads",
            Kind::Cases => "cases",
            Kind::ExternalFreezes => "external_freezes",
        }
    }

    pub fn schema(self) -> &'static Schema {
        // SCHEMAS is declared in the order of ALL; the test below keeps it so.
        &SCHEMAS[self as usize]
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown kind name.
#[derive(Debug, thiserror::Error)]
#[error("unknown kind `{0}`; expected one of: {list}", list = Kind::ALL.map(Kind::as_str).join(", "))]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_in_kind_order_and_consistent() {
        for kind in Kind::ALL {
            let s = kind.schema();
            assert_eq!(s.kind, kind);
            assert!(s.key_columns().count() >= 1, "{kind} has no key");
            for f in s.required {
                assert!(
                    !s.optional.contains(f),
                    "{kind}.{f} both required and optional"
                );
            }
            let mut names: Vec<_> = s.columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), s.columns.len(), "{kind} repeats a column");
        }
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().ok(), Some(kind));
        }
        let err = "transaction".parse::<Kind>().unwrap_err().to_string();
        assert!(err.contains("transactions"), "{err}");
    }
}
