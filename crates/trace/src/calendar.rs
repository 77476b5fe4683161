//! Working days (工作日) on the Asia/Shanghai calendar: weekends are rest days except the
//! Saturdays and Sundays the State Council's yearly notice makes workdays (调休上班), and the
//! notice's holidays are rest days whatever the weekday. A bank completes a return within 3
//! working days (LEGAL.md), so the receipt's deadline is counted here.
//!
//! The calendar is data: [`Calendar::from_toml`] reads `holidays = ["2026-10-01", …]` and
//! `workdays = ["2026-10-10", …]`, and [`Calendar::default`] carries the 2026 notice
//! (国办发明电〔2025〕 on the 2026 holidays) as shipped in `config/calendar.toml`. Each year's
//! notice must be added when it is published; a date outside the years the calendar covers
//! counts by weekday alone.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use fanzha_core::time::{shanghai_local, Instant};
use serde::Deserialize;
use thiserror::Error;

/// The environment variable naming another calendar file, in the shipped file's format.
pub const CALENDAR_ENV: &str = "FANZHA_CALENDAR";

/// The calendar shipped with the product: the 2026 official holidays and adjusted workdays.
pub const DEFAULT_TOML: &str = include_str!("../../../config/calendar.toml");

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Error)]
pub enum CalendarError {
    #[error("the calendar: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("the calendar: {field}: {value:?} is not a date (YYYY-MM-DD)")]
    Date { field: &'static str, value: String },
    #[error("the calendar: {0} is both a holiday and a workday")]
    Both(NaiveDate),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
}

impl Calendar {
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let f: File = toml::from_str(text)?;
        let dates =
            |field: &'static str, v: &[String]| -> Result<BTreeSet<NaiveDate>, CalendarError> {
                v.iter()
                    .map(|s| {
                        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| CalendarError::Date {
                            field,
                            value: s.clone(),
                        })
                    })
                    .collect()
            };
        let c = Calendar {
            holidays: dates("holidays", &f.holidays)?,
            workdays: dates("workdays", &f.workdays)?,
        };
        if let Some(d) = c.holidays.intersection(&c.workdays).next() {
            return Err(CalendarError::Both(*d));
        }
        Ok(c)
    }

    /// The calendar in force: the TOML file [`CALENDAR_ENV`] names, read once, or the shipped
    /// one. Checked at start by the programs, so a file with an error stops them with its
    /// line and column.
    pub fn configured() -> Result<&'static Calendar, String> {
        static ONCE: std::sync::OnceLock<Result<Calendar, String>> = std::sync::OnceLock::new();
        ONCE.get_or_init(|| {
            let Some(path) = std::env::var_os(CALENDAR_ENV) else {
                return Ok(Calendar::shipped().clone());
            };
            let shown = std::path::Path::new(&path).display().to_string();
            std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| Calendar::from_toml(&t).map_err(|e| e.to_string()))
                .map_err(|e| format!("{shown}: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// The shipped calendar, parsed once.
    pub fn shipped() -> &'static Calendar {
        static SHIPPED: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        // The shipped file is tested to parse; an error here is a build that broke it.
        SHIPPED.get_or_init(|| Calendar::from_toml(DEFAULT_TOML).unwrap_or_default())
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !self.holidays.contains(&d) && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The end of the `n`-th working day after the day of `from` (UTC microseconds), at
    /// Asia/Shanghai midnight ending it: a receipt due "within 3 working days" of a Friday
    /// before a long holiday is due at the end of the third working day after it.
    pub fn after_working_days(&self, from: i64, n: u32) -> i64 {
        let Some(start) = Instant::from_micros(from) else {
            return from;
        };
        let mut d = start.shanghai().date_naive();
        let mut left = n;
        // Bounded: ten years hold far more working days than any deadline counts.
        for _ in 0..3660 {
            if left == 0 {
                break;
            }
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        shanghai_local((d + Duration::days(1)).and_time(NaiveTime::MIN)).micros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn micros(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn the_shipped_calendar_knows_2026s_holidays_and_make_up_days() {
        let c = Calendar::shipped();
        assert!(!c.holidays.is_empty());
        assert!(!c.is_working_day(day("2026-10-01")), "National Day");
        assert!(!c.is_working_day(day("2026-10-07")));
        assert!(
            c.is_working_day(day("2026-10-10")),
            "a Saturday worked for the holiday"
        );
        assert!(!c.is_working_day(day("2026-02-17")), "Spring Festival");
        assert!(
            c.is_working_day(day("2026-02-14")),
            "a Saturday worked for it"
        );
        assert!(c.is_working_day(day("2026-03-10")), "an ordinary Tuesday");
        assert!(!c.is_working_day(day("2026-03-14")), "an ordinary Saturday");
    }

    #[test]
    fn three_working_days_skip_weekends_and_holidays() {
        let c = Calendar::shipped();
        // Wednesday 30 September 2026: Thu 1 Oct – Wed 7 Oct are the holiday, Thu 8, Fri 9
        // and Sat 10 (a make-up workday) are the three working days.
        let due = c.after_working_days(micros("2026-09-30T15:00:00+08:00"), 3);
        assert_eq!(due, micros("2026-10-11T00:00:00+08:00"));
        // Friday 13 March 2026: Mon 16, Tue 17, Wed 18.
        let due = c.after_working_days(micros("2026-03-13T09:00:00+08:00"), 3);
        assert_eq!(due, micros("2026-03-19T00:00:00+08:00"));
        // Late on a UTC day that is already the next day in Shanghai.
        let due = c.after_working_days(micros("2026-03-12T17:00:00Z"), 1);
        assert_eq!(due, micros("2026-03-17T00:00:00+08:00"));
    }

    #[test]
    fn a_bad_calendar_names_the_date() {
        let e = Calendar::from_toml("holidays = [\"2026-13-01\"]").unwrap_err();
        assert!(e.to_string().contains("2026-13-01"), "{e}");
        let e = Calendar::from_toml("holidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]")
            .unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
        assert!(
            Calendar::from_toml("holiday = []").is_err(),
            "unknown keys are refused"
        );
    }
}
