//! Telephone numbers: subscriber numbers (MSISDNs) of the SIM cards we hold,
//! and the far-party numbers seen in call and SMS records.
//!
//! Subscriber numbers come from carrier systems and are strict; a malformed
//! one is an ingest error. Far-party numbers are whatever the switch logged
//! and are never rejected: they are normalised and classified, because an
//! overseas or virtual-operator caller is itself a fraud signal.

use std::fmt;

use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::mask;

/// Why a number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("subscriber number is empty")]
    Empty,
    #[error(
        "subscriber number {0:?} has a country code; write the 11 national digits without +86"
    )]
    CountryCode(String),
    #[error("subscriber number has invalid character {ch:?} at position {position}; only digits are allowed")]
    InvalidChar { ch: char, position: usize },
    #[error("subscriber number must be 11 digits (or 13 for an IoT number), got {got}")]
    Length { got: usize },
    #[error("11-digit subscriber number must start with 1 and a second digit 3-9, got {0:?}")]
    MobilePrefix(String),
    #[error("13-digit IoT number must start with 14 or 10, got {0:?}")]
    IotPrefix(String),
    #[error("party number is blank")]
    Blank,
    #[error("party number must be at most 64 characters, got {got}")]
    TooLong { got: usize },
    #[error("{0:?} is not a number class (mobile, virtual, iot, fixed_line, service_95, service_400, short_code, international, unknown)")]
    UnknownClass(String),
}

/// The mainland carriers, as hinted by a number's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Carrier {
    ChinaMobile,
    ChinaUnicom,
    ChinaTelecom,
    ChinaBroadnet,
}

