//! The rules, pure: audit entries and users in, flags out. No store, no clock.
//!
//! A look-up is an audit entry whose action is `lookup.person|account|sim|device|warning`; a reveal
//! is `reveal.*`. The server writes both with actor `user:NAME` and detail
//! `{"id", "community", "found", "in_scope"}`. Other actors (API keys, the CLI) and other
//! actions are not people browsing personal data and are ignored.

use std::collections::{BTreeMap, HashMap};

use fanzha_store::{AuditEntry, UserRow};
use serde_json::json;

/// Microseconds in a day, and Beijing time's offset from UTC (no DST since 1991).
const DAY_MICROS: i64 = 86_400 * 1_000_000;
const SHANGHAI_OFFSET_MICROS: i64 = 8 * 3_600 * 1_000_000;

/// The thresholds of every rule. The defaults are deliberately conservative: a flag costs an
/// auditor's time, and a handful of look-ups proves nothing either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// `peer_volume`: a user's look-ups on a day exceed `peer_factor` × the median of their
    /// same-role peers' counts that day. Peers are the other users of the role whose account
    /// existed and was not disabled that day, those with no look-ups counted as zero (a
    /// median over the busy ones only would hide the one who works while peers do not).
    pub peer_factor: u64,
    /// `own_baseline`: a user's look-ups on a day exceed `baseline_factor` × the median of
    /// their own counts on their previous `baseline_days` active days.
    pub baseline_factor: u64,
    pub baseline_days: usize,
    /// `own_baseline` needs this many earlier active days: a new user has no baseline yet.
    pub baseline_min_days: usize,
    /// Neither volume rule flags a day with `volume_floor` look-ups or fewer: 3 × a median of
    /// 2 is noise, not an insider.
    pub volume_floor: u64,
    /// `out_of_scope`: this many look-ups of entities outside the user's jurisdiction or
    /// institution in a day. One is enough: the console never links there, so a try is
    /// typed by hand.
    pub out_of_scope_min: u64,
    /// `id_fishing`: more than this many look-ups of ids that do not exist in a day: someone
    /// trying numbers to find a person.
    pub miss_limit: u64,
    /// How far back `run` reads the trail; the baseline looks no further than this.
    pub history_days: i64,
    /// At most this many audit entry ids in an `out_of_scope` flag's detail.
    pub detail_ids: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            peer_factor: 3,
            baseline_factor: 3,
            baseline_days: 14,
            baseline_min_days: 5,
            volume_floor: 20,
            out_of_scope_min: 1,
            miss_limit: 20,
            history_days: 60,
            detail_ids: 20,
        }
    }
}

/// The rules' names, as stored in `insider_flags.rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    PeerVolume,
    OwnBaseline,
    OutOfScope,
    IdFishing,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::PeerVolume,
        Rule::OwnBaseline,
        Rule::OutOfScope,
        Rule::IdFishing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PeerVolume => "peer_volume",
            Rule::OwnBaseline => "own_baseline",
            Rule::OutOfScope => "out_of_scope",
            Rule::IdFishing => "id_fishing",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A flag the rules raise: who, which Shanghai day, which rule, and the figures behind it.
/// The detail names audit entries, never the people looked up: auditors see no personal
/// data, and the entries say the rest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewFlag {
    pub username: String,
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub day: String,
    pub rule: Rule,
    pub detail: serde_json::Value,
}

/// The Shanghai calendar day of an instant, as days since 1970-01-01.
pub fn shanghai_day(micros: i64) -> i64 {
    (micros + SHANGHAI_OFFSET_MICROS).div_euclid(DAY_MICROS)
}

/// The UTC instant at which a Shanghai day begins.
pub fn day_start(day: i64) -> i64 {
    day.saturating_mul(DAY_MICROS) - SHANGHAI_OFFSET_MICROS
}

/// `YYYY-MM-DD` of a day number from [`shanghai_day`].
pub fn day_text(day: i64) -> String {
    // Midnight UTC of the day number has the same calendar date.
    fanzha_core::Instant::from_micros(day.saturating_mul(DAY_MICROS))
        .map(|i| i.utc().date_naive().to_string())
        .unwrap_or_else(|| format!("day {day}"))
}

