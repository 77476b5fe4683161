//! Charts drawn on the server as inline SVG: no script, no external file, readable on an
//! isolated network and printable. Colours and fonts come from the stylesheet through
//! classes (the console's CSP forbids inline styles); each mark carries a `<title>`, which
//! browsers show as a tooltip.

use std::fmt::Write as _;

use super::format;
use super::i18n::Lang;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 26.0;

/// SVG markup we generated (every text in it escaped): safe to embed as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(pub String);

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A coordinate to one decimal place, written by integer arithmetic: `{:.1}` takes the
/// exact (slow) float-formatting path, and a chart has hundreds of coordinates, redrawn on
/// every request of the dashboard.
#[derive(Debug, Clone, Copy)]
struct D1(f64);

impl std::fmt::Display for D1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Coordinates are within a few thousand; anything else (NaN, huge) is written as is.
        if !self.0.is_finite() || self.0.abs() > 1e12 {
            return write!(f, "{:.1}", self.0);
        }
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let t = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", t / 10, t % 10)
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Bars,
    Line,
    Area,
}

/// One series of daily values.
pub struct Series<'a> {
    pub label: &'a str,
    pub values: Vec<i64>,
    pub mark: Mark,
    /// Stylesheet class choosing the colour: `s1`, `s2`, `s3`.
    pub class: &'static str,
}

/// How values read on the axis and in tooltips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// Values are fen; shown in yuan.
    Fen,
}

/// A chart of daily series over `days` (`YYYY-MM-DD`), the first series' marks behind the
/// later ones'.
pub fn daily(
    testid: &str,
    title: &str,
    days: &[String],
    series: &[Series<'_>],
    unit: Unit,
    lang: Lang,
) -> Svg {
    let n = days.len().max(1);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(0);
    let (step, top) = nice_scale(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y = |v: i64| TOP + plot_h * (1.0 - v.max(0) as f64 / top as f64);

    let mut s = String::with_capacity(4096 + days.len() * 200);
    let _ = write!(
        s,
        r#"<svg class="chart" data-testid="{testid}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(s, "<title>{}</title>", esc(title));

    // Grid and y axis labels.
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/><text class="axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
            D1(WIDTH - RIGHT),
            D1(yy),
            D1(yy),
            D1(LEFT - 6.0),
            D1(yy + 4.0),
            esc(&axis_label(v, unit, lang))
        );
        v += step;
    }

    // X axis labels: about eight, on whole-day slots.
    let every = n.div_ceil(8).max(1);
    for (i, day) in days.iter().enumerate() {
        if i % every == 0 || i + 1 == days.len() && days.len() <= 8 {
            let _ = write!(
                s,
                r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                D1(x_mid(i)),
                D1(HEIGHT - 8.0),
                esc(format::month_day(day))
            );
        }
    }
    let _ = write!(
        s,
        r#"<line class="baseline" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#,
        D1(WIDTH - RIGHT),
        D1(y(0)),
        D1(y(0))
    );

    let bar_series = series
        .iter()
        .filter(|s| s.mark == Mark::Bars)
        .count()
        .max(1);
    let bar_w = (slot * 0.8 / bar_series as f64).max(1.0);
    let mut bar_index = 0;
    for ser in series {
        let tip = |i: usize, v: i64| {
            format!(
                "{} · {} {}",
                days.get(i).map_or("", String::as_str),
                ser.label,
                value_text(v, unit)
            )
        };
        match ser.mark {
            Mark::Bars => {
                for (i, &v) in ser.values.iter().enumerate() {
                    let x = LEFT + slot * i as f64 + slot * 0.1 + bar_w * bar_index as f64;
                    let h = (y(0) - y(v)).max(0.0);
                    let _ = write!(
                        s,
                        r#"<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
                        ser.class,
                        D1(x),
                        D1(y(v)),
                        D1(bar_w),
                        D1(h),
                        esc(&tip(i, v))
                    );
                }
                bar_index += 1;
            }
            Mark::Line | Mark::Area => {
                let points: Vec<String> = ser
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| format!("{},{}", D1(x_mid(i)), D1(y(v))))
                    .collect();
                if ser.mark == Mark::Area && !points.is_empty() {
                    let _ = write!(
                        s,
                        r#"<polygon class="area {}" points="{},{} {} {},{}"/>"#,
                        ser.class,
                        D1(x_mid(0)),
                        D1(y(0)),
                        points.join(" "),
                        D1(x_mid(ser.values.len() - 1)),
                        D1(y(0))
                    );
                }
                let _ = write!(
                    s,
                    r#"<polyline class="line {}" points="{}"/>"#,
                    ser.class,
                    points.join(" ")
                );
                for (i, &v) in ser.values.iter().enumerate() {
                    let _ = write!(
                        s,
                        r#"<circle class="dot {}" cx="{}" cy="{}" r="2.5"><title>{}</title></circle>"#,
                        ser.class,
                        D1(x_mid(i)),
                        D1(y(v)),
                        esc(&tip(i, v))
                    );
                }
            }
        }
    }

    // Legend, top left above the plot.
    let mut lx = LEFT;
    for ser in series {
        let _ = write!(
            s,
            r#"<rect class="swatch {}" x="{}" y="8" width="10" height="10"/><text class="legend" x="{}" y="17">{}</text>"#,
            ser.class,
            D1(lx),
            D1(lx + 14.0),
            esc(ser.label)
        );
        // Legend text at 12px: a CJK character is about 12px wide, a Latin one about 7px.
        let text_width: f64 = ser
            .label
            .chars()
            .map(|c| if c.is_ascii() { 7.0 } else { 12.0 })
            .sum();
        lx += 30.0 + text_width;
    }
    s.push_str("</svg>");
    Svg(s)
}

