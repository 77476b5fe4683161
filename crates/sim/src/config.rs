//! What a run is asked for: the seed, the scale, the profile, the output format, and every rate
//! the simulator draws from, each a documented parameter with its default (and, where the
//! `hard` profile differs, the hard value beside it).
//!
//! The figures are chosen for evaluation, not as official statistics: the fraud rate is far
//! above a real district's, so that a week of a small district already holds a dozen victims.
//! The typology mix and the loss sizes follow LEGAL.md's 2022 facts: order brushing is about a
//! third of cases, fake investment about a third of the money lost, and the five leading
//! typologies together make nearly 80 % of cases.

use std::fmt;
use std::str::FromStr;

use fanzha_core::vocab::Typology;

/// How big a district to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 5,000 residents in 3 towns and 12 communities; 7 days by default. Tests, demo.
    Small,
    /// 200,000 residents in 10 towns and 100 communities; 30 days by default: about 10 million
    /// transactions and 20 million calls and SMS.
    District,
    /// Five times a district (1,000,000 residents, 50 towns, 500 communities) under one root;
    /// streamed to disk day by day, so memory stays bounded.
    City,
}

impl Scale {
    pub fn residents(self) -> u32 {
        match self {
            Scale::Small => 5_000,
            Scale::District => 200_000,
            Scale::City => 1_000_000,
        }
    }

    pub fn towns(self) -> u32 {
        match self {
            Scale::Small => 3,
            Scale::District => 10,
            Scale::City => 50,
        }
    }

    /// Communities per town.
    pub fn communities_per_town(self) -> u32 {
        match self {
            Scale::Small => 4,
            Scale::District | Scale::City => 10,
        }
    }

    pub fn default_days(self) -> u32 {
        match self {
            Scale::Small => 7,
            Scale::District | Scale::City => 30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::District => "district",
            Scale::City => "city",
        }
    }
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "small" => Ok(Scale::Small),
            "district" => Ok(Scale::District),
            "city" => Ok(Scale::City),
            _ => Err(format!(
                "unknown scale `{s}`; expected small, district or city"
            )),
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How hard the fraud is to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Default,
    /// Heavier camouflage, slower laundering, fewer victims per mule card, more look-alikes,
    /// rings that rotate cards quickly.
    Hard,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Hard => "hard",
        }
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Profile::Default),
            "hard" => Ok(Profile::Hard),
            _ => Err(format!("unknown profile `{s}`; expected default or hard")),
        }
    }
}

/// The data files' format; labels are always CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "jsonl" => Ok(Format::Jsonl),
            _ => Err(format!("unknown format `{s}`; expected csv or jsonl")),
        }
    }
}

/// A typology's share of cases, its loss size and whom it prefers.
#[derive(Debug, Clone, Copy)]
pub struct TypologyParams {
    pub typology: Typology,
    /// Share of victims (cases); the shares of all typologies sum to 1.
    pub share: f64,
    /// Median total loss of one victim, in yuan (log-normal, σ = `loss_sigma`).
    pub median_loss_yuan: f64,
    /// Payments per victim: between 1 and this many, escalating.
    pub max_payments: u32,
    /// Relative preference for a resident by age band: (16–29, 30–59, 60 and over).
    pub age_weight: [f64; 3],
    /// Extra preference for residents tagged `lives_alone`.
    pub lives_alone_boost: f64,
    /// How the first contact arrives: shares of (call, sms, app, video).
    pub contact: [f64; 4],
}

const fn tp(
    typology: Typology,
    share: f64,
    median_loss_yuan: f64,
    max_payments: u32,
    age_weight: [f64; 3],
    lives_alone_boost: f64,
    contact: [f64; 4],
) -> TypologyParams {
    TypologyParams {
        typology,
        share,
        median_loss_yuan,
        max_payments,
        age_weight,
        lives_alone_boost,
        contact,
    }
}

