//! The values foreign files carry and Fanzha wants in another form: decimal amounts in any
//! currency (to integer fen through a rate table), wall-clock times without a zone (to RFC 3339
//! with an offset the operator names), and bank-scoped identifiers.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};

use super::ConvertError;

/// Most decimal digits an amount or a rate may carry; more would not fit the exact product.
const MAX_DIGITS: usize = 30;

/// A non-negative decimal held exactly: `mantissa / 10^scale`.
///
/// Amounts are converted by exact integer arithmetic, never through `f64`, so the same file
/// always gives the same fen, to the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    /// Parses `123`, `0.01`, `3697.34`, `.5`, `1.5E-5` (as some CSV writers put small
    /// Bitcoin amounts). A sign, thousands separators or any other character are refused.
    pub fn parse(s: &str) -> Result<Decimal, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        if t.starts_with('-') {
            return Err(format!("`{s}` is negative; an amount moved is positive"));
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let (number, exponent) = match t.find(['e', 'E']) {
            Some(i) => {
                let exp: i32 = t[i + 1..]
                    .parse()
                    .map_err(|_| format!("`{s}` is not a number: bad exponent"))?;
                (&t[..i], exp)
            }
            None => (t, 0),
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(format!("`{s}` is not a number"));
        }
        if let Some(c) = int
            .chars()
            .chain(frac.chars())
            .find(|c| !c.is_ascii_digit())
        {
            return Err(format!("`{s}` is not a number: unexpected `{c}`"));
        }
        let digits = format!("{int}{frac}");
        let significant = digits.trim_start_matches('0');
        if significant.len() > MAX_DIGITS {
            return Err(format!(
                "`{s}` has more than {MAX_DIGITS} significant digits"
            ));
        }
        let mut mantissa: u128 = if significant.is_empty() {
            0
        } else {
            significant
                .parse()
                .map_err(|_| format!("`{s}` is not a number"))?
        };
        let mut scale = i64::try_from(frac.len()).unwrap_or(i64::MAX) - i64::from(exponent);
        while scale < 0 {
            mantissa = mantissa
                .checked_mul(10)
                .filter(|m| *m < 10u128.pow(MAX_DIGITS as u32 + 8))
                .ok_or_else(|| format!("`{s}` is too large"))?;
            scale += 1;
        }
        let scale = u32::try_from(scale).map_err(|_| format!("`{s}` is too small to express"))?;
        if scale > 60 {
            // Far below a fen of anything; keeping it would only risk overflow below.
            return Ok(Decimal {
                mantissa: 0,
                scale: 0,
            });
        }
        Ok(Decimal { mantissa, scale }.normalized())
    }

    fn normalized(mut self) -> Decimal {
        if self.mantissa == 0 {
            return Decimal {
                mantissa: 0,
                scale: 0,
            };
        }
        while self.scale > 0 {
            let (q, r) = (self.mantissa / 10, self.mantissa % 10);
            if r != 0 {
                break;
            }
            self.mantissa = q;
            self.scale -= 1;
        }
        self
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// `self × rate` yuan in fen, rounded half away from zero. `None` when it does not fit.
    pub fn to_fen(self, yuan_per_unit: Decimal) -> Option<i64> {
        let product = self.mantissa.checked_mul(yuan_per_unit.mantissa)?;
        // Yuan to fen: two decimal places fewer.
        let scale = i64::from(self.scale) + i64::from(yuan_per_unit.scale) - 2;
        let fen = if scale <= 0 {
            product.checked_mul(10u128.checked_pow(u32::try_from(-scale).ok()?)?)?
        } else if scale > 38 {
            // product < 2^128 < 5 × 10^38: below half a fen.
            0
        } else {
            let div = 10u128.pow(u32::try_from(scale).ok()?);
            let (q, r) = (product / div, product % div);
            if r >= div - r {
                q + 1
            } else {
                q
            }
        };
        i64::try_from(fen).ok()
    }
}

