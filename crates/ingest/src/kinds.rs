//! Parsing each kind's record into its stored row, checking every value against the
//! contract in DATA.md with the domain types of `fanzha_core`.

use std::str::FromStr;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::vocab::{
    AppEvent, CallKind, FreezeMeasure, InstitutionKind, LeadSource, PlaceKind, ReportChannel,
    SimKind, Typology,
};
use fanzha_core::{
    account_form, AccountClass, AccountNumber, AccountStatus, IdKind, Instant, JurisdictionCode,
    JurisdictionLevel, Money, Msisdn, PartyNumber, PersonId,
};

use crate::record::{FieldError, Record};

type Parsed<T> = Result<T, FieldError>;

/// Parses one record of `kind` into the kind's stored layout.
pub fn parse(kind: Kind, r: &mut Record<'_>) -> Parsed<Row> {
    let extra = r.extra();
    let values = match kind {
        Kind::Jurisdictions => jurisdiction(r)?,
        Kind::Institutions => vec![
            key(r, "code")?,
            required(r, "name")?,
            vocab::<InstitutionKind>(r, "kind")?,
        ],
        Kind::Places => place(r)?,
        Kind::Persons => person(r)?,
        Kind::Accounts => account(r)?,
        Kind::Sims => sim(r)?,
        Kind::Balances => vec![
            key(r, "account_id")?,
            instant(r, "as_of")?,
            fen(r, "balance_fen", Sign::ZeroOrMore)?,
        ],
        Kind::Transactions => transaction(r)?,
        Kind::Calls => {
            let mut v = vec![key(r, "call_id")?, instant(r, "ts")?];
            v.extend(party(r, "caller")?);
            v.extend(party(r, "callee")?);
            v.push(count(r, "duration_s")?);
            v.push(opt_vocab::<CallKind>(r, "kind")?);
            v.push(optional(r, "cell_id"));
            v.push(optional(r, "imei"));
            v
        }
        Kind::Sms => {
            let mut v = vec![key(r, "sms_id")?, instant(r, "ts")?];
            v.extend(party(r, "sender")?);
            v.extend(party(r, "receiver")?);
            v.push(optional(r, "text"));
            v.push(optional(r, "cell_id"));
            v
        }
        Kind::Logins => vec![
            key(r, "event_id")?,
            instant(r, "ts")?,
            required(r, "subject")?,
            required(r, "device_id")?,
            optional(r, "ip"),
            optional(r, "cell_id"),
        ],
        Kind::AppEvents => vec![
            key(r, "event_id")?,
            instant(r, "ts")?,
            msisdn(r, "msisdn")?,
            vocab::<AppEvent>(r, "event")?,
            required(r, "app")?,
            optional(r, "risk_label"),
        ],
        Kind::Reports => vec![
            key(r, "report_id")?,
            instant(r, "ts")?,
            key(r, "victim_id")?,
            vocab::<Typology>(r, "typology")?,
            fen(r, "loss_fen", Sign::Positive)?,
            optional(r, "description"),
            opt_jurisdiction(r, "community_code")?,
            opt_vocab::<ReportChannel>(r, "channel")?,
        ],
        Kind::ReportPayments => vec![key(r, "report_id")?, key(r, "tx_id")?],
        Kind::Leads => lead(r)?,
        Kind::Cases => case(r)?,
        Kind::ExternalFreezes => {
            let registered = instant(r, "registered_at")?;
            let expires = opt_instant_after(r, "expires_at", &registered, "registered_at")?;
            vec![
                key(r, "account_id")?,
                required(r, "authority")?,
                vocab::<FreezeMeasure>(r, "measure")?,
                registered,
                // A release lifts a measure and may carry a zero amount.
                fen(r, "amount_fen", Sign::ZeroOrMore)?,
                expires,
                optional(r, "document_no"),
            ]
        }
    };
    Ok(Row { values, extra })
}

