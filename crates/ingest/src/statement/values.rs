//! Reading a statement's cells: dates and times in the many styles banks write them, and
//! amounts in yuan.
//!
//! A workbook cell may be text, a number or an Excel date; the column decides the meaning.
//! Excel dates are serial numbers (days since 1899-12-30, the fraction being the time of day),
//! and a bank that writes `20260301` into a number cell means a date, not a count of days.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use fanzha_core::Money;

use crate::grid::{format_number, Cell};

use super::profile::Dates;

/// The latest Excel serial date, 9999-12-31.
const MAX_SERIAL: f64 = 2_958_466.0;

/// A date-time from an Excel serial number, rounded to the second (a serial's fraction is
/// binary and rarely lands exactly on one).
pub fn from_serial(serial: f64) -> Option<NaiveDateTime> {
    if !serial.is_finite() || !(1.0..MAX_SERIAL).contains(&serial) {
        return None;
    }
    let days = serial.floor();
    let secs = ((serial - days) * 86_400.0).round() as i64;
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    base.checked_add_signed(Duration::days(days as i64))?
        .checked_add_signed(Duration::seconds(secs))
}

/// A number that is better read as its digits: `20260301` or `20260301093000` typed into a
/// number cell. Serial dates stay below eight digits until the year 2173.
fn is_digit_date(n: f64) -> bool {
    n.fract() == 0.0 && n >= 1e7
}

/// What a date or time cell gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A day only.
    Date(NaiveDate),
    /// A time of day only.
    Time(NaiveTime),
    DateTime(NaiveDateTime),
}

/// Reads a date, date-time or time cell with the profile's patterns.
pub fn parse_when(cell: &Cell, dates: &Dates) -> Result<When, String> {
    match cell {
        Cell::Empty => Err("is empty".to_owned()),
        Cell::Bool(b) => Err(format!("`{b}` is not a date")),
        Cell::Date(n) | Cell::Number(n) if !is_digit_date(*n) => number_when(*n),
        Cell::Date(n) | Cell::Number(n) => text_when(&format_number(*n), dates),
        Cell::Text(s) => text_when(s.trim(), dates),
    }
}

fn number_when(n: f64) -> Result<When, String> {
    // Below one day: a time of day (an Excel time, or a time column typed as a fraction).
    if (0.0..1.0).contains(&n) {
        let secs = (n * 86_400.0).round() as u32;
        return NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0)
            .map(When::Time)
            .ok_or_else(|| format!("`{n}` is not a time of day"));
    }
    // A whole number up to 235959 in a time column would be `93015` for 09:30:15; in a date
    // column it is a serial day. The caller knows the column; here a whole number is a day.
    match from_serial(n) {
        Some(dt) if n.fract() == 0.0 => Ok(When::Date(dt.date())),
        Some(dt) => Ok(When::DateTime(dt)),
        None => Err(format!(
            "`{}` is not an Excel date serial number",
            format_number(n)
        )),
    }
}

fn text_when(s: &str, dates: &Dates) -> Result<When, String> {
    if s.is_empty() {
        return Err("is empty".to_owned());
    }
    for f in &dates.datetime_formats {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(When::DateTime(dt));
        }
    }
    for f in &dates.date_formats {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Ok(When::Date(d));
        }
    }
    for f in &dates.time_formats {
        if let Ok(t) = NaiveTime::parse_from_str(s, f) {
            return Ok(When::Time(t));
        }
    }
    // A CSV export of an Excel date column carries the serial as text: `46082` or `46082.39`.
    if s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        if let Ok(n) = s.parse::<f64>() {
            if !is_digit_date(n) && n >= 1.0 {
                return number_when(n);
            }
        }
    }
    Err(format!(
        "`{s}` is not a date or time in any of the profile's formats ({})",
        sample_formats(dates)
    ))
}

fn sample_formats(dates: &Dates) -> String {
    let all: Vec<&str> = dates
        .datetime_formats
        .iter()
        .chain(&dates.date_formats)
        .map(String::as_str)
        .collect();
    let shown: Vec<&str> = all.iter().take(6).copied().collect();
    if all.len() > shown.len() {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Reads a time-of-day cell beside a date column. Digits lose their leading zero when a bank
/// stores `093015` as a number, so short digit strings are padded back.
pub fn parse_time(cell: &Cell, dates: &Dates) -> Result<When, String> {
    let digits = match cell {
        Cell::Number(n) if n.fract() == 0.0 && (0.0..=235_959.0).contains(n) => {
            Some(format_number(*n))
        }
        Cell::Text(s) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.trim().to_owned())
        }
        _ => None,
    };
    if let Some(d) = digits {
        let (padded, fmt) = match d.len() {
            1..=4 => (format!("{d:0>4}"), "%H%M"),
            5 | 6 => (format!("{d:0>6}"), "%H%M%S"),
            _ => (d.clone(), ""),
        };
        if !fmt.is_empty() {
            return NaiveTime::parse_from_str(&padded, fmt)
                .map(When::Time)
                .map_err(|_| format!("`{d}` is not a time of day"));
        }
    }
    parse_when(cell, dates)
}

