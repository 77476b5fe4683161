//! Person and organisation identifiers: resident identity card numbers,
//! residence permits for foreigners and for Hong Kong, Macau and Taiwan
//! residents, passports, and unified social credit codes for companies.
//!
//! Every value here has passed its structural check (length, character set,
//! birth date, check character), so a typo in an ingested file is caught at
//! the boundary instead of silently splitting one person into two.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::Serialize;
use thiserror::Error;

use crate::mask;

/// Why an identifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("unknown id kind {0:?}; expected one of resident, foreign_permanent, hmt_permit, passport, company")]
    UnknownKind(String),
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} has leading or trailing whitespace")]
    Whitespace { what: &'static str },
    #[error("{what} must be {expected} characters, got {got}")]
    Length {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what} must be {min} to {max} characters, got {got}")]
    LengthRange {
        what: &'static str,
        min: usize,
        max: usize,
        got: usize,
    },
    #[error("{what} has invalid character {ch:?} at position {position}; {expected}")]
    InvalidChar {
        what: &'static str,
        ch: char,
        /// 1-based character position, as a person counting along the number would.
        position: usize,
        expected: &'static str,
    },
    #[error("{what} has check character {found}, expected {expected}")]
    CheckChar {
        what: &'static str,
        found: char,
        expected: char,
    },
    #[error("{what} has birth date {date}, which is not a real date")]
    InvalidBirthDate { what: &'static str, date: String },
    #[error("{what} has birth year {year}, before 1900")]
    BirthYearTooEarly { what: &'static str, year: i32 },
    #[error("{what} must start with {expected}, got {got:?}")]
    Prefix {
        what: &'static str,
        expected: &'static str,
        got: String,
    },
}

/// Which kind of identifier a `PersonId` carries; the vocabulary used in
/// interchange files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum IdKind {
    #[default]
    Resident,
    ForeignPermanent,
    HmtPermit,
    Passport,
    Company,
}

impl IdKind {
    pub const ALL: [IdKind; 5] = [
        IdKind::Resident,
        IdKind::ForeignPermanent,
        IdKind::HmtPermit,
        IdKind::Passport,
        IdKind::Company,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            IdKind::Resident => "resident",
            IdKind::ForeignPermanent => "foreign_permanent",
            IdKind::HmtPermit => "hmt_permit",
            IdKind::Passport => "passport",
            IdKind::Company => "company",
        }
    }
}

impl FromStr for IdKind {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| IdError::UnknownKind(s.to_owned()))
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_serde!(IdKind, IdKind::from_str);

/// ISO 7064 MOD 11-2 weights for the first 17 characters (2^(17-i) mod 11).
const MOD11_2_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const MOD11_2_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character for 17 leading digits.
fn mod11_2_check(digits: &[u8; 17]) -> char {
    let sum: u32 = digits
        .iter()
        .zip(MOD11_2_WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    MOD11_2_CHECK[(sum % 11) as usize]
}

fn reject_blank_or_padded(what: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if s.trim() != s {
        return Err(IdError::Whitespace { what });
    }
    Ok(())
}

fn expect_len(what: &'static str, s: &str, expected: usize) -> Result<(), IdError> {
    let got = s.chars().count();
    if got == expected {
        Ok(())
    } else {
        Err(IdError::Length {
            what,
            expected,
            got,
        })
    }
}

/// An 18-character number in the resident-id layout: 6-character prefix,
/// 8-digit birth date, 3-digit sequence, MOD 11-2 check character.
/// Shared by resident ids and both kinds of residence permit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Layout18 {
    /// Upper-cased, so a lowercase check `x` is stored as `X`.
    text: String,
    birth_date: NaiveDate,
}