fn jurisdiction(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let code = jurisdiction_code(r, "code")?;
    let name = required(r, "name")?;
    let level: JurisdictionLevel = r
        .get("level")
        .parse()
        .map_err(|e: fanzha_core::JurisdictionError| FieldError::new("level", e.to_string()))?;
    let parent = r.get("parent_code");
    let parent = if parent.is_empty() {
        if level != JurisdictionLevel::District {
            return Err(FieldError::new(
                "parent_code",
                format!("is empty, but a {} needs its parent", level.as_str()),
            ));
        }
        Value::Null
    } else {
        jurisdiction_code(r, "parent_code")?
    };
    Ok(vec![
        code,
        name,
        Value::Text(level.as_str().to_owned()),
        parent,
        optional(r, "police_station"),
    ])
}

fn place(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let lat = coordinate(r, "lat", 90.0)?;
    let lon = coordinate(r, "lon", 180.0)?;
    Ok(vec![
        key(r, "place_id")?,
        vocab::<PlaceKind>(r, "kind")?,
        jurisdiction_code(r, "community_code")?,
        optional(r, "name"),
        optional(r, "address"),
        lat,
        lon,
    ])
}

fn person(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let kind = match r.get("id_kind") {
        "" => IdKind::default(),
        k => IdKind::from_str(k).map_err(|e| FieldError::new("id_kind", e.to_string()))?,
    };
    let id = PersonId::parse(kind, r.get("person_id"))
        .map_err(|e| FieldError::new("person_id", e.to_string()))?;
    let birth = id.birth_date().map_or(Value::Null, |d| {
        Value::Text(d.format("%Y-%m-%d").to_string())
    });
    let phone = match r.get("phone") {
        "" => Value::Null,
        p => Value::Text(
            PartyNumber::parse(p)
                .map_err(|e| FieldError::new("phone", e.to_string()))?
                .original()
                .to_owned(),
        ),
    };
    let tags = r.get("tags");
    if tags.split('|').any(|t| t.trim().is_empty()) && !tags.is_empty() {
        return Err(FieldError::new(
            "tags",
            "has an empty tag; separate tags with a single `|`",
        ));
    }
    Ok(vec![
        // Checked by its kind's rules, but stored as given (DATA.md: identifiers are kept
        // exactly), so a `…002x` here still joins with the same text in accounts and sims.
        Value::Text(r.get("person_id").to_owned()),
        Value::Text(kind.as_str().to_owned()),
        required(r, "name")?,
        jurisdiction_code(r, "community_code")?,
        phone,
        optional(r, "address"),
        optional(r, "tags"),
        birth,
    ])
}

fn account(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let class = match r.get("class") {
        "" => None,
        c => Some(AccountClass::from_str(c).map_err(|e| FieldError::new("class", e.to_string()))?),
    };
    let number = AccountNumber::parse(class, r.get("account_id"))
        .map_err(|e| FieldError::new("account_id", e.to_string()))?;
    let status = match r.get("status") {
        "" => Value::Null,
        s => Value::Text(
            AccountStatus::from_str(s)
                .map_err(|e| FieldError::new("status", e.to_string()))?
                .as_str()
                .to_owned(),
        ),
    };
    Ok(vec![
        Value::Text(number.as_str().to_owned()),
        key(r, "bank_code")?,
        key(r, "holder_id")?,
        instant(r, "opened_at")?,
        class.map_or(Value::Null, |c| Value::Text(c.as_str().to_owned())),
        status,
    ])
}

fn sim(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let activated = instant(r, "activated_at")?;
    let deactivated = opt_instant_after(r, "deactivated_at", &activated, "activated_at")?;
    Ok(vec![
        msisdn(r, "msisdn")?,
        activated,
        key(r, "carrier")?,
        key(r, "holder_id")?,
        opt_vocab::<SimKind>(r, "kind")?,
        deactivated,
    ])
}

