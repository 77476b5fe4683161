//! `GET /console/dashboard?days=N`: the commander's figures — 警情, 发案 and 损失 over a
//! window with the change against the window before, daily trends drawn as SVG, the
//! typology breakdown, and placeholders for the panels later engines fill.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::chart::{self, Mark, Series, Svg, Unit};
use super::format;
use super::frame::{page, Frame};
use super::i18n::{Lang, M};
use super::table::{Align, Cell, Table};
use super::viewer::Viewer;
use super::Failure;
use crate::service::{self, DashboardView};
use crate::AppState;

/// The windows offered as one-click choices; any other `days` in range works by URL.
const WINDOWS: [u32; 4] = [7, 30, 90, 365];

/// One KPI card.
struct Kpi {
    testid: &'static str,
    label: &'static str,
    value: String,
    /// `+12.5%` or a word when there is nothing to compare with.
    change: String,
    /// `up`, `down` or `` — a rise in reports, cases or losses is bad news, drawn red.
    direction: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    frame: Frame,
    days: u32,
    windows: Vec<(u32, String, bool)>,
    data_until: String,
    as_of: String,
    kpis: Vec<Kpi>,
    vs_previous: String,
    trend_reports: Svg,
    trend_loss: Svg,
    typology_table: String,
    daily_table: String,
    /// Warnings by level within the viewer's scope, when the role sees warnings and there
    /// are some; the panel is a placeholder otherwise.
    warnings: Option<Vec<LevelCount>>,
    /// Warnings by status in the viewer's scope, exact (the store counts them).
    statuses: Vec<LevelCount>,
}

/// One level's (or status's) count on the warnings panel.
#[derive(Clone)]
struct LevelCount {
    level: &'static str,
    label: String,
    count: String,
    href: String,
}

/// The warnings panel's counts, or `None` to keep the placeholder. A failure to count is
/// logged and leaves the placeholder: the panel must not take the dashboard down.
async fn warning_panel(state: &AppState, v: &Viewer) -> Option<(Vec<LevelCount>, Vec<LevelCount>)> {
    let counts = match service::warning_counts(state, &v.user).await {
        Ok(c) => c?,
        Err(e) => {
            tracing::warn!("counting warnings for the dashboard: {}", e.message);
            return None;
        }
    };
    if counts.red + counts.orange + counts.yellow == 0 {
        return None;
    }
    let shown = |n: u64| {
        if n >= counts.cap {
            format!("{}+", format::count(counts.cap))
        } else {
            format::count(n)
        }
    };
    let levels = [
        ("red", counts.red),
        ("orange", counts.orange),
        ("yellow", counts.yellow),
    ]
    .into_iter()
    .map(|(level, n)| LevelCount {
        level,
        label: v.lang.term(level).into_owned(),
        count: shown(n),
        href: format!("/console/warnings?level={level}"),
    })
    .collect();
    let statuses = counts
        .by_status
        .iter()
        .map(|c| LevelCount {
            level: "status",
            label: v.lang.term(&c.key).into_owned(),
            count: format::count(c.count),
            href: format!("/console/warnings?status={}", c.key),
        })
        .collect();
    Some((levels, statuses))
}

