//! Bank and payment accounts: card numbers, account classes and states, and
//! the shape of counterparty account strings.
//!
//! Accounts we hold are checked strictly (a personal account must be a card
//! number that passes the Luhn check). Counterparty accounts in transaction
//! records are never rejected, only described by [`account_form`], because
//! they come from other banks' and payment platforms' formats.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::mask;

/// Why an account value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AccountError {
    #[error("card number must be 12 to 19 digits, got {got}")]
    CardLength { got: usize },
    #[error(
        "card number has invalid character {ch:?} at position {position}; only digits are allowed"
    )]
    CardChar { ch: char, position: usize },
    #[error("card number fails the Luhn check (last digit {found}, expected {expected})")]
    Luhn { found: char, expected: char },
    #[error("unknown account class {0:?}; expected one of I, II, III, corporate, payment")]
    UnknownClass(String),
    #[error("unknown account status {0:?}; expected one of active, dormant, restricted, closed")]
    UnknownStatus(String),
    #[error("account number is empty")]
    Empty,
    #[error("account number has leading or trailing whitespace")]
    Whitespace,
    #[error("account number has a control character at position {position}")]
    ControlChar { position: usize },
    #[error("account number must be at most 64 characters, got {got}")]
    TooLong { got: usize },
}

/// The Luhn check digit that completes `payload` (ASCII digits).
fn luhn_check_digit(payload: &[u8]) -> u8 {
    // Doubling starts with the digit next to the check digit.
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    // sum % 10 < 10, so the value fits a u8.
    ((10 - sum % 10) % 10) as u8
}

/// The Luhn check digit that completes `payload`, for making valid card numbers (the
/// simulator, benchmarks, fixtures); `None` if `payload` has anything but ASCII digits.
pub fn luhn_digit_for(payload: &str) -> Option<char> {
    if !payload.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(char::from(b'0' + luhn_check_digit(payload.as_bytes())))
}

fn is_card_length(len: usize) -> bool {
    (12..=19).contains(&len)
}

/// Whether 12–19 ASCII digits end in the right Luhn check digit.
fn luhn_ok(digits: &str) -> bool {
    let b = digits.as_bytes();
    match b.split_last() {
        Some((&last, payload)) => last - b'0' == luhn_check_digit(payload),
        None => false,
    }
}

/// A bank card number: 12 to 19 digits passing the Luhn check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber(String);

impl CardNumber {
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(AccountError::CardChar {
                ch,
                position: i + 1,
            });
        }
        if !is_card_length(s.len()) {
            return Err(AccountError::CardLength { got: s.len() });
        }
        let b = s.as_bytes();
        if let Some((&last, payload)) = b.split_last() {
            let expected = luhn_check_digit(payload);
            if last - b'0' != expected {
                return Err(AccountError::Luhn {
                    found: char::from(last),
                    expected: char::from(b'0' + expected),
                });
            }
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `**** 1234`.
    pub fn masked(&self) -> String {
        mask::card(self.as_str())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CardNumber {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(CardNumber, CardNumber::parse);

/// The regulatory class of an account: personal Class I, II and III bank
/// accounts, corporate accounts, and payment-institution accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountClass {
    I,
    II,
    III,
    Corporate,
    Payment,
}

impl AccountClass {
    pub const ALL: [AccountClass; 5] = [
        AccountClass::I,
        AccountClass::II,
        AccountClass::III,
        AccountClass::Corporate,
        AccountClass::Payment,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AccountClass::I => "I",
            AccountClass::II => "II",
            AccountClass::III => "III",
            AccountClass::Corporate => "corporate",
            AccountClass::Payment => "payment",
        }
    }

    /// Classes I–III are personal bank accounts, which are always cards.
    pub fn is_personal_card(&self) -> bool {
        matches!(self, AccountClass::I | AccountClass::II | AccountClass::III)
    }
}

impl FromStr for AccountClass {
    type Err = AccountError;

    /// Accepts the canonical names case-insensitively, and `1`, `2`, `3` for
    /// the personal classes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let class = match s {
            "1" => AccountClass::I,
            "2" => AccountClass::II,
            "3" => AccountClass::III,
            _ => AccountClass::ALL
                .into_iter()
                .find(|c| c.as_str().eq_ignore_ascii_case(s))
                .ok_or_else(|| AccountError::UnknownClass(s.to_owned()))?,
        };
        Ok(class)
    }
}

