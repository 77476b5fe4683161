//! Simulation time: whole seconds on Beijing time (+08:00), counted from 1970-01-01T00:00:00
//! local, and their RFC 3339 text written by hand.
//!
//! The simulation starts at 2026-03-01T00:00:00+08:00 ([`START`]) and runs `--days` days.
//! Formatting is on the hot path (tens of millions of timestamps), so it uses Hinnant's
//! civil-date arithmetic and writes digits directly, with no allocation and no time-zone
//! lookup: China has kept a fixed +08:00 offset since 1991.

/// Seconds in a day.
pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
pub const MINUTE: i64 = 60;

/// 2026-03-01T00:00:00+08:00 in local seconds.
pub const START: i64 = days_from_civil(2026, 3, 1) * DAY;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
pub const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of the week, 0 = Monday.
pub fn weekday(local: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((local.div_euclid(DAY) + 3).rem_euclid(7)) as u32
}

fn two(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// `2026-03-01T09:30:00+08:00` (25 bytes).
pub fn rfc3339(local: i64) -> [u8; 25] {
    let mut b = *b"0000-00-00T00:00:00+08:00";
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    let s = local.rem_euclid(DAY) as u32;
    let y = y.clamp(0, 9999) as u32;
    two(&mut b[0..2], y / 100);
    two(&mut b[2..4], y % 100);
    two(&mut b[5..7], m);
    two(&mut b[8..10], d);
    two(&mut b[11..13], s / 3600);
    two(&mut b[14..16], s / 60 % 60);
    two(&mut b[17..19], s % 60);
    b
}

/// `YYYYMMDD` of a local instant (for identity numbers).
pub fn yyyymmdd(local: i64) -> String {
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_formats_and_parses_as_the_documented_instant() {
        let text = rfc3339(START);
        assert_eq!(&text, b"2026-03-01T00:00:00+08:00");
        let s = std::str::from_utf8(&text).unwrap_or_default();
        let i = fanzha_core::Instant::parse_rfc3339(s).map(|i| i.micros());
        // 2026-02-28T16:00:00Z.
        assert_eq!(i, Ok(1_772_294_400_000_000));
    }

    #[test]
    fn civil_round_trips_and_weekdays() {
        for z in [-800_000, -1, 0, 1, 20_000, 20_513, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(
            &rfc3339(START + 9 * HOUR + 30 * MINUTE + 5)[..],
            b"2026-03-01T09:30:05+08:00"
        );
        assert_eq!(
            &rfc3339(days_from_civil(1946, 8, 12) * DAY)[..10],
            b"1946-08-12"
        );
        // 2026-03-01 is a Sunday.
        assert_eq!(weekday(START), 6);
    }
}
