//! Deciding what a known record's re-arrival means, the same way in every backend:
//! an exact repeat, an allowed update, or a conflict naming the field that differs.

use fanzha_core::schema::{Role, Row, Schema, Value};
use sha2::{Digest, Sha256};

/// What a known record's re-arrival means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Unchanged,
    /// Only mutable columns differ: set them.
    Update,
    Conflict(String),
}

/// Compares a given row with the stored one (same key, same column layout).
pub(crate) fn classify(schema: &Schema, stored: &[Value], given: &Row) -> Verdict {
    let mut update = false;
    for ((col, s), g) in schema.columns.iter().zip(stored).zip(&given.values) {
        if s == g {
            continue;
        }
        if col.role == Role::Mutable {
            update = true;
        } else {
            return Verdict::Conflict(format!(
                "conflicts with the stored record: {} is {} there, {} here; only {} may change",
                col.name,
                shown(s),
                shown(g),
                mutable_list(schema),
            ));
        }
    }
    if update {
        Verdict::Update
    } else {
        Verdict::Unchanged
    }
}

pub(crate) fn conflict_field(reason: &str) -> Option<String> {
    reason
        .strip_prefix("conflicts with the stored record: ")
        .and_then(|r| r.split_once(' '))
        .map(|(f, _)| f.to_owned())
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "empty".to_owned(),
        Value::Int(i) => i.to_string(),
        Value::Text(s) => format!("`{s}`"),
    }
}

fn mutable_list(schema: &Schema) -> String {
    let names: Vec<_> = schema
        .columns
        .iter()
        .filter(|c| c.role == Role::Mutable)
        .map(|c| c.name)
        .collect();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

pub(crate) const AUDIT_GENESIS: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and the entry's fields, each length-prefixed so no two
/// different entries can serialise alike.
pub(crate) fn audit_hash(prev: &str, at: i64, actor: &str, action: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(at.to_le_bytes());
    for part in [actor, action, detail] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanzha_core::schema::Kind;

    fn account(class: &str, holder: &str) -> Row {
        Row {
            values: vec![
                Value::Text("6222020000000000001".into()),
                Value::Text("ICBC".into()),
                Value::Text(holder.into()),
                Value::Int(1),
                Value::Text(class.into()),
                Value::Text("active".into()),
            ],
            extra: None,
        }
    }

    #[test]
    fn mutable_changes_are_updates() {
        let s = Kind::Accounts.schema();
        let a = account("I", "p1");
        let b = account("II", "p1");
        assert_eq!(classify(s, &a.values, &b), Verdict::Update);
        assert_eq!(classify(s, &a.values, &a), Verdict::Unchanged);
    }

    #[test]
    fn fixed_changes_are_conflicts_naming_the_field() {
        let s = Kind::Accounts.schema();
        let a = account("I", "p1");
        let b = account("I", "p2");
        let Verdict::Conflict(reason) = classify(s, &a.values, &b) else {
            panic!("expected a conflict");
        };
        assert_eq!(conflict_field(&reason).as_deref(), Some("holder_id"));
        assert!(
            reason.contains("`p1`") && reason.contains("`p2`"),
            "{reason}"
        );
    }
}