impl fmt::Display for AccountClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_serde!(AccountClass, AccountClass::from_str);

/// The state of an account as reported by the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountStatus {
    Active,
    Dormant,
    Restricted,
    Closed,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 4] = [
        AccountStatus::Active,
        AccountStatus::Dormant,
        AccountStatus::Restricted,
        AccountStatus::Closed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Dormant => "dormant",
            AccountStatus::Restricted => "restricted",
            AccountStatus::Closed => "closed",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| AccountError::UnknownStatus(s.to_owned()))
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_serde!(AccountStatus, AccountStatus::from_str);

/// One of our accounts' numbers: a checked card for personal classes,
/// otherwise the bank's or platform's own identifier kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountNumber {
    Card(CardNumber),
    Other(String),
}

impl AccountNumber {
    /// Parses an account number for an account of `class`. Personal classes
    /// (I–III) require a valid card number; anything else must be non-empty,
    /// free of surrounding whitespace and control characters, and at most 64
    /// characters, and is kept exactly as given.
    pub fn parse(class: Option<AccountClass>, s: &str) -> Result<Self, AccountError> {
        if class.is_some_and(|c| c.is_personal_card()) {
            return CardNumber::parse(s).map(AccountNumber::Card);
        }
        if s.is_empty() {
            return Err(AccountError::Empty);
        }
        if s.trim() != s {
            return Err(AccountError::Whitespace);
        }
        if let Some(i) = s.chars().position(char::is_control) {
            return Err(AccountError::ControlChar { position: i + 1 });
        }
        let got = s.chars().count();
        if got > 64 {
            return Err(AccountError::TooLong { got });
        }
        Ok(AccountNumber::Other(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            AccountNumber::Card(card) => card.as_str(),
            AccountNumber::Other(s) => s,
        }
    }

    /// `**** 1234`.
    pub fn masked(&self) -> String {
        mask::card(self.as_str())
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AccountNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The shape of a counterparty account string, for marking rather than
/// rejecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountForm {
    /// 12–19 digits with a valid Luhn check digit.
    Card,
    /// All digits, but not a valid card number.
    Digits,
    Other,
}

impl AccountForm {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountForm::Card => "card",
            AccountForm::Digits => "digits",
            AccountForm::Other => "other",
        }
    }
}