impl std::fmt::Display for Decimal {
    /// The shortest exact form (`3697.34`, `0.01`, `12`): the same number written two ways in
    /// two files compares equal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(&digits);
        }
        if digits.len() > scale {
            let (i, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{i}.{frac}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

/// Yuan per unit of each currency, by the names AMLworld writes and by ISO 4217 code.
///
/// The defaults are approximate mid rates of early September 2022, when AMLworld's
/// transactions begin; a benchmark compares accounts with one another, so one fixed table
/// keeps relative amounts right. `--rates FILE` (a CSV `currency,yuan_per_unit`) adds
/// currencies or replaces these.
pub const DEFAULT_RATES: &[(&[&str], &str)] = &[
    (&["Yuan", "CNY", "RMB"], "1"),
    (&["US Dollar", "USD"], "6.90"),
    (&["Euro", "EUR"], "6.90"),
    (&["UK Pound", "GBP"], "8.02"),
    (&["Yen", "JPY"], "0.0497"),
    (&["Rupee", "INR"], "0.0866"),
    (&["Ruble", "RUB"], "0.114"),
    (&["Canadian Dollar", "CAD"], "5.26"),
    (&["Australian Dollar", "AUD"], "4.72"),
    (&["Swiss Franc", "CHF"], "7.05"),
    (&["Mexican Peso", "MXN"], "0.343"),
    (&["Brazil Real", "BRL"], "1.33"),
    (&["Saudi Riyal", "SAR"], "1.84"),
    (&["Shekel", "ILS"], "2.05"),
    (&["Bitcoin", "BTC"], "137000"),
];

/// Currency → yuan per unit.
#[derive(Debug, Clone)]
pub struct Rates {
    by_name: HashMap<String, Decimal>,
}

impl Default for Rates {
    fn default() -> Self {
        let mut by_name = HashMap::new();
        for (names, rate) in DEFAULT_RATES {
            // The table is a constant written above; each entry parses.
            if let Ok(r) = Decimal::parse(rate) {
                for n in *names {
                    by_name.insert(fold(n), r);
                }
            }
        }
        Rates { by_name }
    }
}

/// Currency names compare without case or surrounding space.
fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Rates {
    /// The defaults, with each row of a `currency,yuan_per_unit` CSV added or replacing one.
    pub fn with_overrides(path: &Path) -> Result<Rates, ConvertError> {
        let mut rates = Rates::default();
        let bad = |line: u64, reason: String| ConvertError::Rates {
            path: path.to_owned(),
            line,
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_path(path)
            .map_err(|e| bad(0, e.to_string()))?;
        let header = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let (Some(cur), Some(rate)) = (col("currency"), col("yuan_per_unit")) else {
            return Err(bad(
                1,
                "the header must name the columns `currency` and `yuan_per_unit`".into(),
            ));
        };
        for rec in reader.records() {
            let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let name = rec.get(cur).unwrap_or_default();
            if name.trim().is_empty() {
                return Err(bad(line, "`currency` is empty".into()));
            }
            let value = rec.get(rate).unwrap_or_default();
            let r = Decimal::parse(value).map_err(|e| bad(line, format!("`yuan_per_unit` {e}")))?;
            if r.is_zero() {
                return Err(bad(line, "`yuan_per_unit` must be above zero".into()));
            }
            rates.by_name.insert(fold(name), r);
        }
        Ok(rates)
    }

    pub fn get(&self, currency: &str) -> Option<Decimal> {
        self.by_name.get(&fold(currency)).copied()
    }

    /// `amount` of `currency` in fen, or why not.
    pub fn fen(&self, amount: Decimal, currency: &str) -> Result<i64, String> {
        let rate = self.get(currency).ok_or_else(|| {
            format!("unknown currency `{currency}`; give its rate with --rates FILE (currency,yuan_per_unit)")
        })?;
        match amount.to_fen(rate) {
            None => Err(format!("{amount} {currency} is too large to hold in fen")),
            Some(0) => Err(format!(
                "{amount} {currency} is less than one fen; Fanzha keeps only positive amounts"
            )),
            Some(f) => Ok(f),
        }
    }
}

/// A fixed UTC offset: `+08:00`, `-05:00`, `+0800`, `+08`, `Z` or `UTC`.
pub fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0).ok_or_else(|| "offset out of range".into());
    }
    let bad = || format!("`{s}` is not a UTC offset such as +08:00, -05:00 or Z");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if h > 23 || m > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

/// A wall-clock time in one of `formats`, placed at `tz`.
pub fn local_time(
    s: &str,
    formats: &[&str],
    tz: FixedOffset,
) -> Result<DateTime<FixedOffset>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("is empty".into());
    }
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .and_then(|naive| naive.and_local_timezone(tz).single())
        .ok_or_else(|| {
            let shape = formats[0]
                .replace("%Y", "YYYY")
                .replace("%m", "MM")
                .replace("%d", "DD")
                .replace("%H", "hh")
                .replace("%M", "mm")
                .replace("%S", "ss")
                .replace("%.f", "");
            format!("`{s}` is not a valid date and time of the form {shape}")
        })
}

/// A time written as RFC 3339 (with `Z` or an offset), as a wall-clock ISO time (placed at
/// `tz`), or as a whole number of days after `base` (AMLSim's simulation steps).
pub fn instant_or_step(
    s: &str,
    tz: FixedOffset,
    base: NaiveDate,
) -> Result<DateTime<FixedOffset>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("is empty".into());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 7 {
        let days: i64 = t.parse().map_err(|_| format!("`{s}` is not a step"))?;
        return base
            .checked_add_days(chrono::Days::new(days.unsigned_abs()))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|n| n.and_local_timezone(tz).single())
            .ok_or_else(|| format!("step `{s}` is out of range"));
    }
    local_time(
        t,
        &[
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ],
        tz,
    )
    .or_else(|_| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|n| n.and_local_timezone(tz).single())
            .ok_or(())
    })
    .map_err(|()| format!("`{s}` is neither an RFC 3339 time, an ISO date-time nor a day number"))
}