/// What one user did on one day.
#[derive(Debug, Default, Clone)]
struct DayStats {
    lookups: u64,
    misses: u64,
    out_of_scope: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct Detail {
    found: Option<bool>,
    in_scope: Option<bool>,
}

#[derive(Debug, PartialEq, Eq)]
enum Access {
    Lookup,
    Reveal,
}

fn access(action: &str) -> Option<Access> {
    match action {
        "lookup.person" | "lookup.account" | "lookup.sim" | "lookup.device" | "lookup.warning" => {
            Some(Access::Lookup)
        }
        a if a.starts_with("reveal.") => Some(Access::Reveal),
        _ => None,
    }
}

/// Per user and day, what they did; days keyed by number.
fn tally(entries: &[AuditEntry]) -> BTreeMap<String, BTreeMap<i64, DayStats>> {
    let mut out: BTreeMap<String, BTreeMap<i64, DayStats>> = BTreeMap::new();
    for e in entries {
        let (Some(user), Some(kind)) = (e.actor.strip_prefix("user:"), access(&e.action)) else {
            continue;
        };
        // A detail the server did not write as agreed still counts as a look-up; it just
        // cannot say it missed or strayed.
        let (found, in_scope) = serde_json::from_str::<Detail>(&e.detail)
            .map(|d| (d.found.unwrap_or(true), d.in_scope.unwrap_or(true)))
            .unwrap_or((true, true));
        let stats = out
            .entry(user.to_owned())
            .or_default()
            .entry(shanghai_day(e.at))
            .or_default();
        if matches!(kind, Access::Lookup) {
            stats.lookups += 1;
            if !found {
                stats.misses += 1;
            }
        }
        if !in_scope {
            stats.out_of_scope.push(e.id);
        }
    }
    out
}

/// Twice the median, so a median halfway between two counts stays an integer.
fn median2(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        2 * values[n / 2]
    } else {
        values[n / 2 - 1] + values[n / 2]
    })
}

/// `count > factor × median`, with the median given doubled.
fn exceeds(count: u64, factor: u64, median2: u64) -> bool {
    count.saturating_mul(2) > factor.saturating_mul(median2)
}

fn half(median2: u64) -> f64 {
    median2 as f64 / 2.0
}

/// Whether an account could work on `day`: created by its end and not disabled before it.
fn active_on(u: &UserRow, day: i64) -> bool {
    u.created_at < day_start(day + 1) && u.disabled_at.is_none_or(|d| d > day_start(day))
}