/// A round step and the axis top (a multiple of it, at least `max`), about four gridlines.
/// One point of a [`steps`] chart: its axis label, value (0–100) and tooltip.
pub struct Point {
    pub label: String,
    pub value: i64,
    pub tip: String,
}

/// A score (0–100) at successive steps (a warning's versions): a line through dots, with
/// dashed guides at the given cut-offs (`(value, class)`: `level-red` …).
pub fn steps(testid: &str, title: &str, points: &[Point], guides: &[(f64, &'static str)]) -> Svg {
    let n = points.len().max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let mut s = String::with_capacity(2048 + points.len() * 160);
    let _ = write!(
        s,
        r#"<svg class="chart" data-testid="{testid}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(s, "<title>{}</title>", esc(title));
    for v in [0, 25, 50, 75, 100] {
        let yy = y(f64::from(v));
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/><text class="axis" x="{}" y="{}" text-anchor="end">{v}</text>"#,
            D1(WIDTH - RIGHT),
            D1(yy),
            D1(yy),
            D1(LEFT - 6.0),
            D1(yy + 4.0),
        );
    }
    for (v, class) in guides {
        let yy = y(*v);
        let _ = write!(
            s,
            r#"<line class="guide {class}" x1="{LEFT}" x2="{}" y1="{}" y2="{}" stroke-dasharray="4 3"><title>{}</title></line>"#,
            D1(WIDTH - RIGHT),
            D1(yy),
            D1(yy),
            esc(&format!("{v}"))
        );
    }
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{},{}", D1(x(i)), D1(y(p.value as f64))))
        .collect();
    if points.len() > 1 {
        let _ = write!(
            s,
            r#"<polyline class="line s1" points="{}"/>"#,
            path.join(" ")
        );
    }
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<circle class="dot s1" cx="{}" cy="{}" r="4"><title>{}</title></circle><text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            D1(x(i)),
            D1(y(p.value as f64)),
            esc(&p.tip),
            D1(x(i)),
            D1(HEIGHT - 8.0),
            esc(&p.label)
        );
    }
    s.push_str("</svg>");
    Svg(s)
}

