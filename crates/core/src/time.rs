//! Points in time, stored as UTC microseconds and shown in China Standard Time.
//!
//! Input must carry an explicit UTC offset, because a bare wall-clock time in
//! a file from another province's system is ambiguous; the one deliberate
//! exception is [`shanghai_local`], for sources known to write Beijing time.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Why a timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    #[error(
        "timestamp {input:?} has no UTC offset; write it with one, e.g. 2026-03-01T09:30:00+08:00"
    )]
    NoOffset { input: String },
    #[error("timestamp {input:?} is outside the supported range (Beijing years 0001 to 9999)")]
    OutOfRange { input: String },
    #[error("timestamp {input:?} is not RFC 3339 (e.g. 2026-03-01T09:30:00+08:00): {reason}")]
    Invalid { input: String, reason: String },
}

/// Asia/Shanghai as a fixed +08:00 offset. China has observed no daylight
/// saving time since 1991, so for the data this platform handles a fixed
/// offset is exact and no time-zone database is needed.
const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time; +08:00 is always in range.
    None => panic!("+08:00 is a valid offset"),
};

/// 0001-01-01T00:00:00Z in microseconds.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999+08:00 in microseconds.
const MAX_MICROS: i64 = 253_402_271_999_999_999;

/// An instant on the UTC time line with microsecond resolution, the
/// resolution it is stored at.
///
/// The range is limited to what RFC 3339's four-digit years can express in
/// Beijing time, so every instant displays, serialises and parses back
/// without overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(DateTime<Utc>);

impl Instant {
    /// The earliest supported instant, 0001-01-01T00:00:00Z.
    pub const MIN: Instant = match DateTime::from_timestamp_micros(MIN_MICROS) {
        Some(dt) => Instant(dt),
        // Evaluated at compile time; the constant is within chrono's range.
        None => panic!("MIN_MICROS is representable"),
    };

    /// The latest supported instant, 9999-12-31T23:59:59.999999+08:00.
    pub const MAX: Instant = match DateTime::from_timestamp_micros(MAX_MICROS) {
        Some(dt) => Instant(dt),
        // Evaluated at compile time; the constant is within chrono's range.
        None => panic!("MAX_MICROS is representable"),
    };

