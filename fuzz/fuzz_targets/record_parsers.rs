//! Feeds arbitrary bytes to everything a data file passes through on its way in: the CSV
//! source (UTF-8, GBK, detected), the JSON-lines source, the CSV-as-grid reader used for
//! statements, and every field parser of `fanzha_core` that ingest applies to a value.
//!
//! The per-kind record parser (`fanzha_ingest::kinds`) is private, so the field parsers it
//! is built from are fuzzed directly on every decoded field. Besides "never panics", a few
//! properties the types promise are checked: normalising twice changes nothing, amounts and
//! instants survive a round trip through their display forms, a parsed card is seen as a card.
//!
//! Run with `cargo +nightly fuzz run record_parsers` (see README.md).

#![no_main]

use std::path::Path;
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;

use fanzha_core::schema::Kind;
use fanzha_core::vocab::{
    AppEvent, CallKind, FreezeMeasure, InstitutionKind, LeadSource, PlaceKind, ReportChannel,
    SimKind, Typology,
};
use fanzha_core::{
    account_form, mask, AccountClass, AccountForm, AccountNumber, AccountStatus, CardNumber,
    CreditCode, IdKind, Instant, JurisdictionCode, JurisdictionLevel, Money, Msisdn, PartyNumber,
    Passport, PersonId, ResidencePermit, ResidentId,
};
use fanzha_ingest::source::{CsvSource, JsonlSource};
use fanzha_ingest::{grid, Encoding, IngestOptions};

/// At most this many records per input, so a huge input cannot make one run slow.
const MAX_RECORDS: usize = 256;

fuzz_target!(|data: &[u8]| {
    let detected = Encoding::detect(data);
    for encoding in [detected, other(detected)] {
        csv(data, encoding);
    }
    jsonl(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(sheet) = grid::csv_as_sheet("fuzz", text) {
            for i in 0..sheet.rows.len().min(MAX_RECORDS) {
                let _ = sheet.row_as_csv(i);
                let _ = sheet.line_of(i);
                for cell in &sheet.rows[i] {
                    let _ = cell.is_empty();
                    fields(&cell.text());
                }
            }
        }
        // The whole input, and each line of it, as a single value too.
        fields(text);
        for line in text.lines().take(MAX_RECORDS) {
            fields(line);
        }
    }
});

fn other(e: Encoding) -> Encoding {
    match e {
        Encoding::Utf8 => Encoding::Gbk,
        Encoding::Gbk => Encoding::Utf8,
    }
}

fn csv(data: &[u8], encoding: Encoding) {
    let Ok(Some(mut src)) = CsvSource::new(data, encoding) else { return };
    let header = src.header.clone();
    for h in &header {
        let _ = Kind::from_str(h);
        let _ = fanzha_ingest::target_of(Path::new(&format!("{h}.csv")), &IngestOptions::default());
        assert_eq!(h.trim(), h, "header names are trimmed");
    }
    let mut last = src.position();
    for _ in 0..MAX_RECORDS {
        let Some(next) = src.next_record() else { break };
        let pos = src.position();
        assert!(pos >= last, "the byte position never goes back");
        last = pos;
        match next {
            Ok(raw) => {
                assert_eq!(raw.fields.len(), header.len(), "a record that is not rejected has the header's width");
                assert!(raw.original.len() <= data.len());
                for f in &raw.fields {
                    fields(f);
                }
            }
            Err(reject) => {
                assert!(!reject.reason.is_empty());
                assert!(reject.original.len() <= data.len());
            }
        }
    }
}

fn jsonl(data: &[u8]) {
    let mut src = JsonlSource::new(data, fanzha_core::schema::Kind::Calls);
    for _ in 0..MAX_RECORDS {
        match src.next_object() {
            None | Some(Err(_)) => break,
            Some(Ok(Err(reject))) => assert!(!reject.reason.is_empty()),
            Some(Ok(Ok((_line, _original, pairs)))) => {
                for (k, v) in &pairs {
                    let _ = Kind::from_str(k);
                    fields(v);
                }
            }
        }
    }
}