/// Parses an amount in yuan into fen: text as banks write it (`1,234.56`, `¥1,234.56`,
/// `-500.00`, `1234.5600`, `100元`) or a number cell. `Ok(None)` for an empty cell.
pub fn parse_amount(cell: &Cell, empty_values: &[String]) -> Result<Option<Money>, String> {
    let text = match cell {
        Cell::Empty => return Ok(None),
        Cell::Bool(b) => return Err(format!("`{b}` is not an amount")),
        Cell::Number(n) | Cell::Date(n) => {
            if !n.is_finite() {
                return Err(format!("`{n}` is not an amount"));
            }
            // The shortest text that reads back as the same double is what Excel shows;
            // rounding that text half away from zero avoids binary artefacts (2.675 is
            // 2.67499… as a double, and `{:.2}` would round ties to even besides).
            round_to_fen_text(&n.to_string())
        }
        Cell::Text(s) => s.trim().to_owned(),
    };
    if text.is_empty() || empty_values.iter().any(|e| e == &text) {
        return Ok(None);
    }
    let cleaned = clean_amount_text(&text);
    Money::parse_yuan(&cleaned)
        .map(Some)
        .map_err(|e| format!("`{text}` is not an amount in yuan: {e}"))
}

/// Strips what banks add around an amount and decimals beyond the fen that are all zeros.
fn clean_amount_text(s: &str) -> String {
    let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    for suffix in ["元", "RMB", "CNY"] {
        if let Some(r) = t.strip_suffix(suffix) {
            t = r.to_owned();
        }
    }
    for prefix in ["RMB", "CNY", "+"] {
        if let Some(r) = t.strip_prefix(prefix) {
            t = r.to_owned();
        }
    }
    if let Some((int, frac)) = t.split_once('.') {
        // ASCII first: slicing at byte 2 of `元…` would cut a character.
        if frac.is_ascii() && frac.len() > 2 && frac[2..].bytes().all(|b| b == b'0') {
            t = format!("{int}.{}", &frac[..2]);
        }
    }
    t
}

/// Rounds a plain decimal text (`-12.345`) to two decimals, half away from zero.
fn round_to_fen_text(s: &str) -> String {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if frac.len() <= 2 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let round_up = frac.as_bytes()[2] >= b'5';
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes().take(2)).collect();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 2;
    let int_part = String::from_utf8_lossy(&digits[..split]).into_owned();
    let frac_part = String::from_utf8_lossy(&digits[split..]).into_owned();
    let int_part = if int_part.is_empty() {
        "0".to_owned()
    } else {
        int_part
    };
    format!("{}{int_part}.{frac_part}", if neg { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates() -> Dates {
        super::super::profile::Profile::default_bundled()
            .unwrap()
            .dates
    }

    fn fen(c: Cell) -> i64 {
        parse_amount(&c, &[]).unwrap().unwrap().fen()
    }

    #[test]
    fn amounts() {
        assert_eq!(fen(Cell::Text("1,234.56".into())), 123_456);
        assert_eq!(fen(Cell::Text("¥1,234.56".into())), 123_456);
        assert_eq!(fen(Cell::Text("-500.00".into())), -50_000);
        assert_eq!(fen(Cell::Text("1234.5600".into())), 123_456);
        assert_eq!(fen(Cell::Text("100元".into())), 10_000);
        assert_eq!(fen(Cell::Number(2.675)), 268);
        assert_eq!(fen(Cell::Number(0.125)), 13);
        assert_eq!(fen(Cell::Number(-0.125)), -13);
        assert_eq!(fen(Cell::Number(9.995)), 1000);
        assert_eq!(fen(Cell::Number(49800.0)), 4_980_000);
        assert!(parse_amount(&Cell::Text("12.3.4".into()), &[]).is_err());
        assert!(parse_amount(&Cell::Text("1234.567".into()), &[]).is_err());
        assert_eq!(
            parse_amount(&Cell::Text("--".into()), &["--".into()]).unwrap(),
            None
        );
    }

    #[test]
    fn serials() {
        let dt = from_serial(46082.0 + 0.5).unwrap();
        assert_eq!(dt.to_string(), "2026-03-01 12:00:00");
        let dt = from_serial(46082.0 + (9.0 * 3600.0 + 30.0 * 60.0 + 15.0) / 86400.0).unwrap();
        assert_eq!(dt.to_string(), "2026-03-01 09:30:15");
        assert_eq!(from_serial(0.5), None);
    }

    #[test]
    fn text_dates() {
        let d = dates();
        let dt = |s: &str| parse_when(&Cell::Text(s.into()), &d).unwrap();
        let want = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        for s in [
            "2026-03-01 09:30:00",
            "2026/03/01 09:30",
            "20260301 093000",
            "20260301093000",
            "2026年3月1日 9:30:00",
        ] {
            assert_eq!(dt(s), When::DateTime(want), "{s}");
        }
        assert_eq!(dt("2026-03-01"), When::Date(want.date()));
        assert_eq!(dt("46082"), When::Date(want.date()));
        assert_eq!(
            parse_when(&Cell::Number(20260301.0), &d).unwrap(),
            When::Date(want.date())
        );
        assert!(parse_when(&Cell::Text("2026-02-30".into()), &d).is_err());
    }

    #[test]
    fn times() {
        let d = dates();
        let t = |c: Cell| parse_time(&c, &d).unwrap();
        let want = When::Time(NaiveTime::from_hms_opt(9, 30, 15).unwrap());
        assert_eq!(t(Cell::Text("093015".into())), want);
        assert_eq!(t(Cell::Text("09:30:15".into())), want);
        assert_eq!(t(Cell::Number(93015.0)), want);
        assert_eq!(
            t(Cell::Date((9.0 * 3600.0 + 30.0 * 60.0 + 15.0) / 86400.0)),
            want
        );
        assert!(parse_time(&Cell::Text("25:00:00".into()), &d).is_err());
    }
}
