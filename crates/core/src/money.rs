//! Amounts of money in renminbi, held as whole fen (1/100 yuan).
//!
//! Integer fen avoid the rounding drift of floating point across millions of
//! transactions. Arithmetic is checked only: an overflow is reported as
//! `None` instead of wrapping or panicking.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an amount could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {input:?} has no digits")]
    NoDigits { input: String },
    #[error("amount {input:?} has unexpected character {ch:?}")]
    InvalidChar { input: String, ch: char },
    #[error("amount {input:?} has {got} decimal places, at most 2 are allowed")]
    TooManyDecimals { input: String, got: usize },
    #[error("amount {input:?} has no digits after the decimal point")]
    NoFractionDigits { input: String },
    #[error("amount {input:?} has no digits before the decimal point")]
    NoIntegerDigits { input: String },
    #[error("amount {input:?} has misplaced thousands separators; groups after the first must have exactly 3 digits")]
    Grouping { input: String },
    #[error("amount {input:?} does not fit in a 64-bit count of fen")]
    Overflow { input: String },
}

/// An amount in fen. Negative amounts are allowed (refunds, reversals).
///
/// Serialises as the integer number of fen, the lossless storage form.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn fen(&self) -> i64 {
        self.0
    }

    pub const fn zero() -> Self {
        Money(0)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }

    pub const fn is_positive(&self) -> bool {
        self.0 > 0
    }

    pub const fn is_negative(&self) -> bool {
        self.0 < 0
    }

    pub const fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parses an integer count of fen: an optional leading `-` and ASCII
    /// digits, nothing else.
    pub fn parse_fen(s: &str) -> Result<Money, MoneyError> {
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if digits.is_empty() {
            return Err(MoneyError::NoDigits {
                input: s.to_owned(),
            });
        }
        if let Some(ch) = digits.chars().find(|c| !c.is_ascii_digit()) {
            return Err(MoneyError::InvalidChar {
                input: s.to_owned(),
                ch,
            });
        }
        to_fen(negative, digits.bytes(), s)
    }

    /// Parses an amount in yuan as written by people and bank exports:
    /// `1234.56`, `1,234.56`, `¥1,234.56`, `￥1,234.56`, `-¥12.5`, `12`.
    ///
    /// Surrounding whitespace is ignored; at most 2 decimal places; thousands
    /// separators must delimit groups of exactly 3 digits.
    pub fn parse_yuan(s: &str) -> Result<Money, MoneyError> {
        let err_input = || s.to_owned();
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(MoneyError::Empty);
        }
        // Accept the sign on either side of the currency symbol: `-¥12`, `¥-12`.
        let mut negative = false;
        if let Some(r) = rest.strip_prefix('-') {
            negative = true;
            rest = r;
        }
        if let Some(r) = rest.strip_prefix(['¥', '￥']) {
            rest = r;
        }
        if !negative {
            if let Some(r) = rest.strip_prefix('-') {
                negative = true;
                rest = r;
            }
        }

        let (int_part, frac_part) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        if let Some(ch) = rest
            .chars()
            .find(|&c| !(c.is_ascii_digit() || c == ',' || c == '.'))
        {
            return Err(MoneyError::InvalidChar {
                input: err_input(),
                ch,
            });
        }
        if rest.is_empty() {
            return Err(MoneyError::NoDigits { input: err_input() });
        }
        let frac = match frac_part {
            None => "",
            Some(f) => {
                if let Some(ch) = f.chars().find(|c| !c.is_ascii_digit()) {
                    return Err(MoneyError::InvalidChar {
                        input: err_input(),
                        ch,
                    });
                }
                if f.is_empty() {
                    return Err(MoneyError::NoFractionDigits { input: err_input() });
                }
                if f.len() > 2 {
                    return Err(MoneyError::TooManyDecimals {
                        input: err_input(),
                        got: f.len(),
                    });
                }
                f
            }
        };
        if int_part.is_empty() {
            return Err(MoneyError::NoIntegerDigits { input: err_input() });
        }
        let int_digits =
            ungroup(int_part).ok_or_else(|| MoneyError::Grouping { input: err_input() })?;
        // Pad the fraction to exactly two digits so the digit string denotes fen.
        let padding = b"00".iter().copied().take(2 - frac.len());
        to_fen(
            negative,
            int_digits.bytes().chain(frac.bytes()).chain(padding),
            s,
        )
    }

    /// The amount in yuan with thousands separators and two decimals, without
    /// a currency sign: `1,234.56`, `-0.05`.
    pub fn yuan_string(&self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{}", unsigned_yuan(self.0.unsigned_abs()))
    }
}