impl Carrier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Carrier::ChinaMobile => "china_mobile",
            Carrier::ChinaUnicom => "china_unicom",
            Carrier::ChinaTelecom => "china_telecom",
            Carrier::ChinaBroadnet => "china_broadnet",
        }
    }

    /// The carrier that was allocated the number block of the first three
    /// digits of `digits`, or `None` for unknown and virtual-operator blocks.
    ///
    /// Only a hint: since number portability, numbers move between carriers.
    pub fn from_prefix(digits: &str) -> Option<Carrier> {
        let prefix: u16 = digits.get(..3)?.parse().ok()?;
        match prefix {
            134..=139
            | 147
            | 150..=152
            | 157..=159
            | 172
            | 178
            | 182..=184
            | 187
            | 188
            | 195
            | 197
            | 198 => Some(Carrier::ChinaMobile),
            130..=132 | 145 | 155 | 156 | 166 | 175 | 176 | 185 | 186 | 196 => {
                Some(Carrier::ChinaUnicom)
            }
            133 | 149 | 153 | 173 | 177 | 180 | 181 | 189 | 190 | 191 | 193 | 199 => {
                Some(Carrier::ChinaTelecom)
            }
            192 => Some(Carrier::ChinaBroadnet),
            _ => None,
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Carrier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

fn all_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1[3-9]` followed by 9 more digits.
fn is_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && all_ascii_digits(d) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

fn is_iot(d: &str) -> bool {
    d.len() == 13 && all_ascii_digits(d) && (d.starts_with("14") || d.starts_with("10"))
}

/// A subscriber number (MSISDN) as held in the `sims` data: 11 digits
/// `1[3-9]…`, or a 13-digit IoT number starting with 14 or 10. Not normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

impl Msisdn {
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        if s.starts_with("+86") || (s.starts_with("0086") && s.len() > 11) {
            return Err(PhoneError::CountryCode(s.to_owned()));
        }
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(PhoneError::InvalidChar {
                ch,
                position: i + 1,
            });
        }
        match s.len() {
            11 if is_mobile(s) => Ok(Self(s.to_owned())),
            11 => Err(PhoneError::MobilePrefix(s[..2].to_owned())),
            13 if is_iot(s) => Ok(Self(s.to_owned())),
            13 => Err(PhoneError::IotPrefix(s[..2].to_owned())),
            got => Err(PhoneError::Length { got }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_iot(&self) -> bool {
        self.0.len() == 13
    }

    /// The carrier the number block was allocated to. A hint only: numbers
    /// move between carriers, and IoT and virtual-operator blocks give `None`.
    pub fn carrier_hint(&self) -> Option<Carrier> {
        if self.is_iot() {
            None
        } else {
            Carrier::from_prefix(&self.0)
        }
    }

    pub fn masked(&self) -> String {
        mask::phone(self.as_str())
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Msisdn {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(Msisdn, Msisdn::parse);

/// What kind of number a far party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NumberClass {
    Mobile,
    /// A mobile number from a virtual operator block (170, 171, 162, 165, 167).
    Virtual,
    Iot,
    FixedLine,
    /// A 95xxx(x) nationwide service number.
    Service95,
    /// A 400 or 800 enterprise number.
    Service400,
    /// 3–6 digit short numbers: emergency, carrier and hotline codes.
    ShortCode,
    International,
    Unknown,
}

impl NumberClass {
    pub fn as_str(&self) -> &'static str {
        match self {
            NumberClass::Mobile => "mobile",
            NumberClass::Virtual => "virtual",
            NumberClass::Iot => "iot",
            NumberClass::FixedLine => "fixed_line",
            NumberClass::Service95 => "service_95",
            NumberClass::Service400 => "service_400",
            NumberClass::ShortCode => "short_code",
            NumberClass::International => "international",
            NumberClass::Unknown => "unknown",
        }
    }

    /// Whether the class alone is a fraud signal: virtual-operator numbers are
    /// cheap and loosely registered, and scam call centres mostly ring from
    /// abroad.
    pub fn is_risk_signal(&self) -> bool {
        matches!(self, NumberClass::Virtual | NumberClass::International)
    }
}

impl std::str::FromStr for NumberClass {
    type Err = PhoneError;

    /// The stored word ([`NumberClass::as_str`]) back to the class.
    fn from_str(s: &str) -> Result<Self, PhoneError> {
        const ALL: [NumberClass; 9] = [
            NumberClass::Mobile,
            NumberClass::Virtual,
            NumberClass::Iot,
            NumberClass::FixedLine,
            NumberClass::Service95,
            NumberClass::Service400,
            NumberClass::ShortCode,
            NumberClass::International,
            NumberClass::Unknown,
        ];
        ALL.into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| PhoneError::UnknownClass(s.to_owned()))
    }
}

impl fmt::Display for NumberClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for NumberClass {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

const VIRTUAL_PREFIXES: [&str; 5] = ["170", "171", "162", "165", "167"];

/// Classifies a string of national ASCII digits (no country code).
fn classify_national(d: &str) -> NumberClass {
    if !all_ascii_digits(d) {
        return NumberClass::Unknown;
    }
    if is_mobile(d) {
        return if VIRTUAL_PREFIXES.iter().any(|p| d.starts_with(p)) {
            NumberClass::Virtual
        } else {
            NumberClass::Mobile
        };
    }
    if is_iot(d) {
        return NumberClass::Iot;
    }
    if d.len() == 10 && (d.starts_with("400") || d.starts_with("800")) {
        return NumberClass::Service400;
    }
    if is_fixed_line(d) {
        return NumberClass::FixedLine;
    }
    if d.starts_with("95") && (5..=6).contains(&d.len()) {
        return NumberClass::Service95;
    }
    if (3..=6).contains(&d.len()) {
        return NumberClass::ShortCode;
    }
    NumberClass::Unknown
}

/// Trunk prefix 0, an area code (010, 02X or 0[3-9]XX), then a 7–8 digit
/// local number.
fn is_fixed_line(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() < 3 || b[0] != b'0' {
        return false;
    }
    let area_len = match b[1] {
        b'1' if b[2] == b'0' => 3,
        b'2' => 3,
        b'3'..=b'9' => 4,
        _ => return false,
    };
    (7..=8).contains(&(b.len().saturating_sub(area_len)))
}

/// The length of the ITU-T E.164 country calling code at the start of `d`.
fn country_code_len(d: &str) -> usize {
    let two: u16 = d.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    match d.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ => match two {
            20
            | 27
            | 30..=34
            | 36
            | 39
            | 40
            | 41
            | 43..=49
            | 51..=58
            | 60..=66
            | 81
            | 82
            | 84
            | 86
            | 90..=95
            | 98 => 2,
            _ => 3,
        },
    }
}

/// The far party of a call or SMS, normalised and classified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PartyNumber {
    original: String,
    normalized: String,
    class: NumberClass,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_code: Option<u16>,
}

impl PartyNumber {
    /// Normalises and classifies a far-party number. Fails only for blank
    /// input or input over 64 characters; anything else is kept, as
    /// [`NumberClass::Unknown`] if nothing better fits.
    ///
    /// Spaces, `-`, `(` and `)` are removed and full-width digits and `＋` are
    /// folded to ASCII. A mobile, IoT, 400 or fixed-line number behind
    /// `+86`/`0086` (or a mobile behind a bare `86`) is reduced to its
    /// national form; fixed lines written without the trunk `0` after the
    /// country code get it back. Other international numbers become
    /// `+<digits>`.
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        if s.trim().is_empty() {
            return Err(PhoneError::Blank);
        }
        let got = s.chars().count();
        if got > 64 {
            return Err(PhoneError::TooLong { got });
        }
        let cleaned: String = s
            .trim()
            .chars()
            .filter(|&c| !(c.is_whitespace() || matches!(c, '-' | '(' | ')')))
            .map(fold_full_width)
            .collect();
        let (normalized, class, country_code) = if cleaned.is_empty() {
            (s.trim().to_owned(), NumberClass::Unknown, None)
        } else {
            classify(cleaned)
        };
        Ok(Self {
            original: s.to_owned(),
            normalized,
            class,
            country_code,
        })
    }

    /// The number exactly as given.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The normalised form: national digits for domestic numbers, `+<digits>`
    /// for international ones, the cleaned text otherwise.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    pub fn class(&self) -> NumberClass {
        self.class
    }

    /// The ITU calling code of an [`NumberClass::International`] number.
    pub fn country_code(&self) -> Option<u16> {
        self.country_code
    }

    /// The mainland carrier hinted by a mobile number's prefix.
    pub fn carrier_hint(&self) -> Option<Carrier> {
        match self.class {
            NumberClass::Mobile => Carrier::from_prefix(&self.normalized),
            _ => None,
        }
    }

    /// The normalised number masked for display. Service and short numbers
    /// belong to organisations, not people, so they are shown in full.
    pub fn masked(&self) -> String {
        match self.class {
            NumberClass::Service95 | NumberClass::Service400 | NumberClass::ShortCode => {
                self.normalized.clone()
            }
            _ => mask::phone(&self.normalized),
        }
    }
}

impl fmt::Display for PartyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.normalized())
    }
}

/// Full-width forms turn up in hand-typed spreadsheets.
fn fold_full_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '＋' => '+',
        _ => c,
    }
}

/// Classifies a cleaned (non-empty, separator-free) number.
fn classify(cleaned: String) -> (String, NumberClass, Option<u16>) {
    let international = cleaned
        .strip_prefix('+')
        .or_else(|| cleaned.strip_prefix("00"))
        .filter(|rest| all_ascii_digits(rest));
    if let Some(digits) = international {
        return classify_international(digits);
    }
    if cleaned.len() == 13 && cleaned.starts_with("86") && is_mobile(&cleaned[2..]) {
        let national = cleaned[2..].to_owned();
        let class = classify_national(&national);
        return (national, class, None);
    }
    let class = classify_national(&cleaned);
    (cleaned, class, None)
}

/// Classifies the digits after a `+` or `00` international prefix.
fn classify_international(digits: &str) -> (String, NumberClass, Option<u16>) {
    if let Some(national) = digits.strip_prefix("86") {
        let class = classify_national(national);
        return match class {
            NumberClass::Mobile
            | NumberClass::Virtual
            | NumberClass::Iot
            | NumberClass::Service400
            | NumberClass::FixedLine => (national.to_owned(), class, None),
            _ => {
                // Dialled from abroad, a fixed line drops its trunk 0.
                let with_trunk = format!("0{national}");
                if is_fixed_line(&with_trunk) {
                    (with_trunk, NumberClass::FixedLine, None)
                } else {
                    (format!("+{digits}"), NumberClass::Unknown, None)
                }
            }
        };
    }
    let cc_len = country_code_len(digits);
    // E.164 numbers have at most 15 digits; require a plausible subscriber
    // part so that a bare "+44" is not taken for a real caller.
    let plausible = digits.len() >= cc_len + 4 && digits.len() <= 15;
    let normalized = format!("+{digits}");
    match digits.get(..cc_len).and_then(|cc| cc.parse().ok()) {
        Some(cc) if plausible => (normalized, NumberClass::International, Some(cc)),
        _ => (normalized, NumberClass::Unknown, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_classes_read_back_from_their_words() {
        for n in [
            "13812345678",
            "17012345678",
            "+44 20 7946 0958",
            "95588",
            "4008123123",
            "110",
        ] {
            let class = PartyNumber::parse(n).unwrap().class();
            assert_eq!(class.as_str().parse::<NumberClass>(), Ok(class), "{n}");
        }
        assert_eq!(
            "satellite".parse::<NumberClass>(),
            Err(PhoneError::UnknownClass("satellite".into()))
        );
    }

    #[test]
    fn msisdn_accepts() {
        let m = Msisdn::parse("13812345678").unwrap();
        assert_eq!(m.as_str(), "13812345678");
        assert!(!m.is_iot());
        assert_eq!(m.carrier_hint(), Some(Carrier::ChinaMobile));
        assert_eq!(m.masked(), "138****5678");

        let iot = Msisdn::parse("1440123456789").unwrap();
        assert!(iot.is_iot());
        assert_eq!(iot.carrier_hint(), None);
        assert!(Msisdn::parse("1064912345678").is_ok());
        assert_eq!(Msisdn::parse("17012345678").unwrap().carrier_hint(), None);
    }

    #[test]
    fn msisdn_rejects_with_reason() {
        let msg = |s: &str| Msisdn::parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("+8613812345678"),
            "subscriber number \"+8613812345678\" has a country code; write the 11 national digits without +86"
        );
        assert!(matches!(
            Msisdn::parse("008613812345678"),
            Err(PhoneError::CountryCode(_))
        ));
        assert_eq!(
            msg("1381234567"),
            "subscriber number must be 11 digits (or 13 for an IoT number), got 10"
        );
        assert_eq!(
            msg("12812345678"),
            "11-digit subscriber number must start with 1 and a second digit 3-9, got \"12\""
        );
        assert_eq!(
            msg("1540123456789"),
            "13-digit IoT number must start with 14 or 10, got \"15\""
        );
        assert_eq!(
            Msisdn::parse("138 1234 5678"),
            Err(PhoneError::InvalidChar {
                ch: ' ',
                position: 4
            })
        );
        assert_eq!(Msisdn::parse(""), Err(PhoneError::Empty));
    }

    #[test]
    fn carriers() {
        let cases = [
            ("139", Some(Carrier::ChinaMobile)),
            ("198", Some(Carrier::ChinaMobile)),
            ("186", Some(Carrier::ChinaUnicom)),
            ("166", Some(Carrier::ChinaUnicom)),
            ("189", Some(Carrier::ChinaTelecom)),
            ("199", Some(Carrier::ChinaTelecom)),
            ("192", Some(Carrier::ChinaBroadnet)),
            ("170", None),
            ("12", None),
            ("abc", None),
        ];
        for (prefix, carrier) in cases {
            assert_eq!(Carrier::from_prefix(prefix), carrier, "{prefix}");
        }
        assert_eq!(Carrier::ChinaBroadnet.as_str(), "china_broadnet");
    }

    #[test]
    fn classification_table() {
        use NumberClass::*;
        let cases: &[(&str, &str, NumberClass, Option<u16>)] = &[
            ("13812345678", "13812345678", Mobile, None),
            (" 138-1234-5678 ", "13812345678", Mobile, None),
            ("+8613812345678", "13812345678", Mobile, None),
            ("+86 138 1234 5678", "13812345678", Mobile, None),
            ("008613812345678", "13812345678", Mobile, None),
            ("8613812345678", "13812345678", Mobile, None),
            ("１３８１２３４５６７８", "13812345678", Mobile, None),
            ("17012345678", "17012345678", Virtual, None),
            ("+8617112345678", "17112345678", Virtual, None),
            ("16512345678", "16512345678", Virtual, None),
            ("1440123456789", "1440123456789", Iot, None),
            ("1064812345678", "1064812345678", Iot, None),
            ("010-12345678", "01012345678", FixedLine, None),
            ("0755-1234567", "07551234567", FixedLine, None),
            ("(021)87654321", "02187654321", FixedLine, None),
            ("+86 755 12345678", "075512345678", FixedLine, None),
            ("+86 10 1234 5678", "01012345678", FixedLine, None),
            ("95588", "95588", Service95, None),
            ("955888", "955888", Service95, None),
            ("4008123123", "4008123123", Service400, None),
            ("800-810-8888", "8008108888", Service400, None),
            ("110", "110", ShortCode, None),
            ("10086", "10086", ShortCode, None),
            ("12345", "12345", ShortCode, None),
            ("96110", "96110", ShortCode, None),
            ("+44 7911 123456", "+447911123456", International, Some(44)),
            ("+855 12 345 678", "+85512345678", International, Some(855)),
            ("+63 917 123 4567", "+639171234567", International, Some(63)),
            ("0012125551234", "+12125551234", International, Some(1)),
            ("+7 495 123 4567", "+74951234567", International, Some(7)),
            ("0084912345678", "+84912345678", International, Some(84)),
            ("+44", "+44", Unknown, None),
            ("+86 12", "+8612", Unknown, None),
            ("abc", "abc", Unknown, None),
            ("---", "---", Unknown, None),
            ("12", "12", Unknown, None),
            ("1234567", "1234567", Unknown, None),
            ("12812345678", "12812345678", Unknown, None),
            ("+44abc", "+44abc", Unknown, None),
        ];
        for &(input, normalized, class, cc) in cases {
            let p = PartyNumber::parse(input).unwrap();
            assert_eq!(p.original(), input);
            assert_eq!(
                (p.normalized(), p.class(), p.country_code()),
                (normalized, class, cc),
                "{input:?}"
            );
        }
    }

    #[test]
    fn party_number_rejects_only_blank_or_long() {
        assert_eq!(PartyNumber::parse(""), Err(PhoneError::Blank));
        assert_eq!(PartyNumber::parse(" \t "), Err(PhoneError::Blank));
        assert_eq!(
            PartyNumber::parse(&"1".repeat(65)),
            Err(PhoneError::TooLong { got: 65 })
        );
        assert_eq!(
            PartyNumber::parse(&"1".repeat(64)).unwrap().class(),
            NumberClass::Unknown
        );
    }

    #[test]
    fn risk_signals_and_masking() {
        let virt = PartyNumber::parse("17012345678").unwrap();
        assert!(virt.class().is_risk_signal());
        assert_eq!(virt.masked(), "170****5678");
        let intl = PartyNumber::parse("+855 12 345 678").unwrap();
        assert!(intl.class().is_risk_signal());
        assert_eq!(intl.masked(), "+8******5678");
        let bank = PartyNumber::parse("95588").unwrap();
        assert!(!bank.class().is_risk_signal());
        assert_eq!(bank.masked(), "95588");
        assert_eq!(
            PartyNumber::parse("+8618612345678").unwrap().carrier_hint(),
            Some(Carrier::ChinaUnicom)
        );
        assert_eq!(NumberClass::Service95.as_str(), "service_95");
        assert_eq!(NumberClass::FixedLine.as_str(), "fixed_line");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,70}|[+0-9 ()-]{0,20}") {
            let _ = Msisdn::parse(&s);
            if let Ok(p) = PartyNumber::parse(&s) {
                proptest::prop_assert_eq!(p.original(), s.as_str());
                let _ = p.masked();
            }
        }
    }

    #[test]
    fn country_code_lengths() {
        for (digits, len) in [
            ("1212", 1),
            ("7495", 1),
            ("20", 2),
            ("44", 2),
            ("86", 2),
            ("98", 2),
            ("855", 3),
            ("852", 3),
            ("886", 3),
            ("971", 3),
            ("", 3),
        ] {
            assert_eq!(country_code_len(digits), len, "{digits}");
        }
    }
}