fn transaction(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let channel = required(r, "channel")?;
    let ch = channel.as_text().unwrap_or_default();
    let from = r.take("from_account");
    let to = r.take("to_account");
    // Cash enters with no sender and leaves with no receiver; every other channel has both.
    if from.is_empty() && ch != "cash_deposit" {
        return Err(FieldError::new(
            "from_account",
            format!("is empty, which only a cash_deposit may be (channel is `{ch}`)"),
        ));
    }
    if to.is_empty() && ch != "atm_withdrawal" {
        return Err(FieldError::new(
            "to_account",
            format!("is empty, which only an atm_withdrawal may be (channel is `{ch}`)"),
        ));
    }
    let form = |s: &str| {
        if s.is_empty() {
            Value::Null
        } else {
            Value::Text(account_form(s).as_str().to_owned())
        }
    };
    let (from_form, to_form) = (form(&from), form(&to));
    Ok(vec![
        key(r, "tx_id")?,
        instant(r, "ts")?,
        Value::text_or_null(&from),
        Value::text_or_null(&to),
        fen(r, "amount_fen", Sign::Positive)?,
        channel,
        optional(r, "memo"),
        optional(r, "device_id"),
        optional(r, "ip"),
        optional(r, "cell_id"),
        from_form,
        to_form,
    ])
}

fn lead(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    if ["person_id", "msisdn", "account_id"]
        .iter()
        .all(|f| r.get(f).is_empty())
    {
        return Err(FieldError {
            field: None,
            reason: "names no one: at least one of person_id, msisdn, account_id is needed"
                .to_owned(),
        });
    }
    let msisdn = match r.get("msisdn") {
        "" => Value::Null,
        _ => msisdn(r, "msisdn")?,
    };
    Ok(vec![
        key(r, "lead_id")?,
        instant(r, "ts")?,
        vocab::<LeadSource>(r, "source")?,
        required(r, "reason")?,
        optional(r, "person_id"),
        msisdn,
        optional(r, "account_id"),
        opt_vocab::<Typology>(r, "typology")?,
    ])
}

fn case(r: &mut Record<'_>) -> Parsed<Vec<Value>> {
    let filed = instant(r, "filed_at")?;
    let solved = opt_instant_after(r, "solved_at", &filed, "filed_at")?;
    let reports = r.get("report_ids");
    if reports.is_empty() || reports.split('|').any(|s| s.trim().is_empty()) {
        return Err(FieldError::new(
            "report_ids",
            "must list report ids separated by `|`, with none empty",
        ));
    }
    let opt_count = |r: &Record<'_>, f: &str| {
        if r.get(f).is_empty() {
            Ok(Value::Null)
        } else {
            count(r, f)
        }
    };
    Ok(vec![
        key(r, "case_id")?,
        filed,
        required(r, "report_ids")?,
        solved,
        opt_count(r, "suspects_arrested")?,
        opt_count(r, "suspects_prosecuted")?,
    ])
}

// --- field helpers -------------------------------------------------------------------

/// An identifier: required, kept exactly as given, no surrounding whitespace (a stray space
/// would make two records of one thing).
fn key(r: &mut Record<'_>, f: &str) -> Parsed<Value> {
    let v = r.take(f);
    if v.is_empty() {
        return Err(FieldError::new(f, "is empty"));
    }
    if v.trim() != v {
        return Err(FieldError::new(
            f,
            format!("`{v}` has leading or trailing whitespace"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(f, "contains a control character"));
    }
    Ok(Value::Text(v))
}

fn required(r: &mut Record<'_>, f: &str) -> Parsed<Value> {
    let v = r.take(f);
    if v.trim().is_empty() {
        return Err(FieldError::new(f, "is empty"));
    }
    Ok(Value::Text(v))
}

fn optional(r: &mut Record<'_>, f: &str) -> Value {
    let v = r.take(f);
    if v.is_empty() {
        Value::Null
    } else {
        Value::Text(v)
    }
}

fn vocab<T: FromStr<Err = fanzha_core::vocab::VocabError> + Copy + Into<&'static str>>(
    r: &Record<'_>,
    f: &str,
) -> Parsed<Value> {
    let s = r.get(f);
    if s.is_empty() {
        return Err(FieldError::new(f, "is empty"));
    }
    let v: T = s
        .parse()
        .map_err(|e: fanzha_core::vocab::VocabError| FieldError::new(f, e.to_string()))?;
    Ok(Value::Text(v.into().to_owned()))
}

fn opt_vocab<T: FromStr<Err = fanzha_core::vocab::VocabError> + Copy + Into<&'static str>>(
    r: &Record<'_>,
    f: &str,
) -> Parsed<Value> {
    if r.get(f).is_empty() {
        Ok(Value::Null)
    } else {
        vocab::<T>(r, f)
    }
}