pub async fn dashboard(State(state): State<AppState>, v: Viewer) -> Result<Response, Failure> {
    let lang = v.lang;
    let days = v.query.number(
        "days",
        1..=u64::from(service::MAX_DAYS),
        u64::from(service::DEFAULT_DAYS),
    );
    let days = u32::try_from(days).unwrap_or(service::DEFAULT_DAYS);
    let d = service::dashboard(&state, &v.user, days).await?;

    let typology = typology_table(&d, &v, lang);
    let daily = daily_table(&d, &v, lang);
    for t in [&typology, &daily] {
        if let Some(csv) = t.csv_if_requested(&v.query) {
            return Ok(csv);
        }
    }
    let render = |t: &Table| t.render().map_err(super::render_failure);

    let day_labels: Vec<String> = d.series.iter().map(|s| s.day.clone()).collect();
    let trend_reports = chart::daily(
        "trend-reports",
        lang.t(M::TrendReports),
        &day_labels,
        &[
            Series {
                label: lang.t(M::Reports),
                values: d.series.iter().map(|s| as_i64(s.reports)).collect(),
                mark: Mark::Bars,
                class: "s1",
            },
            Series {
                label: lang.t(M::Cases),
                values: d.series.iter().map(|s| as_i64(s.cases)).collect(),
                mark: Mark::Line,
                class: "s2",
            },
        ],
        Unit::Count,
        lang,
    );
    let trend_loss = chart::daily(
        "trend-loss",
        lang.t(M::TrendLoss),
        &day_labels,
        &[Series {
            label: lang.t(M::Loss),
            values: d.series.iter().map(|s| s.loss_fen).collect(),
            mark: Mark::Area,
            class: "s3",
        }],
        Unit::Fen,
        lang,
    );
    let kpis = vec![
        kpi(
            "kpi-reports",
            lang.t(M::KpiReports),
            format::count(d.totals.reports),
            as_i64(d.totals.reports),
            as_i64(d.previous.reports),
            lang,
        ),
        kpi(
            "kpi-cases",
            lang.t(M::KpiCases),
            format::count(d.totals.cases),
            as_i64(d.totals.cases),
            as_i64(d.previous.cases),
            lang,
        ),
        kpi(
            "kpi-loss",
            lang.t(M::KpiLoss),
            format::yuan(d.totals.loss_fen),
            d.totals.loss_fen,
            d.previous.loss_fen,
            lang,
        ),
    ];
    let data_until = d.series.last().map(|s| s.day.clone()).unwrap_or_default();
    let windows = WINDOWS
        .iter()
        .map(|&n| {
            let s = n.to_string();
            (n, v.query.href(&[("days", Some(s.as_str()))]), n == d.days)
        })
        .collect();
    let panel = warning_panel(&state, &v).await;
    let p = DashboardPage {
        frame: Frame::new(&state, &v, lang.t(M::Dashboard)).await,
        days: d.days,
        windows,
        data_until,
        as_of: format::time_short(d.as_of.micros),
        kpis,
        vs_previous: lang.fill(M::VsPrevious, d.days),
        trend_reports,
        trend_loss,
        typology_table: render(&typology)?,
        daily_table: render(&daily)?,
        warnings: panel.as_ref().map(|(levels, _)| levels.clone()),
        statuses: panel.map(|(_, statuses)| statuses).unwrap_or_default(),
    };
    Ok(page(&p))
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn kpi(
    testid: &'static str,
    label: &'static str,
    value: String,
    now: i64,
    before: i64,
    lang: Lang,
) -> Kpi {
    let (change, direction) = match format::change_percent(now, before) {
        Some(p) => {
            let direction = match now.cmp(&before) {
                std::cmp::Ordering::Greater => "up",
                std::cmp::Ordering::Less => "down",
                std::cmp::Ordering::Equal => "",
            };
            if direction.is_empty() {
                (lang.t(M::NoChange).to_owned(), direction)
            } else {
                (p, direction)
            }
        }
        None if now == 0 => (lang.t(M::NoChange).to_owned(), ""),
        None => (lang.t(M::NewFromZero).to_owned(), "up"),
    };
    Kpi {
        testid,
        label,
        value,
        change,
        direction,
    }
}

fn typology_table(d: &DashboardView, v: &Viewer, lang: Lang) -> Table {
    let mut t = Table::primary("typology", &v.query, lang)
        .column("typology", lang.t(M::Typology), Align::Left)
        .column("reports", lang.t(M::Reports), Align::Right)
        .column("share", lang.t(M::Share), Align::Right)
        .column("loss", lang.t(M::Loss), Align::Right)
        .default_sort("reports", true);
    let total = d.totals.reports.max(1);
    for ty in &d.by_typology {
        // Per mille, so the share sorts as a number and reads with one decimal.
        let permille = ty.reports.saturating_mul(1000) / total;
        let mut share = Cell::int(i64::try_from(permille).unwrap_or(i64::MAX));
        share.text = format!("{}.{}%", permille / 10, permille % 10);
        t.row_with_testid(
            format!("typology-{}", ty.typology),
            vec![
                Cell::text(lang.term(&ty.typology)),
                Cell::count(ty.reports),
                share,
                Cell::yuan(ty.loss_fen),
            ],
        );
    }
    t
}

fn daily_table(d: &DashboardView, v: &Viewer, lang: Lang) -> Table {
    let mut t = Table::secondary("daily", &v.query, lang)
        .column("day", lang.t(M::Day), Align::Left)
        .column("reports", lang.t(M::Reports), Align::Right)
        .column("cases", lang.t(M::Cases), Align::Right)
        .column("loss", lang.t(M::Loss), Align::Right)
        .default_sort("day", true)
        .page_size(10);
    for s in &d.series {
        t.row(vec![
            Cell::text(s.day.clone()),
            Cell::count(s.reports),
            Cell::count(s.cases),
            Cell::yuan(s.loss_fen),
        ]);
    }
    t
}