/// RFC 3339 in the instant's own offset, whole seconds unless it has a fraction.
pub fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Checks a foreign identifier for the rules Fanzha keys follow: present, no surrounding
/// space, no control character.
pub fn identifier(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.trim() != s {
        return Err(format!("`{s}` has leading or trailing whitespace"));
    }
    if s.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_parse_exactly_and_print_shortest() {
        assert_eq!(d("3697.34").to_string(), "3697.34");
        assert_eq!(d("0.010").to_string(), "0.01");
        assert_eq!(d("12").to_string(), "12");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("1.5E-5").to_string(), "0.000015");
        assert_eq!(d("2e3").to_string(), "2000");
        assert_eq!(d("0").to_string(), "0");
    }

    #[test]
    fn bad_decimals_say_why() {
        assert!(Decimal::parse("-5.00").unwrap_err().contains("negative"));
        assert!(Decimal::parse("12,5")
            .unwrap_err()
            .contains("unexpected `,`"));
        assert!(Decimal::parse("abc").unwrap_err().contains("not a number"));
        assert!(Decimal::parse(".").unwrap_err().contains("not a number"));
        assert!(Decimal::parse("1e").unwrap_err().contains("exponent"));
        assert_eq!(Decimal::parse("").unwrap_err(), "is empty");
        assert!(Decimal::parse("1e99").unwrap_err().contains("too large"));
    }

    #[test]
    fn fen_rounds_half_away_from_zero() {
        let usd = d("6.90");
        assert_eq!(d("1").to_fen(usd), Some(690));
        assert_eq!(d("0.01").to_fen(usd), Some(7)); // 6.9 fen
        assert_eq!(d("0.005").to_fen(d("1")), Some(1)); // exactly half a fen
        assert_eq!(d("0.0049").to_fen(d("1")), Some(0));
        assert_eq!(d("3697.34").to_fen(usd), Some(2_551_165)); // 25511.646 yuan
        assert_eq!(d("0.00012").to_fen(d("137000")), Some(1644));
        assert_eq!(d("1e-40").to_fen(d("1")), Some(0));
    }

    #[test]
    fn rates_know_amlworld_names_and_codes_and_refuse_the_unknown() {
        let r = Rates::default();
        assert_eq!(r.fen(d("10"), "US Dollar"), Ok(6900));
        assert_eq!(r.fen(d("10"), "usd"), Ok(6900));
        assert_eq!(r.fen(d("10"), "Yuan"), Ok(1000));
        assert!(r
            .fen(d("10"), "Zloty")
            .unwrap_err()
            .contains("unknown currency `Zloty`"));
        assert!(r
            .fen(d("0.001"), "Yuan")
            .unwrap_err()
            .contains("less than one fen"));
        assert!(r
            .fen(d("1e25"), "Bitcoin")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn rate_overrides_replace_and_add_and_name_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rates.csv");
        std::fs::write(&p, "currency,yuan_per_unit\nUS Dollar,7.25\nZloty,1.60\n").unwrap();
        let r = Rates::with_overrides(&p).unwrap();
        assert_eq!(r.fen(d("1"), "USD"), Ok(690), "the code keeps its default");
        assert_eq!(r.fen(d("1"), "US Dollar"), Ok(725));
        assert_eq!(r.fen(d("1"), "zloty"), Ok(160));
        std::fs::write(&p, "currency,yuan_per_unit\nZloty,abc\n").unwrap();
        let e = Rates::with_overrides(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("yuan_per_unit"), "{e}");
        std::fs::write(&p, "name,rate\nZloty,1\n").unwrap();
        let e = Rates::with_overrides(&p).unwrap_err().to_string();
        assert!(e.contains("`currency` and `yuan_per_unit`"), "{e}");
    }

    #[test]
    fn offsets_and_times() {
        let utc = parse_offset("+00:00").unwrap();
        assert_eq!(parse_offset("Z").unwrap(), utc);
        assert_eq!(parse_offset("+0800").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(
            parse_offset("-05:30").unwrap().local_minus_utc(),
            -(5 * 3600 + 1800)
        );
        assert!(parse_offset("08:00").is_err());
        assert!(parse_offset("+25:00").is_err());
        let t = local_time("2022/09/01 00:20", &["%Y/%m/%d %H:%M"], utc).unwrap();
        assert_eq!(rfc3339(&t), "2022-09-01T00:20:00+00:00");
        assert!(local_time("2022/13/01 00:20", &["%Y/%m/%d %H:%M"], utc).is_err());
        let base = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
        let cst = parse_offset("+08:00").unwrap();
        assert_eq!(
            rfc3339(&instant_or_step("2017-01-05T00:00:00Z", cst, base).unwrap()),
            "2017-01-05T00:00:00+00:00"
        );
        assert_eq!(
            rfc3339(&instant_or_step("3", cst, base).unwrap()),
            "2017-01-04T00:00:00+08:00"
        );
        assert_eq!(
            rfc3339(&instant_or_step("2017-01-05 10:00:00", utc, base).unwrap()),
            "2017-01-05T10:00:00+00:00"
        );
        assert!(instant_or_step("yesterday", utc, base).is_err());
    }
}