    /// Parses an RFC 3339 timestamp with an explicit offset (`Z` or `±hh:mm`);
    /// fractional seconds are allowed and truncated to microseconds.
    pub fn parse_rfc3339(s: &str) -> Result<Instant, TimeError> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(dt) => {
                Self::from_micros(dt.timestamp_micros()).ok_or_else(|| TimeError::OutOfRange {
                    input: s.to_owned(),
                })
            }
            Err(e) => {
                let without_offset = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                    .iter()
                    .any(|fmt| NaiveDateTime::parse_from_str(s, fmt).is_ok());
                if without_offset {
                    Err(TimeError::NoOffset {
                        input: s.to_owned(),
                    })
                } else {
                    Err(TimeError::Invalid {
                        input: s.to_owned(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z, or `None`
    /// outside [`Instant::MIN`]..=[`Instant::MAX`].
    pub fn from_micros(micros: i64) -> Option<Instant> {
        if (MIN_MICROS..=MAX_MICROS).contains(&micros) {
            DateTime::from_timestamp_micros(micros).map(Instant)
        } else {
            None
        }
    }

    /// Microseconds since 1970-01-01T00:00:00Z: the storage form.
    pub fn micros(&self) -> i64 {
        self.0.timestamp_micros()
    }

    pub fn utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// The same instant on Beijing time (+08:00).
    pub fn shanghai(&self) -> DateTime<FixedOffset> {
        self.0.with_timezone(&SHANGHAI)
    }

    /// RFC 3339 in +08:00, with fractional seconds only when present:
    /// `2026-03-01T09:30:00+08:00`.
    pub fn to_rfc3339_shanghai(&self) -> String {
        self.shanghai()
            .to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }
}

/// Interprets a wall-clock time as Beijing time (+08:00), for sources such as
/// bank statements that record local time without an offset.
///
/// Sub-microsecond digits are dropped. Wall times outside years 0001 to 9999,
/// which no real record carries, saturate at [`Instant::MIN`] or
/// [`Instant::MAX`].
pub fn shanghai_local(naive: NaiveDateTime) -> Instant {
    // Only wall times within eight hours of NaiveDateTime::MIN have no UTC
    // counterpart, and they belong at the bottom of the range anyway.
    let micros = SHANGHAI
        .from_local_datetime(&naive)
        .single()
        .map_or(i64::MIN, |dt| dt.timestamp_micros());
    Instant::from_micros(micros.clamp(MIN_MICROS, MAX_MICROS)).unwrap_or(Instant::MIN)
}

impl fmt::Display for Instant {
    /// Beijing local time, to the second: `2026-03-01 09:30:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.shanghai().format("%Y-%m-%d %H:%M:%S"))
    }
}

impl Serialize for Instant {
    /// Serialises as RFC 3339 in +08:00, which [`Instant::parse_rfc3339`] reads back.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339_shanghai())
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Instant::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .unwrap()
    }

    #[test]
    fn parses_offsets() {
        let a = Instant::parse_rfc3339("2026-03-01T09:30:00+08:00").unwrap();
        let b = Instant::parse_rfc3339("2026-03-01T01:30:00Z").unwrap();
        let c = Instant::parse_rfc3339("2026-02-28T20:30:00-05:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_string(), "2026-03-01 09:30:00");
        assert_eq!(a.to_rfc3339_shanghai(), "2026-03-01T09:30:00+08:00");
        assert_eq!(a.utc().to_rfc3339(), "2026-03-01T01:30:00+00:00");
    }

    #[test]
    fn fractional_seconds() {
        let a = Instant::parse_rfc3339("2026-03-01T09:30:00.123456789+08:00").unwrap();
        assert_eq!(a.micros() % 1_000_000, 123_456);
        assert_eq!(a.to_rfc3339_shanghai(), "2026-03-01T09:30:00.123456+08:00");
        assert_eq!(Instant::from_micros(a.micros()), Some(a));
        assert_eq!(a.to_string(), "2026-03-01 09:30:00");
    }

    #[test]
    fn missing_offset_is_named() {
        for s in [
            "2026-03-01T09:30:00",
            "2026-03-01 09:30:00",
            "2026-03-01T09:30:00.5",
        ] {
            let err = Instant::parse_rfc3339(s).unwrap_err();
            assert!(matches!(err, TimeError::NoOffset { .. }), "{s}");
            assert!(err.to_string().contains("has no UTC offset"));
        }
        for s in ["", "yesterday", "2026-02-30T09:30:00+08:00", "2026-03-01"] {
            assert!(
                matches!(Instant::parse_rfc3339(s), Err(TimeError::Invalid { .. })),
                "{s}"
            );
        }
    }

    #[test]
    fn micros_round_trip() {
        let a = Instant::from_micros(1_772_328_600_000_000).unwrap();
        assert_eq!(a.micros(), 1_772_328_600_000_000);
        assert_eq!(a.to_string(), "2026-03-01 09:30:00");
        assert_eq!(
            Instant::from_micros(0).unwrap().to_string(),
            "1970-01-01 08:00:00"
        );
        assert_eq!(Instant::from_micros(-1).unwrap().micros(), -1);
    }

    #[test]
    fn range_bounds() {
        assert_eq!(Instant::MIN.utc().to_rfc3339(), "0001-01-01T00:00:00+00:00");
        assert_eq!(
            Instant::MAX.to_rfc3339_shanghai(),
            "9999-12-31T23:59:59.999999+08:00"
        );
        assert_eq!(Instant::from_micros(MIN_MICROS - 1), None);
        assert_eq!(Instant::from_micros(MAX_MICROS + 1), None);
        for micros in [i64::MIN, i64::MAX] {
            assert_eq!(Instant::from_micros(micros), None);
        }
        for i in [Instant::MIN, Instant::MAX] {
            assert_eq!(Instant::parse_rfc3339(&i.to_rfc3339_shanghai()), Ok(i));
            assert_eq!(Instant::from_micros(i.micros()), Some(i));
        }
        assert!(matches!(
            Instant::parse_rfc3339("9999-12-31T20:00:00Z"),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(matches!(
            Instant::parse_rfc3339("0000-12-31T20:00:00Z"),
            Err(TimeError::OutOfRange { .. })
        ));
        assert_eq!(shanghai_local(NaiveDateTime::MIN), Instant::MIN);
        assert_eq!(shanghai_local(NaiveDateTime::MAX), Instant::MAX);
    }

    #[test]
    fn local_shanghai_time() {
        let i = shanghai_local(naive(2026, 3, 1, 9, 30, 0));
        assert_eq!(i, Instant::parse_rfc3339("2026-03-01T01:30:00Z").unwrap());
        assert_eq!(i.shanghai().naive_local(), naive(2026, 3, 1, 9, 30, 0));
        // Just after midnight local is the previous day in UTC.
        let i = shanghai_local(naive(2026, 1, 1, 0, 15, 0));
        assert_eq!(i.utc().naive_utc(), naive(2025, 12, 31, 16, 15, 0));
    }

    #[test]
    fn ordering_follows_the_time_line() {
        let early = Instant::parse_rfc3339("2026-03-01T09:00:00+08:00").unwrap();
        let late = Instant::parse_rfc3339("2026-03-01T02:00:00Z").unwrap();
        assert!(early < late);
    }
}