fn instant(r: &Record<'_>, f: &str) -> Parsed<Value> {
    let s = r.get(f);
    if s.is_empty() {
        return Err(FieldError::new(f, "is empty"));
    }
    Instant::parse_rfc3339(s)
        .map(|i| Value::Int(i.micros()))
        .map_err(|e| FieldError::new(f, e.to_string()))
}

/// An optional instant that, when given, may not be before `after` (the `after_name` field).
fn opt_instant_after(r: &Record<'_>, f: &str, after: &Value, after_name: &str) -> Parsed<Value> {
    if r.get(f).is_empty() {
        return Ok(Value::Null);
    }
    let v = instant(r, f)?;
    if let (Some(t), Some(a)) = (v.as_int(), after.as_int()) {
        if t < a {
            return Err(FieldError::new(
                f,
                format!("`{}` is before {after_name}", r.get(f)),
            ));
        }
    }
    Ok(v)
}

#[derive(Clone, Copy)]
enum Sign {
    Positive,
    ZeroOrMore,
}

fn fen(r: &Record<'_>, f: &str, sign: Sign) -> Parsed<Value> {
    let s = r.get(f);
    if s.is_empty() {
        return Err(FieldError::new(f, "is empty"));
    }
    let m = Money::parse_fen(s).map_err(|e| {
        FieldError::new(
            f,
            format!("`{s}`: {e} (integer fen expected, 1 yuan = 100 fen)"),
        )
    })?;
    match sign {
        Sign::Positive if m.fen() <= 0 => {
            Err(FieldError::new(f, format!("must be positive, got {s}")))
        }
        Sign::ZeroOrMore if m.fen() < 0 => {
            Err(FieldError::new(f, format!("must not be negative, got {s}")))
        }
        _ => Ok(Value::Int(m.fen())),
    }
}

fn count(r: &Record<'_>, f: &str) -> Parsed<Value> {
    let s = r.get(f);
    match s.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Value::Int(n)),
        _ => Err(FieldError::new(
            f,
            format!("`{s}` is not a whole number of zero or more"),
        )),
    }
}

fn msisdn(r: &Record<'_>, f: &str) -> Parsed<Value> {
    Msisdn::parse(r.get(f))
        .map(|m| Value::Text(m.as_str().to_owned()))
        .map_err(|e| FieldError::new(f, e.to_string()))
}

/// Another party's number: the original, its normal form and its class. Never rejected for
/// its form, only when absent.
fn party(r: &Record<'_>, f: &str) -> Parsed<[Value; 3]> {
    let p = PartyNumber::parse(r.get(f)).map_err(|e| FieldError::new(f, e.to_string()))?;
    Ok([
        Value::Text(p.original().to_owned()),
        Value::Text(p.normalized().to_owned()),
        Value::Text(p.class().as_str().to_owned()),
    ])
}

fn jurisdiction_code(r: &Record<'_>, f: &str) -> Parsed<Value> {
    JurisdictionCode::parse(r.get(f))
        .map(|c| Value::Text(c.as_str().to_owned()))
        .map_err(|e| FieldError::new(f, e.to_string()))
}

fn opt_jurisdiction(r: &Record<'_>, f: &str) -> Parsed<Value> {
    if r.get(f).is_empty() {
        Ok(Value::Null)
    } else {
        jurisdiction_code(r, f)
    }
}

fn coordinate(r: &Record<'_>, f: &str, limit: f64) -> Parsed<Value> {
    let s = r.get(f);
    if s.is_empty() {
        return Ok(Value::Null);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(Value::Text(s.to_owned())),
        _ => Err(FieldError::new(
            f,
            format!("`{s}` is not a number between -{limit} and {limit}"),
        )),
    }
}