/// Every field parser ingest applies, on one value.
fn fields(s: &str) {
    ids(s);
    accounts(s);
    phones(s);
    money(s);
    instants(s);
    vocabularies(s);
    let _ = mask::id_number(s);
    let _ = mask::phone(s);
    let _ = mask::card(s);
    let _ = mask::name(s);
}

fn ids(s: &str) {
    let _ = IdKind::from_str(s);
    for kind in IdKind::ALL {
        if let Ok(id) = PersonId::parse(kind, s) {
            assert_eq!(id.kind(), kind);
            // Normalisation (an upper-cased check X) is idempotent.
            let again = PersonId::parse(kind, id.as_str()).expect("a parsed id parses again");
            assert_eq!(again, id);
            let _ = id.birth_date();
            let _ = id.masked();
        }
    }
    if let Ok(id) = ResidentId::parse(s) {
        let _ = id.birth_date();
        let _ = id.region_code();
        let _ = id.is_male();
        let _ = id.masked();
    }
    let _ = ResidencePermit::parse_foreign_permanent(s);
    let _ = ResidencePermit::parse_hmt(s);
    let _ = CreditCode::parse(s);
    let _ = Passport::parse(s);
}

fn accounts(s: &str) {
    let _ = AccountClass::from_str(s);
    let _ = AccountStatus::from_str(s);
    let form = account_form(s);
    if let Ok(card) = CardNumber::parse(s) {
        assert_eq!(form, AccountForm::Card, "a valid card is seen as a card: {s:?}");
        assert_eq!(card.as_str(), s);
        let _ = card.masked();
    }
    let classes = std::iter::once(None).chain(AccountClass::ALL.into_iter().map(Some));
    for class in classes {
        if let Ok(n) = AccountNumber::parse(class, s) {
            assert_eq!(n.as_str(), s, "account numbers are kept as given");
            let _ = n.masked();
        }
    }
}

fn phones(s: &str) {
    if let Ok(m) = Msisdn::parse(s) {
        assert_eq!(m.as_str(), s);
        let _ = m.is_iot();
        let _ = m.carrier_hint();
        let _ = m.masked();
        assert!(PartyNumber::parse(s).is_ok(), "a subscriber number is a party number");
    }
    if let Ok(p) = PartyNumber::parse(s) {
        assert_eq!(p.original(), s, "the original is kept");
        let _ = p.normalized();
        let _ = p.class().is_risk_signal();
        let _ = p.country_code();
        let _ = p.carrier_hint();
        let _ = p.masked();
    }
}

fn money(s: &str) {
    if let Ok(m) = Money::parse_fen(s) {
        let back = Money::parse_yuan(&m.yuan_string());
        assert_eq!(back, Ok(m), "fen {s:?} survive the yuan display form");
    }
    if let Ok(m) = Money::parse_yuan(s) {
        let _ = m.yuan_string();
        let _ = m.checked_add(m);
        let _ = m.checked_mul(100);
    }
}

fn instants(s: &str) {
    if let Ok(t) = Instant::parse_rfc3339(s) {
        let shown = t.to_rfc3339_shanghai();
        let back = Instant::parse_rfc3339(&shown).expect("a shown instant parses back");
        assert_eq!(back.micros(), t.micros(), "{s:?} shown as {shown:?}");
        assert_eq!(Instant::from_micros(t.micros()), Some(t));
    }
}

fn vocabularies(s: &str) {
    let _ = Kind::from_str(s);
    if let Ok(c) = JurisdictionCode::parse(s) {
        assert_eq!(c.as_str(), s);
    }
    let _ = JurisdictionLevel::from_str(s);
    macro_rules! closed {
        ($($t:ty),+) => {$(
            if let Ok(v) = <$t>::from_str(s) {
                assert_eq!(v.as_str(), s, "closed words are exact");
            }
        )+};
    }
    closed!(Typology, ReportChannel, LeadSource, FreezeMeasure, InstitutionKind, PlaceKind, SimKind, CallKind, AppEvent);
}