impl fmt::Display for AccountForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AccountForm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Describes a counterparty account string without judging it.
pub fn account_form(s: &str) -> AccountForm {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        AccountForm::Other
    } else if is_card_length(s.len()) && luhn_ok(s) {
        AccountForm::Card
    } else {
        AccountForm::Digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Luhn completion written independently of the implementation: a
    /// lookup table for the digit sum of doubled digits.
    fn complete(payload: &str) -> String {
        const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
        let sum: u32 = payload
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = usize::from(b - b'0');
                if i % 2 == 0 {
                    DOUBLED[d]
                } else {
                    d as u32
                }
            })
            .sum();
        format!("{payload}{}", (10 - sum % 10) % 10)
    }

    #[test]
    fn a_completed_payload_parses_as_a_card() {
        let payload = "622202123456789012";
        let card = format!("{payload}{}", luhn_digit_for(payload).unwrap());
        assert!(CardNumber::parse(&card).is_ok(), "{card}");
        assert_eq!(luhn_digit_for("62220x"), None);
    }

    #[test]
    fn known_valid_cards() {
        for s in [
            "4111111111111111",
            "6222021234567890128",
            "5555555555554444",
            "378282246310005",
        ] {
            assert_eq!(complete(&s[..s.len() - 1]), s);
            assert_eq!(CardNumber::parse(s).unwrap().as_str(), s);
            assert_eq!(account_form(s), AccountForm::Card);
        }
    }

    #[test]
    fn computed_cards_of_every_length() {
        for len in 12..=19 {
            let payload: String = "621700123456789012345"[..len - 1].to_owned();
            let s = complete(&payload);
            assert!(CardNumber::parse(&s).is_ok(), "{s}");
        }
    }

    #[test]
    fn mistyped_digit_is_caught() {
        let err = CardNumber::parse("6222021234567890138").unwrap_err();
        assert!(matches!(err, AccountError::Luhn { .. }));
        let err = CardNumber::parse("4111111111111113").unwrap_err();
        assert_eq!(
            err.to_string(),
            "card number fails the Luhn check (last digit 3, expected 1)"
        );
    }

    #[test]
    fn transposition_is_caught() {
        // 6222021234567890128 with "78" swapped to "87".
        assert!(CardNumber::parse("6222021234568790128").is_err());
        assert_eq!(account_form("6222021234568790128"), AccountForm::Digits);
    }

    #[test]
    fn card_shape_errors() {
        assert_eq!(
            CardNumber::parse("41111111111").unwrap_err().to_string(),
            "card number must be 12 to 19 digits, got 11"
        );
        assert!(matches!(
            CardNumber::parse("41111111111111111111"),
            Err(AccountError::CardLength { got: 20 })
        ));
        assert_eq!(
            CardNumber::parse("4111 1111 1111 1111"),
            Err(AccountError::CardChar {
                ch: ' ',
                position: 5
            })
        );
        assert!(matches!(
            CardNumber::parse(""),
            Err(AccountError::CardLength { got: 0 })
        ));
    }

    #[test]
    fn masking() {
        assert_eq!(
            CardNumber::parse("6222021234567890128").unwrap().masked(),
            "**** 0128"
        );
    }

    #[test]
    fn classes() {
        for class in AccountClass::ALL {
            assert_eq!(class.as_str().parse::<AccountClass>(), Ok(class));
        }
        for (s, class) in [
            ("1", AccountClass::I),
            ("2", AccountClass::II),
            ("3", AccountClass::III),
            ("i", AccountClass::I),
            ("ii", AccountClass::II),
            ("iii", AccountClass::III),
            ("Corporate", AccountClass::Corporate),
        ] {
            assert_eq!(s.parse::<AccountClass>(), Ok(class), "{s}");
        }
        assert!("IV".parse::<AccountClass>().is_err());
        assert!("4".parse::<AccountClass>().is_err());
        assert!(AccountClass::II.is_personal_card());
        assert!(!AccountClass::Corporate.is_personal_card());
        assert!(!AccountClass::Payment.is_personal_card());
    }

    #[test]
    fn statuses() {
        for status in AccountStatus::ALL {
            assert_eq!(status.as_str().parse::<AccountStatus>(), Ok(status));
        }
        assert!("frozen".parse::<AccountStatus>().is_err());
    }

    #[test]
    fn account_number_class_rules() {
        let card = "6222021234567890128";
        assert!(matches!(
            AccountNumber::parse(Some(AccountClass::II), card),
            Ok(AccountNumber::Card(_))
        ));
        assert!(AccountNumber::parse(Some(AccountClass::I), "6222021234567890127").is_err());
        assert!(AccountNumber::parse(Some(AccountClass::III), "wx_abc123").is_err());

        let other = AccountNumber::parse(Some(AccountClass::Payment), "wx_abc123").unwrap();
        assert_eq!(other, AccountNumber::Other("wx_abc123".to_owned()));
        assert_eq!(
            AccountNumber::parse(Some(AccountClass::Corporate), card)
                .unwrap()
                .as_str(),
            card
        );
        assert!(AccountNumber::parse(None, "1234567890").is_ok());
        assert_eq!(AccountNumber::parse(None, ""), Err(AccountError::Empty));
        assert_eq!(
            AccountNumber::parse(None, " 12 "),
            Err(AccountError::Whitespace)
        );
        assert_eq!(
            AccountNumber::parse(None, "12\u{0}3"),
            Err(AccountError::ControlChar { position: 3 })
        );
        assert_eq!(
            AccountNumber::parse(None, &"户".repeat(65)),
            Err(AccountError::TooLong { got: 65 })
        );
        assert!(AccountNumber::parse(None, &"户".repeat(64)).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn every_card_of_account_form_parses(s in "\\PC{0,25}|[0-9]{10,20}") {
            let parsed = CardNumber::parse(&s);
            proptest::prop_assert_eq!(parsed.is_ok(), account_form(&s) == AccountForm::Card);
            let _ = AccountNumber::parse(None, &s);
        }
    }

    #[test]
    fn forms() {
        assert_eq!(account_form("6222021234567890128"), AccountForm::Card);
        assert_eq!(account_form("123"), AccountForm::Digits);
        assert_eq!(account_form("12345678901234567890"), AccountForm::Digits);
        assert_eq!(account_form("alipay:138****"), AccountForm::Other);
        assert_eq!(account_form(""), AccountForm::Other);
        assert_eq!(AccountForm::Digits.as_str(), "digits");
    }
}