/// Every flag the rules raise over these entries, ordered by day, user and rule.
pub fn evaluate(entries: &[AuditEntry], users: &[UserRow], rules: &Rules) -> Vec<NewFlag> {
    let tallies = tally(entries);
    let by_name: HashMap<&str, &UserRow> = users.iter().map(|u| (u.username.as_str(), u)).collect();
    let mut flags = Vec::new();
    let flag = |username: &str, day: i64, rule: Rule, detail| NewFlag {
        username: username.to_owned(),
        day: day_text(day),
        rule,
        detail,
    };

    for (username, days) in &tallies {
        let user = by_name.get(username.as_str()).copied();
        let mut history: Vec<u64> = Vec::new();
        for (&day, stats) in days {
            if stats.lookups > rules.volume_floor {
                // peer_volume
                if let Some(user) = user {
                    let mut peers: Vec<u64> = users
                        .iter()
                        .filter(|p| {
                            p.role == user.role && p.username != user.username && active_on(p, day)
                        })
                        .map(|p| {
                            tallies
                                .get(&p.username)
                                .and_then(|d| d.get(&day))
                                .map_or(0, |s| s.lookups)
                        })
                        .collect();
                    let n = peers.len();
                    if let Some(m2) = median2(&mut peers) {
                        if exceeds(stats.lookups, rules.peer_factor, m2) {
                            flags.push(flag(
                                username,
                                day,
                                Rule::PeerVolume,
                                json!({
                                    "lookups": stats.lookups,
                                    "role": user.role.as_str(),
                                    "peers": n,
                                    "peer_median": half(m2),
                                    "factor": rules.peer_factor,
                                }),
                            ));
                        }
                    }
                }
                // own_baseline
                if history.len() >= rules.baseline_min_days.max(1) {
                    let from = history.len().saturating_sub(rules.baseline_days);
                    let mut recent = history[from..].to_vec();
                    if let Some(m2) = median2(&mut recent) {
                        if exceeds(stats.lookups, rules.baseline_factor, m2) {
                            flags.push(flag(
                                username,
                                day,
                                Rule::OwnBaseline,
                                json!({
                                    "lookups": stats.lookups,
                                    "own_median": half(m2),
                                    "days": recent.len(),
                                    "factor": rules.baseline_factor,
                                }),
                            ));
                        }
                    }
                }
            }
            let strays = stats.out_of_scope.len() as u64;
            if strays >= rules.out_of_scope_min.max(1) {
                let shown = &stats.out_of_scope[..stats.out_of_scope.len().min(rules.detail_ids)];
                flags.push(flag(
                    username,
                    day,
                    Rule::OutOfScope,
                    json!({ "tries": strays, "audit_ids": shown }),
                ));
            }
            if stats.misses > rules.miss_limit {
                flags.push(flag(
                    username,
                    day,
                    Rule::IdFishing,
                    json!({
                        "misses": stats.misses,
                        "lookups": stats.lookups,
                        "limit": rules.miss_limit,
                    }),
                ));
            }
            if stats.lookups > 0 {
                history.push(stats.lookups);
            }
        }
    }
    flags.sort_by(|a, b| (&a.day, &a.username, a.rule).cmp(&(&b.day, &b.username, b.rule)));
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_warning_is_a_look_up_and_other_actions_are_not() {
        for a in [
            "lookup.person",
            "lookup.account",
            "lookup.sim",
            "lookup.device",
            "lookup.warning",
        ] {
            assert_eq!(access(a), Some(Access::Lookup), "{a}");
        }
        assert_eq!(access("reveal.person"), Some(Access::Reveal));
        assert_eq!(access("warnings.list"), None);
    }
    use fanzha_core::vocab::Role;
    use proptest::prelude::*;

    /// 2026-03-02T10:00:00+08:00: a working morning on the simulated district's second day.
    const MORNING: i64 = 1_772_416_800_000_000;
    const HOUR: i64 = 3_600 * 1_000_000;

    fn user(name: &str, role: Role) -> UserRow {
        UserRow {
            id: 0,
            username: name.to_owned(),
            password_hash: String::new(),
            role,
            disabled_at: None,
            institution_code: None,
            jurisdiction_code: None,
            created_at: 0,
        }
    }

    fn entry(
        id: i64,
        actor: &str,
        action: &str,
        at: i64,
        found: bool,
        in_scope: bool,
    ) -> AuditEntry {
        AuditEntry {
            id,
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail: json!({"id": "x", "community": "c", "found": found, "in_scope": in_scope})
                .to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// `n` ordinary person look-ups by `name` on the day `day_offset` days after MORNING's.
    fn lookups(out: &mut Vec<AuditEntry>, name: &str, n: u64, day_offset: i64) {
        for i in 0..n {
            let id = out.len() as i64 + 1;
            let at = MORNING + day_offset * 24 * HOUR + i as i64 * 1_000_000;
            out.push(entry(
                id,
                &format!("user:{name}"),
                "lookup.person",
                at,
                true,
                true,
            ));
        }
    }

    fn rules_of(flags: &[NewFlag], name: &str) -> Vec<Rule> {
        flags
            .iter()
            .filter(|f| f.username == name)
            .map(|f| f.rule)
            .collect()
    }

    fn analysts(n: usize) -> Vec<UserRow> {
        (0..n)
            .map(|i| user(&format!("a{i}"), Role::Analyst))
            .collect()
    }

    #[test]
    fn days_are_shanghai_calendar_days() {
        // 2026-03-01T23:59:59+08:00 and 2026-03-02T00:00:00+08:00.
        let before = 1_772_380_799_000_000;
        let after = before + 1_000_000;
        assert_eq!(day_text(shanghai_day(before)), "2026-03-01");
        assert_eq!(day_text(shanghai_day(after)), "2026-03-02");
        assert_eq!(day_start(shanghai_day(after)), after);
    }

    #[test]
    fn four_times_the_peer_median_is_flagged_and_twice_is_not() {
        let users = analysts(5);
        let mut log = Vec::new();
        for peer in ["a1", "a2", "a3", "a4"] {
            lookups(&mut log, peer, 15, 0);
        }
        lookups(&mut log, "a0", 60, 0);
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(rules_of(&flags, "a0"), vec![Rule::PeerVolume]);
        assert_eq!(flags[0].day, "2026-03-02");
        assert_eq!(flags[0].detail["peer_median"], 15.0);
        assert_eq!(flags[0].detail["lookups"], 60);

        let mut log = Vec::new();
        for peer in ["a1", "a2", "a3", "a4"] {
            lookups(&mut log, peer, 15, 0);
        }
        lookups(&mut log, "a0", 30, 0);
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
    }

    #[test]
    fn idle_peers_count_as_zero_but_the_floor_still_holds() {
        let users = analysts(4);
        let mut log = Vec::new();
        lookups(&mut log, "a0", 25, 0);
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(rules_of(&flags, "a0"), vec![Rule::PeerVolume]);
        assert_eq!(flags[0].detail["peer_median"], 0.0);
        assert_eq!(flags[0].detail["peers"], 3);

        let mut log = Vec::new();
        lookups(&mut log, "a0", 20, 0);
        assert_eq!(
            evaluate(&log, &users, &Rules::default()),
            vec![],
            "20 look-ups is the floor, not above it"
        );
    }

    #[test]
    fn peers_are_the_same_role_and_active_that_day() {
        let mut users = analysts(2);
        users.extend((0..3).map(|i| user(&format!("o{i}"), Role::StationOfficer)));
        // A busy analyst whose peers (the other analyst) match; the officers are not peers.
        let mut log = Vec::new();
        lookups(&mut log, "a0", 40, 0);
        lookups(&mut log, "a1", 40, 0);
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
        // An analyst disabled the day before is not a peer any more; one created the day
        // after is not one yet; so a lone analyst has no peers and no peer flag.
        let mut users = analysts(3);
        users[1].disabled_at = Some(MORNING - 24 * HOUR);
        users[2].created_at = MORNING + 24 * HOUR;
        let mut log = Vec::new();
        lookups(&mut log, "a0", 100, 0);
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
    }

    #[test]
    fn own_baseline_needs_history_and_three_times_its_median() {
        let users = vec![user("a0", Role::Analyst)];
        let mut log = Vec::new();
        for d in 0..6 {
            lookups(&mut log, "a0", 10, d);
        }
        lookups(&mut log, "a0", 31, 6);
        lookups(&mut log, "a0", 30, 7);
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].rule, Rule::OwnBaseline);
        assert_eq!(flags[0].day, "2026-03-08");
        assert_eq!(flags[0].detail["own_median"], 10.0);

        // Four earlier days are not yet a baseline.
        let mut log = Vec::new();
        for d in 0..4 {
            lookups(&mut log, "a0", 10, d);
        }
        lookups(&mut log, "a0", 100, 4);
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
    }

    #[test]
    fn the_baseline_is_the_last_fourteen_active_days() {
        let users = vec![user("a0", Role::Analyst)];
        let mut log = Vec::new();
        // Busy long ago, quiet for the last fourteen active days (with gaps between them).
        for d in 0..20 {
            lookups(&mut log, "a0", 50, d);
        }
        for d in 0..14 {
            lookups(&mut log, "a0", 8, 20 + 2 * d);
        }
        lookups(&mut log, "a0", 25, 60);
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(rules_of(&flags, "a0"), vec![Rule::OwnBaseline]);
        assert_eq!(flags[0].detail["days"], 14);
    }

    #[test]
    fn a_single_out_of_scope_try_is_flagged_with_its_entry() {
        let users = vec![user("o1", Role::StationOfficer)];
        let mut log = Vec::new();
        lookups(&mut log, "o1", 3, 0);
        log.push(entry(99, "user:o1", "lookup.person", MORNING, true, false));
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(rules_of(&flags, "o1"), vec![Rule::OutOfScope]);
        assert_eq!(flags[0].detail, json!({"tries": 1, "audit_ids": [99]}));
    }

    #[test]
    fn many_misses_are_id_fishing() {
        let users = vec![user("b1", Role::BankOperator)];
        let miss = |n: i64| -> Vec<AuditEntry> {
            (0..n)
                .map(|i| entry(i + 1, "user:b1", "lookup.account", MORNING + i, false, true))
                .collect()
        };
        assert_eq!(evaluate(&miss(20), &users, &Rules::default()), vec![]);
        let flags = evaluate(&miss(21), &users, &Rules::default());
        assert_eq!(rules_of(&flags, "b1"), vec![Rule::IdFishing]);
        assert_eq!(flags[0].detail["misses"], 21);
    }

    #[test]
    fn other_actors_and_actions_are_not_look_ups() {
        let users = analysts(3);
        let mut log = Vec::new();
        for i in 0..100 {
            log.push(entry(
                i,
                "key:1:ICBC",
                "lookup.account",
                MORNING + i,
                false,
                false,
            ));
            log.push(entry(
                1000 + i,
                "cli:root",
                "lookup.person",
                MORNING + i,
                true,
                false,
            ));
            log.push(entry(
                2000 + i,
                "user:a0",
                "api.login",
                MORNING + i,
                true,
                false,
            ));
        }
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
    }

    #[test]
    fn reveals_count_for_scope_but_not_for_volume() {
        let users = analysts(3);
        let mut log = Vec::new();
        for i in 0..100 {
            log.push(entry(
                i,
                "user:a0",
                "reveal.person.phone",
                MORNING + i,
                true,
                true,
            ));
        }
        assert_eq!(evaluate(&log, &users, &Rules::default()), vec![]);
        log.push(entry(
            500,
            "user:a0",
            "reveal.person.phone",
            MORNING,
            true,
            false,
        ));
        let flags = evaluate(&log, &users, &Rules::default());
        assert_eq!(rules_of(&flags, "a0"), vec![Rule::OutOfScope]);
    }

    proptest! {
        #[test]
        fn peer_volume_is_bounded_by_the_peers_least_and_most(
            peers in proptest::collection::vec(0u64..40, 1..7),
            count in 0u64..300,
        ) {
            let users = analysts(peers.len() + 1);
            let mut log = Vec::new();
            for (i, &n) in peers.iter().enumerate() {
                lookups(&mut log, &format!("a{}", i + 1), n, 0);
            }
            lookups(&mut log, "a0", count, 0);
            let rules = Rules::default();
            let flagged = evaluate(&log, &users, &rules)
                .iter()
                .any(|f| f.username == "a0" && f.rule == Rule::PeerVolume);
            let (least, most) = (peers.iter().min().copied().unwrap_or(0), peers.iter().max().copied().unwrap_or(0));
            if count <= rules.volume_floor || count <= 3 * least {
                prop_assert!(!flagged);
            }
            if count > rules.volume_floor && count > 3 * most {
                prop_assert!(flagged);
            }
            // More look-ups never clear a flag.
            if flagged {
                lookups(&mut log, "a0", 5, 0);
                prop_assert!(evaluate(&log, &users, &rules)
                    .iter()
                    .any(|f| f.username == "a0" && f.rule == Rule::PeerVolume));
            }
        }

        #[test]
        fn the_order_of_the_entries_does_not_matter(
            counts in proptest::collection::vec((0usize..4, 0u64..60, 0i64..20), 1..12),
            seed in any::<u64>(),
        ) {
            let users = analysts(4);
            let mut log = Vec::new();
            for &(u, n, d) in &counts {
                lookups(&mut log, &format!("a{u}"), n, d);
            }
            let want = evaluate(&log, &users, &Rules::default());
            // A deterministic shuffle: the trail read in pages of another order.
            let mut state = seed | 1;
            for i in (1..log.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                log.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(evaluate(&log, &users, &Rules::default()), want);
        }
    }
}