/// Removes thousands separators from an integer part, or `None` if they are
/// not placed every 3 digits from the right.
fn ungroup(int_part: &str) -> Option<String> {
    if !int_part.contains(',') {
        return Some(int_part.to_owned());
    }
    let mut groups = int_part.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_owned();
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// Builds a signed amount from ASCII decimal digits that already denote fen.
fn to_fen(
    negative: bool,
    digits: impl Iterator<Item = u8>,
    input: &str,
) -> Result<Money, MoneyError> {
    let overflow = || MoneyError::Overflow {
        input: input.to_owned(),
    };
    // i128 holds any i64 magnitude, including |i64::MIN|, so the final
    // conversion is the only range check needed.
    let mut magnitude: i128 = 0;
    for b in digits {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map(Money).map_err(|_| overflow())
}

/// Formats a magnitude in fen as `1,234.56`.
fn unsigned_yuan(fen: u64) -> String {
    let yuan = (fen / 100).to_string();
    let mut out = String::with_capacity(yuan.len() + yuan.len() / 3 + 3);
    // The leading group holds 1 to 3 digits; every later group exactly 3.
    let mut left_in_group = (yuan.len() - 1) % 3 + 1;
    for ch in yuan.chars() {
        if left_in_group == 0 {
            out.push(',');
            left_in_group = 3;
        }
        out.push(ch);
        left_in_group -= 1;
    }
    out.push_str(&format!(".{:02}", fen % 100));
    out
}

impl fmt::Display for Money {
    /// `¥1,234.56`, or `-¥1,234.56` for negative amounts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}¥{}", unsigned_yuan(self.0.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_fen_accepts_integers() {
        assert_eq!(Money::parse_fen("123456"), Ok(Money::from_fen(123_456)));
        assert_eq!(Money::parse_fen("-5"), Ok(Money::from_fen(-5)));
        assert_eq!(Money::parse_fen("-0"), Ok(Money::zero()));
        assert_eq!(
            Money::parse_fen("-9223372036854775808"),
            Ok(Money::from_fen(i64::MIN))
        );
        assert_eq!(
            Money::parse_fen("9223372036854775807"),
            Ok(Money::from_fen(i64::MAX))
        );
    }

    #[test]
    fn parse_fen_rejects() {
        assert_eq!(Money::parse_fen(""), Err(MoneyError::Empty));
        assert!(matches!(
            Money::parse_fen("-"),
            Err(MoneyError::NoDigits { .. })
        ));
        assert!(matches!(
            Money::parse_fen("+5"),
            Err(MoneyError::InvalidChar { ch: '+', .. })
        ));
        assert!(matches!(
            Money::parse_fen("12.5"),
            Err(MoneyError::InvalidChar { ch: '.', .. })
        ));
        assert!(matches!(
            Money::parse_fen(" 12"),
            Err(MoneyError::InvalidChar { ch: ' ', .. })
        ));
        assert!(matches!(
            Money::parse_fen("9223372036854775808"),
            Err(MoneyError::Overflow { .. })
        ));
        assert!(matches!(
            Money::parse_fen(&"9".repeat(60)),
            Err(MoneyError::Overflow { .. })
        ));
    }

    #[test]
    fn parse_yuan_accepts_common_forms() {
        let cases = [
            ("1234.56", 123_456),
            ("1,234.56", 123_456),
            ("¥1,234.56", 123_456),
            ("￥1,234.56", 123_456),
            ("-12.5", -1_250),
            ("12", 1_200),
            (" 12.00 ", 1_200),
            ("-¥1,234.56", -123_456),
            ("¥-3", -300),
            ("0.05", 5),
            ("1,000,000", 100_000_000),
            ("-92,233,720,368,547,758.08", i64::MIN),
        ];
        for (input, fen) in cases {
            assert_eq!(
                Money::parse_yuan(input),
                Ok(Money::from_fen(fen)),
                "{input}"
            );
        }
    }

    #[test]
    fn parse_yuan_names_the_reason() {
        let msg = |s: &str| Money::parse_yuan(s).unwrap_err().to_string();
        assert_eq!(msg("   "), "amount is empty");
        assert_eq!(
            msg("1.234"),
            "amount \"1.234\" has 3 decimal places, at most 2 are allowed"
        );
        assert_eq!(
            msg("12,34.5"),
            "amount \"12,34.5\" has misplaced thousands separators; groups after the first must have exactly 3 digits"
        );
        assert!(matches!(
            Money::parse_yuan("1234,567"),
            Err(MoneyError::Grouping { .. })
        ));
        assert!(matches!(
            Money::parse_yuan(",123"),
            Err(MoneyError::Grouping { .. })
        ));
        assert!(matches!(
            Money::parse_yuan("12."),
            Err(MoneyError::NoFractionDigits { .. })
        ));
        assert!(matches!(
            Money::parse_yuan(".5"),
            Err(MoneyError::NoIntegerDigits { .. })
        ));
        assert!(matches!(
            Money::parse_yuan("1.2.3"),
            Err(MoneyError::InvalidChar { ch: '.', .. })
        ));
        assert!(matches!(
            Money::parse_yuan("12元"),
            Err(MoneyError::InvalidChar { ch: '元', .. })
        ));
        assert!(matches!(
            Money::parse_yuan("--12"),
            Err(MoneyError::InvalidChar { ch: '-', .. })
        ));
        assert!(matches!(
            Money::parse_yuan("¥"),
            Err(MoneyError::NoDigits { .. })
        ));
        assert!(matches!(
            Money::parse_yuan("92233720368547758.08"),
            Err(MoneyError::Overflow { .. })
        ));
    }

    #[test]
    fn display() {
        assert_eq!(Money::from_fen(123_456).to_string(), "¥1,234.56");
        assert_eq!(Money::from_fen(-123_456).to_string(), "-¥1,234.56");
        assert_eq!(Money::from_fen(5).to_string(), "¥0.05");
        assert_eq!(Money::zero().to_string(), "¥0.00");
        assert_eq!(Money::from_fen(100_000_000).yuan_string(), "1,000,000.00");
        assert_eq!(
            Money::from_fen(i64::MIN).to_string(),
            "-¥92,233,720,368,547,758.08"
        );
        assert_eq!(Money::from_fen(-5).yuan_string(), "-0.05");
    }

    #[test]
    fn predicates_and_checked_ops() {
        assert!(Money::from_fen(1).is_positive());
        assert!(!Money::zero().is_positive());
        assert!(Money::from_fen(-1).is_negative());
        assert_eq!(Money::from_fen(3).checked_mul(4), Some(Money::from_fen(12)));
        assert_eq!(Money::from_fen(i64::MAX).checked_mul(2), None);
        assert_eq!(
            Money::from_fen(i64::MIN).checked_sub(Money::from_fen(1)),
            None
        );
    }

    proptest! {
        #[test]
        fn yuan_string_round_trips(fen in any::<i64>()) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(Money::parse_yuan(&m.yuan_string()), Ok(m));
            prop_assert_eq!(Money::parse_yuan(&m.to_string()), Ok(m));
            prop_assert_eq!(Money::parse_fen(&fen.to_string()), Ok(m));
        }

        #[test]
        fn checked_add_is_commutative_and_detects_overflow(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Money::from_fen(a), Money::from_fen(b));
            prop_assert_eq!(x.checked_add(y), y.checked_add(x));
            let wide = i128::from(a) + i128::from(b);
            let fits = i64::try_from(wide).is_ok();
            prop_assert_eq!(x.checked_add(y).is_none(), !fits);
            if let Some(sum) = x.checked_add(y) {
                prop_assert_eq!(i128::from(sum.fen()), wide);
            }
        }

        #[test]
        fn add_then_sub_restores(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Money::from_fen(a), Money::from_fen(b));
            if let Some(sum) = x.checked_add(y) {
                prop_assert_eq!(sum.checked_sub(y), Some(x));
            }
        }

        #[test]
        fn parse_yuan_never_panics(s in any::<String>()) {
            let _ = Money::parse_yuan(&s);
            let _ = Money::parse_fen(&s);
        }
    }
}
