//! How figures read on a page: yuan with two decimals and thousands separators, Beijing
//! time, counts with separators, changes as signed percentages.

use fanzha_core::money::Money;
use fanzha_core::time::Instant;

/// Fen as yuan: `1,234,567.89`.
pub fn yuan(fen: i64) -> String {
    Money::from_fen(fen).yuan_string()
}

/// A count with thousands separators: `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        // ASCII digits: every chunk is valid UTF-8.
        .map(|g| std::str::from_utf8(g).unwrap_or_default())
        .collect();
    groups.join(",")
}

/// UTC microseconds as Beijing time to the second: `2026-03-01 09:30:00`; an instant outside
/// the supported range (corrupt data) is shown as its raw number rather than hidden.
pub fn time(micros: i64) -> String {
    Instant::from_micros(micros).map_or_else(|| micros.to_string(), |i| i.to_string())
}

/// Beijing time to the minute, for dense tables.
pub fn time_short(micros: i64) -> String {
    let mut t = time(micros);
    if t.len() == 19 {
        t.truncate(16);
    }
    t
}

/// The change from `before` to `now` in percent, one decimal, signed (`+12.5%`); `None`
/// when there was nothing before to compare with.
pub fn change_percent(now: i64, before: i64) -> Option<String> {
    if before == 0 {
        return None;
    }
    // i128: a sum of losses in fen times 1000 can exceed i64.
    let permille = (i128::from(now) - i128::from(before)) * 1000 / i128::from(before);
    let sign = if permille > 0 {
        "+"
    } else if permille < 0 {
        "-"
    } else {
        ""
    };
    let abs = permille.unsigned_abs();
    Some(format!("{sign}{}.{}%", abs / 10, abs % 10))
}

/// A day `YYYY-MM-DD` as `MM-DD` for axis labels.
pub fn month_day(day: &str) -> &str {
    day.get(5..).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        // 2026-03-01T01:30:00Z is 09:30 in Beijing.
        assert_eq!(time(1_772_328_600_000_000), "2026-03-01 09:30:00");
        assert_eq!(time_short(1_772_328_600_000_000), "2026-03-01 09:30");
        assert_eq!(time(i64::MAX), i64::MAX.to_string());
        assert_eq!(month_day("2026-03-01"), "03-01");
    }

    #[test]
    fn changes_are_signed_percentages() {
        assert_eq!(change_percent(150, 100).as_deref(), Some("+50.0%"));
        assert_eq!(change_percent(75, 100).as_deref(), Some("-25.0%"));
        assert_eq!(change_percent(100, 100).as_deref(), Some("0.0%"));
        assert_eq!(change_percent(1, 3).as_deref(), Some("-66.6%"));
        assert_eq!(change_percent(5, 0), None);
        assert!(change_percent(i64::MAX, 1).is_some());
    }
}