/// The default typology table (LEGAL.md, 2022): order brushing about a third of cases; fake
/// investment fewer cases but the largest losses (about a third of the money); the five
/// leading typologies 79 % of cases.
pub const TYPOLOGIES: [TypologyParams; 9] = [
    tp(
        Typology::OrderBrushing,
        0.33,
        9_000.0,
        4,
        [3.0, 1.2, 0.25],
        1.0,
        [0.1, 0.5, 0.4, 0.0],
    ),
    tp(
        Typology::FakeInvestment,
        0.14,
        60_000.0,
        5,
        [0.5, 1.5, 2.2],
        1.2,
        [0.3, 0.2, 0.5, 0.0],
    ),
    tp(
        Typology::FakeLoan,
        0.12,
        4_000.0,
        3,
        [1.6, 1.6, 0.3],
        1.0,
        [0.3, 0.4, 0.3, 0.0],
    ),
    tp(
        Typology::FakeCustomerService,
        0.11,
        15_000.0,
        3,
        [1.5, 1.3, 0.6],
        1.0,
        [0.9, 0.1, 0.0, 0.0],
    ),
    tp(
        Typology::ImpersonatingOfficials,
        0.09,
        45_000.0,
        3,
        [0.5, 0.8, 3.2],
        1.6,
        [1.0, 0.0, 0.0, 0.0],
    ),
    tp(
        Typology::Romance,
        0.07,
        40_000.0,
        4,
        [0.9, 2.0, 0.6],
        1.8,
        [0.2, 0.1, 0.7, 0.0],
    ),
    tp(
        Typology::FakeCreditRepair,
        0.06,
        6_000.0,
        2,
        [2.0, 1.2, 0.2],
        1.0,
        [0.8, 0.2, 0.0, 0.0],
    ),
    tp(
        Typology::AiFaceVoice,
        0.03,
        25_000.0,
        1,
        [0.3, 0.7, 2.8],
        1.5,
        [0.0, 0.0, 0.0, 1.0],
    ),
    tp(
        Typology::Other,
        0.05,
        5_000.0,
        2,
        [1.0, 1.0, 1.0],
        1.0,
        [0.5, 0.3, 0.2, 0.0],
    ),
];

/// Every rate the simulator draws from. `Params::for_profile` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Params {
    // --- population -------------------------------------------------------------------
    /// Share of residents aged 16–24 in education (tag `student`). Default 0.12.
    pub student_share: f64,
    /// Share of residents aged 60 and over (tag `elderly`). Default 0.24.
    pub elderly_share: f64,
    /// Share of the elderly who live alone (tag `lives_alone`). Default 0.25.
    pub lives_alone_share: f64,
    /// Share of residents who are hearing-impaired. Default 0.01.
    pub hearing_impaired_share: f64,
    /// Share of residents who are foreigners (passport or permanent residence id) or from
    /// Hong Kong, Macau or Taiwan. Default 0.004.
    pub foreign_share: f64,
    /// Share of phone numbers ported to another carrier than their prefix's. Default 0.04.
    pub ported_share: f64,
    /// Share of residents who have installed the anti-fraud app before the window. Default 0.3.
    pub anti_fraud_app_share: f64,
    /// Daily chance a resident without it installs the anti-fraud app. Default 0.002.
    pub anti_fraud_install_rate: f64,
    /// Residents per company (employers and merchants of the district). Default 60.
    pub residents_per_company: u32,

    // --- normal life, per resident per day ----------------------------------------------
    /// Purchases (pos, online_pay) per working-age resident per day; students 0.85×, elderly
    /// 0.45×. Default 1.25.
    pub purchases_per_day: f64,
    /// Median purchase in yuan (log-normal, σ = 1.1: heavy-tailed). Default 38.
    pub purchase_median_yuan: f64,
    /// Family transfers and red packets per resident per day. Default 0.22.
    pub transfers_per_day: f64,
    /// ATM withdrawals per resident per day (elderly 2×). Default 0.02.
    pub atm_per_day: f64,
    /// Voice calls per resident per day (elderly 0.7×, students 0.8×). Default 1.7.
    pub calls_per_day: f64,
    /// Personal SMS per resident per day. Default 0.5.
    pub sms_per_day: f64,
    /// Service SMS (bank notices, verification codes) per resident per day. Default 0.85.
    pub service_sms_per_day: f64,
    /// Banking-app logins per resident per day. Default 0.45.
    pub logins_per_day: f64,
    /// App opens per resident per day. Default 0.25.
    pub app_opens_per_day: f64,

    // --- look-alikes (not fraud) -----------------------------------------------------------
    /// Share of working-age residents who are delivery riders (many small incoming
    /// payments). Default 0.01; hard 0.02.
    pub rider_share: f64,
    /// Share of residents who lead a community group-buy (collect, then pay suppliers).
    /// Default 0.004; hard 0.008.
    pub group_buy_share: f64,
    /// Share of residents who are small traders with pass-through flows. Default 0.01;
    /// hard 0.02.
    pub trader_share: f64,
    /// Share of residents who use a VPN (logins from foreign addresses). Default 0.01; hard
    /// 0.03.
    pub vpn_share: f64,
    /// SMS gateways (corporate IoT numbers sending codes to many strangers) per 100,000
    /// residents. Default 2; hard 4.
    pub sms_gateways_per_100k: f64,

    // --- fraud ---------------------------------------------------------------------------------
    /// Victims per 10,000 residents per week. Default 25.
    pub victims_per_10k_week: f64,
    /// The typology table (shares, losses, preferences): [`TYPOLOGIES`].
    pub typologies: Vec<TypologyParams>,
    /// σ of a victim's log-normal total loss. Default 0.9.
    pub loss_sigma: f64,
    /// Victims one ring serves, on average (sets the number of rings). Default 40.
    pub victims_per_ring: f64,
    /// Victims paid into one first-level card before the ring rotates to the next.
    /// Default 6; hard 2 (quick rotation, fewer victims per mule).
    pub victims_per_l1_card: u32,
    /// Share of victim payments made to a runner's payment code instead of a mule card.
    /// Default 0.25.
    pub runner_share: f64,
    /// Runner's commission kept on the runner's account. Default 0.02.
    pub runner_commission: f64,
    /// Median minutes a laundering card holds money before forwarding it. Default 12; hard 90.
    pub hold_minutes: f64,
    /// Share of victims first contacted through the data seller's leaked list. Default 0.6.
    pub leaked_list_share: f64,
    /// Share of victims who never report within the window's horizon. Default 0.25.
    pub unreported_share: f64,
    /// Share of reports that leave out one of several payments. Default 0.12.
    pub partial_report_share: f64,
    /// Median hours from the last payment to the report. Default 18.
    pub report_delay_hours: f64,
    /// Ordinary (camouflage) transactions per mule card per day in use. Default 0.4; hard 1.5.
    pub camouflage_per_day: f64,
    /// Share of victims flagged by a pushed lead from a higher-level centre. Default 0.3.
    pub lead_share: f64,
    /// Historic (solved or open) cases per 100,000 residents. Default 40.
    pub historic_cases_per_100k: f64,
}