fn parse_layout18(what: &'static str, s: &str) -> Result<Layout18, IdError> {
    reject_blank_or_padded(what, s)?;
    expect_len(what, s, 18)?;
    let mut digits = [0u8; 17];
    for (i, ch) in s.chars().take(17).enumerate() {
        if !ch.is_ascii_digit() {
            return Err(IdError::InvalidChar {
                what,
                ch,
                position: i + 1,
                expected: "the first 17 characters must be digits",
            });
        }
        digits[i] = ch as u8 - b'0';
    }
    // The length check above guarantees an 18th character.
    let last = s.chars().last().unwrap_or_default();
    let found = match last {
        '0'..='9' | 'X' => last,
        'x' => 'X',
        _ => {
            return Err(IdError::InvalidChar {
                what,
                ch: last,
                position: 18,
                expected: "the check character must be a digit or X",
            })
        }
    };
    let birth_date = parse_birth_date(what, &s[6..14])?;
    let expected = mod11_2_check(&digits);
    if found != expected {
        return Err(IdError::CheckChar {
            what,
            found,
            expected,
        });
    }
    Ok(Layout18 {
        text: s.to_ascii_uppercase(),
        birth_date,
    })
}

/// `yyyymmdd` is eight ASCII digits (checked by the caller).
fn parse_birth_date(what: &'static str, yyyymmdd: &str) -> Result<NaiveDate, IdError> {
    let invalid = || IdError::InvalidBirthDate {
        what,
        date: yyyymmdd.to_owned(),
    };
    let year: i32 = yyyymmdd[0..4].parse().map_err(|_| invalid())?;
    let month: u32 = yyyymmdd[4..6].parse().map_err(|_| invalid())?;
    let day: u32 = yyyymmdd[6..8].parse().map_err(|_| invalid())?;
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)?;
    if year < 1900 {
        return Err(IdError::BirthYearTooEarly { what, year });
    }
    Ok(date)
}

