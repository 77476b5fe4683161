//! The dashboard's figures: 警情 (reports), 发案 (cases) and 损失 (losses) per day over a
//! window of whole Shanghai days, with the window before it for comparison.

use std::sync::Arc;
use std::time::Duration;

use fanzha_store::{Dashboard, Scope, Store, StoreError};

use super::view::{yuan, DashboardView, DayView, TimeView, Totals, TypologyView};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::policy::Action;
use crate::AppState;

/// The window when none is asked for: a month.
pub const DEFAULT_DAYS: u32 = 30;
/// A year and a day: enough for a year-on-year look, bounded work per request.
pub const MAX_DAYS: u32 = 366;

const DAY: i64 = 86_400_000_000;
/// Asia/Shanghai is UTC+8 all year.
const SHANGHAI_OFFSET: i64 = 8 * 3_600_000_000;

/// How long computed figures are served before a background refresh: the dashboard counts
/// whole days, and a minute's delay in a new report showing is what a shared figure costs.
pub const FIGURES_TTL: Duration = Duration::from_secs(60);

/// The figures of the `days` Shanghai days up to and including the day the data ends (when
/// the data is historic or simulated, i.e. its last record is more than a day from now) or
/// today, within the caller's remit, and the totals of the `days` before. Computed once per
/// scope and window for everyone in that scope (see [`crate::cache`]); `as_of` says when.
pub async fn dashboard(
    state: &AppState,
    user: &CurrentUser,
    days: u32,
) -> Result<Arc<DashboardView>, ApiError> {
    user.allow(Action::ViewDashboard)?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::parameter(
            "days",
            format!("a window of 1 to {MAX_DAYS} days"),
        ));
    }
    let scope = user.figures_scope()?;
    let store = Arc::clone(&state.store);
    let key = (scope.clone(), days);
    Ok(state
        .figures
        .get(key, move || compute(store, scope, days))
        .await?)
}

async fn compute(
    store: Arc<dyn Store>,
    scope: Scope,
    days: u32,
) -> Result<DashboardView, StoreError> {
    let as_of = crate::auth::now_micros();
    let end = window_end(store.data_end().await?, as_of);
    let to = next_shanghai_midnight(end);
    let span = i64::from(days) * DAY;
    let from = to - span;
    let current = store.dashboard(&scope, from, to).await?;
    let previous = store.dashboard(&scope, from - span, from).await?;
    Ok(DashboardView {
        days,
        from: TimeView::new(from),
        to: TimeView::new(to),
        as_of: TimeView::new(as_of),
        scope: match &scope {
            Scope::All => "all".to_owned(),
            Scope::Institution(c) => format!("institution:{c}"),
            Scope::Jurisdiction(c) => format!("jurisdiction:{c}"),
        },
        totals: totals(&current),
        previous: totals(&previous),
        series: current
            .days
            .iter()
            .map(|d| DayView {
                day: d.day.clone(),
                reports: d.reports,
                cases: d.cases,
                loss_fen: d.loss_fen,
            })
            .collect(),
        by_typology: current
            .by_typology
            .iter()
            .map(|(typology, reports, loss_fen)| TypologyView {
                typology: typology.clone(),
                reports: *reports,
                loss_fen: *loss_fen,
                loss_yuan: yuan(*loss_fen),
            })
            .collect(),
    })
}

fn totals(d: &Dashboard) -> Totals {
    let (reports, cases, loss_fen) = d.days.iter().fold((0u64, 0u64, 0i64), |acc, day| {
        (
            acc.0 + day.reports,
            acc.1 + day.cases,
            acc.2.saturating_add(day.loss_fen),
        )
    });
    Totals {
        reports,
        cases,
        loss_fen,
        loss_yuan: yuan(loss_fen),
    }
}

/// Where the window ends: the data's own last instant when it lies more than a day from
/// now (a simulated district in the future, a historic extract in the past), else now. A
/// live store's last record is minutes old, and its dashboard ends today.
fn window_end(data_end: Option<i64>, now: i64) -> i64 {
    match data_end {
        Some(end) if end.abs_diff(now) > DAY.unsigned_abs() => end,
        Some(end) => end.max(now),
        None => now,
    }
}

/// The Shanghai midnight after `t`: the exclusive end of the day `t` falls in.
fn next_shanghai_midnight(t: i64) -> i64 {
    ((t + SHANGHAI_OFFSET).div_euclid(DAY) + 1) * DAY - SHANGHAI_OFFSET
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-01T00:00:00+08:00.
    const MARCH_1: i64 = 1_772_294_400_000_000;

    #[test]
    fn the_window_ends_at_the_midnight_after_its_last_day() {
        assert_eq!(next_shanghai_midnight(MARCH_1), MARCH_1 + DAY);
        assert_eq!(next_shanghai_midnight(MARCH_1 - 1), MARCH_1);
        assert_eq!(next_shanghai_midnight(MARCH_1 + DAY - 1), MARCH_1 + DAY);
    }

    #[test]
    fn historic_or_simulated_data_keeps_its_own_end() {
        let now = MARCH_1 + 300 * DAY;
        assert_eq!(window_end(Some(MARCH_1), now), MARCH_1, "historic");
        assert_eq!(
            window_end(Some(now + 30 * DAY), now),
            now + 30 * DAY,
            "simulated ahead"
        );
        assert_eq!(window_end(Some(now - 3_600_000_000), now), now, "live");
        assert_eq!(window_end(None, now), now, "empty");
    }
}