impl Params {
    /// The documented defaults, and the hard profile's values where they differ.
    pub fn for_profile(profile: Profile) -> Params {
        let hard = profile == Profile::Hard;
        Params {
            student_share: 0.12,
            elderly_share: 0.24,
            lives_alone_share: 0.25,
            hearing_impaired_share: 0.01,
            foreign_share: 0.004,
            ported_share: 0.04,
            anti_fraud_app_share: 0.3,
            anti_fraud_install_rate: 0.002,
            residents_per_company: 60,
            purchases_per_day: 1.25,
            purchase_median_yuan: 38.0,
            transfers_per_day: 0.22,
            atm_per_day: 0.02,
            calls_per_day: 1.7,
            sms_per_day: 0.5,
            service_sms_per_day: 0.85,
            logins_per_day: 0.45,
            app_opens_per_day: 0.25,
            rider_share: if hard { 0.02 } else { 0.01 },
            group_buy_share: if hard { 0.008 } else { 0.004 },
            trader_share: if hard { 0.02 } else { 0.01 },
            vpn_share: if hard { 0.03 } else { 0.01 },
            sms_gateways_per_100k: if hard { 4.0 } else { 2.0 },
            victims_per_10k_week: 25.0,
            typologies: TYPOLOGIES.to_vec(),
            loss_sigma: 0.9,
            victims_per_ring: 40.0,
            victims_per_l1_card: if hard { 2 } else { 6 },
            runner_share: 0.25,
            runner_commission: 0.02,
            hold_minutes: if hard { 90.0 } else { 12.0 },
            leaked_list_share: 0.6,
            unreported_share: 0.25,
            partial_report_share: 0.12,
            report_delay_hours: 18.0,
            camouflage_per_day: if hard { 1.5 } else { 0.4 },
            lead_share: 0.3,
            historic_cases_per_100k: 40.0,
        }
    }
}

/// One run's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub scale: Scale,
    /// Residents; the scale's by default (tests may shrink or grow it).
    pub residents: u32,
    pub days: u32,
    pub profile: Profile,
    pub format: Format,
    /// Worker threads for the day-by-day generation; output does not depend on it.
    pub threads: usize,
    pub params: Params,
}

impl Config {
    pub fn new(seed: u64, scale: Scale, profile: Profile) -> Config {
        Config {
            seed,
            scale,
            residents: scale.residents(),
            days: scale.default_days(),
            profile,
            format: Format::Csv,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            params: Params::for_profile(profile),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typology_shares_sum_to_one_and_follow_legal_md() {
        let sum: f64 = TYPOLOGIES.iter().map(|t| t.share).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        let top5: f64 = TYPOLOGIES[..5].iter().map(|t| t.share).sum();
        assert!(
            (0.75..0.85).contains(&top5),
            "five leading typologies: {top5}"
        );
        // Fake investment: about a third of the money (expected loss ∝ share × mean).
        let mean = |t: &TypologyParams| t.share * t.median_loss_yuan;
        let total: f64 = TYPOLOGIES.iter().map(mean).sum();
        let inv = mean(&TYPOLOGIES[1]) / total;
        assert!(
            (0.25..0.45).contains(&inv),
            "fake investment share of money: {inv}"
        );
        for t in &TYPOLOGIES {
            let c: f64 = t.contact.iter().sum();
            assert!((c - 1.0).abs() < 1e-9, "{:?}", t.typology);
        }
    }
}