/// Completed years between `birth` and `on`; 0 if `on` precedes `birth`.
fn age(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

/// A mainland resident identity card number (GB 11643-1999), 18 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(Layout18);

impl ResidentId {
    const WHAT: &'static str = "resident id";

    /// Parses an 18-character resident id. A lowercase check `x` is accepted
    /// and stored as `X`; nothing else is normalised.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        parse_layout18(Self::WHAT, s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The 6-digit administrative division code where the number was issued.
    pub fn region_code(&self) -> &str {
        &self.0.text[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.0.birth_date
    }

    /// Age in completed years on `date` (0 if `date` is before the birth date).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        age(self.0.birth_date, date)
    }

    /// The 17th digit encodes sex: odd for male, even for female.
    pub fn is_male(&self) -> bool {
        self.0.text.as_bytes()[16] % 2 == 1
    }

    pub fn masked(&self) -> String {
        mask::id_number(self.as_str())
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResidentId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(ResidentId, ResidentId::parse);

/// Which of the two 18-character residence permits a [`ResidencePermit`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PermitKind {
    ForeignPermanent,
    Hmt,
}

/// An 18-character residence permit number in the resident-id layout: either
/// the foreign permanent residence id card (2023 format, first character `9`)
/// or the residence permit for Hong Kong, Macau and Taiwan residents (prefix
/// 810000, 820000 or 830000).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidencePermit {
    kind: PermitKind,
    layout: Layout18,
}

const HMT_PREFIXES: [&str; 3] = ["810000", "820000", "830000"];

impl ResidencePermit {
    /// Parses a 2023-format foreign permanent residence id card number.
    pub fn parse_foreign_permanent(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "foreign permanent residence id";
        let layout = parse_layout18(WHAT, s)?;
        if !layout.text.starts_with('9') {
            return Err(IdError::Prefix {
                what: WHAT,
                expected: "9",
                got: layout.text[..1].to_owned(),
            });
        }
        Ok(Self {
            kind: PermitKind::ForeignPermanent,
            layout,
        })
    }

    /// Parses a Hong Kong, Macau or Taiwan resident's residence permit number.
    pub fn parse_hmt(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "hmt residence permit";
        let layout = parse_layout18(WHAT, s)?;
        let prefix = &layout.text[..6];
        if !HMT_PREFIXES.contains(&prefix) {
            return Err(IdError::Prefix {
                what: WHAT,
                expected: "810000, 820000 or 830000",
                got: prefix.to_owned(),
            });
        }
        Ok(Self {
            kind: PermitKind::Hmt,
            layout,
        })
    }

    pub fn kind(&self) -> IdKind {
        match self.kind {
            PermitKind::ForeignPermanent => IdKind::ForeignPermanent,
            PermitKind::Hmt => IdKind::HmtPermit,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.layout.text
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.layout.birth_date
    }

    /// Age in completed years on `date` (0 if `date` is before the birth date).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        age(self.layout.birth_date, date)
    }

    pub fn masked(&self) -> String {
        mask::id_number(self.as_str())
    }
}

impl fmt::Display for ResidencePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResidencePermit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// GB 32100-2015 character set; a character's value is its index.
const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn credit_value(ch: char) -> Option<u32> {
    let byte = u8::try_from(ch).ok()?;
    CREDIT_CHARSET
        .iter()
        .position(|&c| c == byte)
        .and_then(|p| u32::try_from(p).ok())
}

/// The GB 32100-2015 check character for the first 17 values.
fn credit_check(values: &[u32; 17]) -> char {
    let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    let index = (31 - sum % 31) % 31;
    char::from(CREDIT_CHARSET[index as usize])
}

/// A unified social credit code (GB 32100-2015) identifying a company or other
/// organisation: 18 characters from `0-9A-Y` without I, O, Z, S and V.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    const WHAT: &'static str = "credit code";

    /// Parses a credit code. Lowercase letters are accepted and stored in
    /// uppercase, since the code is defined case-insensitively on paper.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = CreditCode::WHAT;
        reject_blank_or_padded(WHAT, s)?;
        expect_len(WHAT, s, 18)?;
        let upper = s.to_ascii_uppercase();
        let mut values = [0u32; 17];
        let mut found = '0';
        for (i, ch) in upper.chars().enumerate() {
            let value = credit_value(ch).ok_or(IdError::InvalidChar {
                what: WHAT,
                ch,
                position: i + 1,
                expected: "only 0-9 and A-Y without I, O, Z, S, V are used",
            })?;
            match values.get_mut(i) {
                Some(slot) => *slot = value,
                None => found = ch,
            }
        }
        let expected = credit_check(&values);
        if found != expected {
            return Err(IdError::CheckChar {
                what: WHAT,
                found,
                expected,
            });
        }
        Ok(Self(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask::id_number(self.as_str())
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CreditCode {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(CreditCode, CreditCode::parse);

/// A passport number: 5 to 20 ASCII letters and digits, kept exactly as given
/// (issuing countries differ, so no case folding or check digit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Passport(String);

impl Passport {
    const WHAT: &'static str = "passport number";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = Passport::WHAT;
        reject_blank_or_padded(WHAT, s)?;
        if let Some((i, ch)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(IdError::InvalidChar {
                what: WHAT,
                ch,
                position: i + 1,
                expected: "only ASCII letters and digits are allowed",
            });
        }
        let got = s.len();
        if !(5..=20).contains(&got) {
            return Err(IdError::LengthRange {
                what: WHAT,
                min: 5,
                max: 20,
                got,
            });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask::id_number(self.as_str())
    }
}

impl fmt::Display for Passport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Passport {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(Passport, Passport::parse);

/// Any identifier that names a person or organisation, tagged by kind.
///
/// Serialises as `{"kind": "...", "number": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonId {
    Resident(ResidentId),
    ForeignPermanent(ResidencePermit),
    HmtPermit(ResidencePermit),
    Company(CreditCode),
    Passport(Passport),
}

impl PersonId {
    /// Parses `s` as an identifier of the given kind.
    pub fn parse(kind: IdKind, s: &str) -> Result<Self, IdError> {
        Ok(match kind {
            IdKind::Resident => PersonId::Resident(ResidentId::parse(s)?),
            IdKind::ForeignPermanent => {
                PersonId::ForeignPermanent(ResidencePermit::parse_foreign_permanent(s)?)
            }
            IdKind::HmtPermit => PersonId::HmtPermit(ResidencePermit::parse_hmt(s)?),
            IdKind::Passport => PersonId::Passport(Passport::parse(s)?),
            IdKind::Company => PersonId::Company(CreditCode::parse(s)?),
        })
    }

    pub fn kind(&self) -> IdKind {
        match self {
            PersonId::Resident(_) => IdKind::Resident,
            PersonId::ForeignPermanent(_) => IdKind::ForeignPermanent,
            PersonId::HmtPermit(_) => IdKind::HmtPermit,
            PersonId::Company(_) => IdKind::Company,
            PersonId::Passport(_) => IdKind::Passport,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PersonId::Resident(id) => id.as_str(),
            PersonId::ForeignPermanent(p) | PersonId::HmtPermit(p) => p.as_str(),
            PersonId::Company(c) => c.as_str(),
            PersonId::Passport(p) => p.as_str(),
        }
    }

    /// The birth date, for the kinds that encode one.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        match self {
            PersonId::Resident(id) => Some(id.birth_date()),
            PersonId::ForeignPermanent(p) | PersonId::HmtPermit(p) => Some(p.birth_date()),
            PersonId::Company(_) | PersonId::Passport(_) => None,
        }
    }

    pub fn masked(&self) -> String {
        mask::id_number(self.as_str())
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PersonId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("PersonId", 2)?;
        st.serialize_field("kind", self.kind().as_str())?;
        st.serialize_field("number", self.as_str())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completes 17 digits with their MOD 11-2 check character, independently
    /// of the implementation's table.
    fn with_check(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * ((1u32 << (17 - i)) % 11))
            .sum();
        let value = (12 - sum % 11) % 11;
        let check = if value == 10 {
            'X'
        } else {
            char::from_digit(value, 10).unwrap_or('?')
        };
        format!("{first17}{check}")
    }

    /// Completes 17 credit-code characters with their check character.
    fn credit_with_check(first17: &str) -> String {
        let charset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        let sum: usize = first17
            .chars()
            .enumerate()
            .map(|(i, c)| charset.find(c).unwrap_or(0) * 3usize.pow(i as u32) % 31)
            .sum();
        let check = charset.chars().nth((31 - sum % 31) % 31).unwrap_or('?');
        format!("{first17}{check}")
    }

    fn replace_last(s: &str, c: char) -> String {
        format!("{}{c}", &s[..s.len() - 1])
    }

    #[test]
    fn helper_weights_match_the_standard() {
        assert_eq!(
            CREDIT_WEIGHTS.to_vec(),
            (0..17).map(|i| 3u32.pow(i) % 31).collect::<Vec<_>>()
        );
        assert_eq!(
            MOD11_2_WEIGHTS.to_vec(),
            (0..17).map(|i| (1u32 << (17 - i)) % 11).collect::<Vec<_>>()
        );
    }

    #[test]
    fn id_kind_round_trips() {
        for kind in IdKind::ALL {
            assert_eq!(kind.as_str().parse::<IdKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(IdKind::default(), IdKind::Resident);
        let err = "Resident".parse::<IdKind>().unwrap_err().to_string();
        assert!(
            err.contains("resident, foreign_permanent, hmt_permit, passport, company"),
            "{err}"
        );
    }

    #[test]
    fn known_valid_resident_ids() {
        for s in [
            "11010519491231002X",
            "440524198001010013",
            "110101199003074477",
        ] {
            assert_eq!(with_check(&s[..17]), s, "literal {s} is itself valid");
            let id = ResidentId::parse(s).unwrap();
            assert_eq!(id.as_str(), s);
        }
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.region_code(), "110105");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.is_male());
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn computed_resident_ids() {
        for first17 in [
            "32010219800229123",
            "50010320000101000",
            "65010119000101001",
        ] {
            let s = with_check(first17);
            assert!(ResidentId::parse(&s).is_ok(), "{s}");
        }
    }

    #[test]
    fn lowercase_x_is_normalised() {
        let id = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id, ResidentId::parse("11010519491231002X").unwrap());
    }

    #[test]
    fn wrong_check_digit() {
        let err = ResidentId::parse("110105194912310021").unwrap_err();
        assert_eq!(
            err,
            IdError::CheckChar {
                what: "resident id",
                found: '1',
                expected: 'X'
            }
        );
        assert_eq!(
            err.to_string(),
            "resident id has check character 1, expected X"
        );
    }

    #[test]
    fn mistyped_digit_is_caught() {
        // 11010519491231002X with the sequence 002 mistyped as 003.
        assert!(matches!(
            ResidentId::parse("11010519491231003X"),
            Err(IdError::CheckChar { .. })
        ));
    }

    #[test]
    fn wrong_length() {
        let err = ResidentId::parse("11010519491231002").unwrap_err();
        assert_eq!(err.to_string(), "resident id must be 18 characters, got 17");
        let err = ResidentId::parse("11010519491231002XX").unwrap_err();
        assert_eq!(err.to_string(), "resident id must be 18 characters, got 19");
        assert_eq!(
            ResidentId::parse(""),
            Err(IdError::Empty {
                what: "resident id"
            })
        );
        assert_eq!(
            ResidentId::parse(" 11010519491231002X"),
            Err(IdError::Whitespace {
                what: "resident id"
            })
        );
    }

    #[test]
    fn bad_birth_dates() {
        let s = with_check("11010519990230123");
        let err = ResidentId::parse(&s).unwrap_err();
        assert_eq!(
            err.to_string(),
            "resident id has birth date 19990230, which is not a real date"
        );
        let s = with_check("11010518991231123");
        assert_eq!(
            ResidentId::parse(&s),
            Err(IdError::BirthYearTooEarly {
                what: "resident id",
                year: 1899
            })
        );
        let s = with_check("11010520011301123");
        assert!(matches!(
            ResidentId::parse(&s),
            Err(IdError::InvalidBirthDate { .. })
        ));
    }

    #[test]
    fn bad_characters() {
        let err = ResidentId::parse("11010519491231O02X").unwrap_err();
        assert_eq!(
            err,
            IdError::InvalidChar {
                what: "resident id",
                ch: 'O',
                position: 15,
                expected: "the first 17 characters must be digits"
            }
        );
        assert!(matches!(
            ResidentId::parse("11010519491231002Y"),
            Err(IdError::InvalidChar { position: 18, .. })
        ));
        // Multi-byte characters are counted as characters, not bytes.
        assert!(matches!(
            ResidentId::parse("１1010519491231002X"),
            Err(IdError::InvalidChar { position: 1, .. })
        ));
    }

    #[test]
    fn age_and_sex() {
        let id = ResidentId::parse(&with_check("32010219800229123")).unwrap();
        assert!(id.is_male());
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(id.age_on(d(2026, 2, 28)), 45);
        assert_eq!(id.age_on(d(2026, 3, 1)), 46);
        assert_eq!(id.age_on(d(1970, 1, 1)), 0);
    }

    #[test]
    fn residence_permits() {
        let fp = with_check("93112419850612051");
        let permit = ResidencePermit::parse_foreign_permanent(&fp).unwrap();
        assert_eq!(permit.kind(), IdKind::ForeignPermanent);
        assert_eq!(
            permit.birth_date(),
            NaiveDate::from_ymd_opt(1985, 6, 12).unwrap()
        );

        for prefix in ["810000", "820000", "830000"] {
            let s = with_check(&format!("{prefix}19900101123"));
            let permit = ResidencePermit::parse_hmt(&s).unwrap();
            assert_eq!(permit.kind(), IdKind::HmtPermit);
            assert_eq!(permit.as_str(), s);
        }

        let resident = "11010519491231002X";
        let err = ResidencePermit::parse_hmt(resident).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hmt residence permit must start with 810000, 820000 or 830000, got \"110105\""
        );
        let err = ResidencePermit::parse_foreign_permanent(resident).unwrap_err();
        assert_eq!(
            err.to_string(),
            "foreign permanent residence id must start with 9, got \"1\""
        );
        assert!(matches!(
            ResidencePermit::parse_hmt(&replace_last(&with_check("81000019900101123"), 'Z')),
            Err(IdError::InvalidChar { .. })
        ));
        let bad = with_check("81000019900231123");
        assert!(matches!(
            ResidencePermit::parse_hmt(&bad),
            Err(IdError::InvalidBirthDate { .. })
        ));
    }

    #[test]
    fn check_character_x_in_permit() {
        // Search for a permit body whose check character is X.
        let s = (0..1000)
            .map(|n| with_check(&format!("81000019900101{n:03}")))
            .find(|s| s.ends_with('X'))
            .unwrap();
        assert!(ResidencePermit::parse_hmt(&s).is_ok());
        assert!(ResidencePermit::parse_hmt(&s.to_ascii_lowercase()).is_ok());
        assert!(ResidencePermit::parse_hmt(&replace_last(&s, '0')).is_err());
    }

    #[test]
    fn credit_codes() {
        let known = "91350100M000100Y43";
        assert_eq!(credit_with_check(&known[..17]), known);
        let code = CreditCode::parse(known).unwrap();
        assert_eq!(code.as_str(), known);
        assert_eq!(CreditCode::parse(&known.to_ascii_lowercase()), Ok(code));

        for body in [
            "91110000600037341",
            "12100000400000624",
            "Y1440300MA5DXXXX0",
        ] {
            let s = credit_with_check(body);
            assert!(CreditCode::parse(&s).is_ok(), "{s}");
        }

        let err = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(
            err.to_string(),
            "credit code has check character 4, expected 3"
        );
        let err = CreditCode::parse("91350100M00010OY43").unwrap_err();
        assert_eq!(
            err.to_string(),
            "credit code has invalid character 'O' at position 15; only 0-9 and A-Y without I, O, Z, S, V are used"
        );
        let err = CreditCode::parse("91350100M000100Y4").unwrap_err();
        assert_eq!(err.to_string(), "credit code must be 18 characters, got 17");
    }

    #[test]
    fn credit_check_of_zero_maps_31_to_0() {
        // All-zero body: sum is 0, 31 - 0 = 31, which wraps to '0'.
        assert_eq!(
            CreditCode::parse("000000000000000000").unwrap().as_str(),
            "000000000000000000"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,20}|[0-9A-Za-z]{16,19}") {
            for kind in IdKind::ALL {
                if let Ok(id) = PersonId::parse(kind, &s) {
                    proptest::prop_assert_eq!(id.kind(), kind);
                    let _ = id.masked();
                }
            }
        }
    }

    #[test]
    fn passports() {
        assert_eq!(Passport::parse("E12345678").unwrap().as_str(), "E12345678");
        assert_eq!(Passport::parse("e1234").unwrap().as_str(), "e1234");
        assert_eq!(
            Passport::parse("E123").unwrap_err().to_string(),
            "passport number must be 5 to 20 characters, got 4"
        );
        assert!(Passport::parse("A".repeat(21).as_str()).is_err());
        assert!(matches!(
            Passport::parse("E1234-5678"),
            Err(IdError::InvalidChar {
                ch: '-',
                position: 6,
                ..
            })
        ));
    }

    #[test]
    fn person_id_dispatch() {
        let id = PersonId::parse(IdKind::Resident, "11010519491231002x").unwrap();
        assert_eq!(id.kind(), IdKind::Resident);
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.masked(), "110105********002X");

        let id = PersonId::parse(IdKind::Company, "91350100M000100Y43").unwrap();
        assert_eq!(id.kind(), IdKind::Company);
        assert_eq!(id.birth_date(), None);

        let id = PersonId::parse(IdKind::Passport, "E12345678").unwrap();
        assert_eq!(id.kind(), IdKind::Passport);

        let hmt = with_check("81000019900101123");
        assert_eq!(
            PersonId::parse(IdKind::HmtPermit, &hmt).unwrap().kind(),
            IdKind::HmtPermit
        );
        assert!(PersonId::parse(IdKind::ForeignPermanent, &hmt).is_err());
        assert!(PersonId::parse(IdKind::Resident, "E12345678").is_err());
    }
}