fn nice_scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (1, 4);
    }
    let rough = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powi(rough.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * mag);
    let step = (step as i64).max(1);
    let steps = (max + step - 1) / step;
    let top = steps.max(1).saturating_mul(step);
    (step, top)
}

/// An axis label: counts as they are; fen as short yuan (`12万`, `1.5亿`; `120k`, `1.5M`).
fn axis_label(v: i64, unit: Unit, lang: Lang) -> String {
    match unit {
        Unit::Count => format::count(v.unsigned_abs()),
        Unit::Fen => short_yuan(v / 100, lang),
    }
}

fn short_yuan(yuan: i64, lang: Lang) -> String {
    let trim = |x: f64| {
        let s = format!("{x:.1}");
        s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
    };
    let y = yuan as f64;
    match lang {
        Lang::Zh if yuan.abs() >= 100_000_000 => format!("{}亿", trim(y / 1e8)),
        Lang::Zh if yuan.abs() >= 10_000 => format!("{}万", trim(y / 1e4)),
        Lang::En if yuan.abs() >= 1_000_000 => format!("{}M", trim(y / 1e6)),
        Lang::En if yuan.abs() >= 1_000 => format!("{}k", trim(y / 1e3)),
        _ => yuan.to_string(),
    }
}

fn value_text(v: i64, unit: Unit) -> String {
    match unit {
        Unit::Count => format::count(v.unsigned_abs()),
        Unit::Fen => format::yuan(v),
    }
}

/// Escapes text for SVG (XML) content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round_and_cover_the_maximum() {
        assert_eq!(nice_scale(0), (1, 4));
        assert_eq!(nice_scale(7), (2, 8));
        assert_eq!(nice_scale(10), (5, 10));
        assert_eq!(nice_scale(93), (50, 100));
        assert_eq!(nice_scale(1_234_567), (500_000, 1_500_000));
    }

    #[test]
    fn coordinates_have_one_decimal() {
        let cases = [
            (0.0, "0.0"),
            (64.0, "64.0"),
            (12.34, "12.3"),
            (12.36, "12.4"),
            (-5.96, "-6.0"),
            (-0.04, "0.0"),
            (719.95, "720.0"),
        ];
        for (v, want) in cases {
            assert_eq!(D1(v).to_string(), want, "{v}");
        }
        assert_eq!(D1(f64::NAN).to_string(), "NaN");
    }

    #[test]
    fn money_axes_read_in_short_yuan() {
        assert_eq!(short_yuan(120_000, Lang::Zh), "12万");
        assert_eq!(short_yuan(150_000_000, Lang::Zh), "1.5亿");
        assert_eq!(short_yuan(120_000, Lang::En), "120k");
        assert_eq!(short_yuan(999, Lang::En), "999");
    }

    #[test]
    fn a_chart_has_one_mark_per_day_and_escapes_its_text() {
        let days: Vec<String> = (1..=3).map(|d| format!("2026-03-0{d}")).collect();
        let svg = daily(
            "trend-x",
            "<t>",
            &days,
            &[
                Series {
                    label: "R&D",
                    values: vec![1, 5, 0],
                    mark: Mark::Bars,
                    class: "s1",
                },
                Series {
                    label: "L",
                    values: vec![0, 2, 3],
                    mark: Mark::Line,
                    class: "s2",
                },
            ],
            Unit::Count,
            Lang::En,
        )
        .0;
        assert!(
            svg.starts_with(r#"<svg class="chart" data-testid="trend-x""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect class=\"bar").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("2026-03-02 · R&amp;D 5"));
        assert!(!svg.contains("<t>") && svg.contains("&lt;t&gt;"));
        assert!(svg.ends_with("</svg>"));
        // No data at all still draws an empty chart.
        let empty = daily("e", "e", &[], &[], Unit::Fen, Lang::Zh).0;
        assert!(empty.ends_with("</svg>"));
    }
}
