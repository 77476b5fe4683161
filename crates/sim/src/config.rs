//! What a run is asked for: the seed, the scale, the profile, the output format, and every rate
//! the simulator draws from, each a documented parameter with its default (and, where the
//! `hard` profile differs, the hard value beside it). The day-by-day generation (`life.rs`,
//! `fraud.rs`) draws every rate, volume, share, split and the per-typology timing from here;
//! what stays with the code is vocabulary (which memo or text a record carries) and the
//! world's structural tables in `world.rs` (household sizes, accounts and phones per person).
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
    /// Minutes from first contact to the first payment, drawn uniformly from [lo, hi]: how
    /// long the script takes to bring a victim to pay (minutes for a fake refund, days for
    /// trust-building investment and romance scams).
    pub first_payment_minutes: [i64; 2],
    /// Minutes between one payment and the next, drawn uniformly from [lo, hi] (each actual
    /// gap is half of it plus a uniform draw up to all of it).
    pub payment_gap_minutes: [i64; 2],
}

// One row of the table below; positional, so the table reads as a table.
#[allow(clippy::too_many_arguments)]
const fn tp(
    typology: Typology,
    share: f64,
    median_loss_yuan: f64,
    max_payments: u32,
    age_weight: [f64; 3],
    lives_alone_boost: f64,
    contact: [f64; 4],
    first_payment_minutes: [i64; 2],
    payment_gap_minutes: [i64; 2],
) -> TypologyParams {
    TypologyParams {
        typology,
        share,
        median_loss_yuan,
        max_payments,
        age_weight,
        lives_alone_boost,
        contact,
        first_payment_minutes,
        payment_gap_minutes,
    }
}

/// The default typology table (LEGAL.md, 2022): order brushing about a third of cases; fake
/// investment fewer cases but the largest losses (about a third of the money); the five
/// leading typologies 79 % of cases. The last two columns are the timing: minutes from first
/// contact to the first payment, and between payments — minutes for scripts that rush the
/// victim (fake refunds, AI voice), days for the trust-building ones (investment, romance).
pub const TYPOLOGIES: [TypologyParams; 9] = [
    tp(
        Typology::OrderBrushing,
        0.33,
        9_000.0,
        4,
        [3.0, 1.2, 0.25],
        1.0,
        [0.1, 0.5, 0.4, 0.0],
        [20, 120],
        [10, 600],
    ),
    tp(
        Typology::FakeInvestment,
        0.14,
        60_000.0,
        5,
        [0.5, 1.5, 2.2],
        1.2,
        [0.3, 0.2, 0.5, 0.0],
        [1440, 4320],
        [1440, 5760],
    ),
    tp(
        Typology::FakeLoan,
        0.12,
        4_000.0,
        3,
        [1.6, 1.6, 0.3],
        1.0,
        [0.3, 0.4, 0.3, 0.0],
        [30, 120],
        [20, 90],
    ),
    tp(
        Typology::FakeCustomerService,
        0.11,
        15_000.0,
        3,
        [1.5, 1.3, 0.6],
        1.0,
        [0.9, 0.1, 0.0, 0.0],
        [15, 60],
        [10, 40],
    ),
    tp(
        Typology::ImpersonatingOfficials,
        0.09,
        45_000.0,
        3,
        [0.5, 0.8, 3.2],
        1.6,
        [1.0, 0.0, 0.0, 0.0],
        [60, 240],
        [60, 1440],
    ),
    tp(
        Typology::Romance,
        0.07,
        40_000.0,
        4,
        [0.9, 2.0, 0.6],
        1.8,
        [0.2, 0.1, 0.7, 0.0],
        [2880, 8640],
        [1440, 4320],
    ),
    tp(
        Typology::FakeCreditRepair,
        0.06,
        6_000.0,
        2,
        [2.0, 1.2, 0.2],
        1.0,
        [0.8, 0.2, 0.0, 0.0],
        [30, 90],
        [20, 60],
    ),
    tp(
        Typology::AiFaceVoice,
        0.03,
        25_000.0,
        1,
        [0.3, 0.7, 2.8],
        1.5,
        [0.0, 0.0, 0.0, 1.0],
        [10, 90],
        [30, 90],
    ),
    tp(
        Typology::Other,
        0.05,
        5_000.0,
        2,
        [1.0, 1.0, 1.0],
        1.0,
        [0.5, 0.3, 0.2, 0.0],
        [60, 1440],
        [60, 1440],
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
    /// Purchases (pos, online_pay) per working-age resident per day; students and the
    /// elderly buy less (`student_purchase_factor`, `elderly_purchase_factor`). Default 1.25.
    pub purchases_per_day: f64,
    /// Median purchase in yuan (log-normal, σ = `purchase_sigma`). Default 38.
    pub purchase_median_yuan: f64,
    /// Family transfers and red packets per resident per day. Default 0.22.
    pub transfers_per_day: f64,
    /// ATM withdrawals per resident per day (the elderly `elderly_atm_factor` times as
    /// many). Default 0.02.
    pub atm_per_day: f64,
    /// Voice calls per resident per day (scaled by `elderly_call_factor` and
    /// `student_call_factor`). Default 1.7.
    pub calls_per_day: f64,
    /// Personal SMS per resident per day. Default 0.5.
    pub sms_per_day: f64,
    /// Service SMS (bank notices, verification codes) per resident per day. Default 0.85.
    pub service_sms_per_day: f64,
    /// Banking-app logins per resident per day. Default 0.45.
    pub logins_per_day: f64,
    /// App opens per resident per day. Default 0.25.
    pub app_opens_per_day: f64,

    /// Purchases of a student as a multiple of `purchases_per_day` (and of logins). Default
    /// 0.85: students spend in smaller, fewer baskets.
    pub student_purchase_factor: f64,
    /// Purchases and logins of a resident aged 60 and over as a multiple of
    /// `purchases_per_day`. Default 0.45: the elderly shop less online and log in less.
    pub elderly_purchase_factor: f64,
    /// Calls of a resident aged 60 and over as a multiple of `calls_per_day`. Default 0.7.
    pub elderly_call_factor: f64,
    /// Calls of a student as a multiple of `calls_per_day`. Default 0.8: students message more
    /// than they call.
    pub student_call_factor: f64,
    /// ATM withdrawals of a resident aged 60 and over as a multiple of `atm_per_day`.
    /// Default 2: the elderly use cash more.
    pub elderly_atm_factor: f64,
    /// Share of a resident's calls that go to someone in their social graph; the rest go to
    /// service numbers or unknown mobiles. Default 0.9.
    pub call_contact_share: f64,
    /// Of calls outside the social graph, the share to service numbers (95xxx, 400); the rest
    /// go to outside mobiles. Default 0.5.
    pub call_service_share: f64,
    /// Of calls with an outside party, the share that come in rather than go out. Default
    /// 0.5: relatives elsewhere call as often as they are called.
    pub call_incoming_share: f64,
    /// Share of ordinary calls unanswered (duration 0). Default 0.08.
    pub missed_call_share: f64,
    /// Median ordinary call in seconds (log-normal, σ = `call_sigma`, capped at 90 minutes).
    /// Default 55.
    pub call_median_s: f64,
    /// σ of an ordinary call's log-normal duration. Default 1.0.
    pub call_sigma: f64,
    /// Share of ordinary calls made as video calls. Default 0.03.
    pub video_call_share: f64,
    /// Share of off-work events made on mobile data rather than the home broadband (at work
    /// always mobile data). Default 0.4.
    pub mobile_data_share: f64,
    /// Share of purchases made online (the rest at a district shop's POS). Default 0.6.
    pub online_purchase_share: f64,
    /// Share of online purchases paid from a payment wallet, when the resident has one.
    /// Default 0.7.
    pub wallet_purchase_share: f64,
    /// σ of a purchase's log-normal amount. Default 1.1: a heavy tail of large purchases.
    pub purchase_sigma: f64,
    /// Share of family transfers that go to a household member, when the household has
    /// several. Default 0.5.
    pub household_transfer_share: f64,
    /// Of the other transfers, the share to a contact in the district; the rest go to
    /// relatives outside. Default 0.6.
    pub contact_transfer_share: f64,
    /// Share of transfers that are red packets (fixed lucky sums, 6.66 to 1,000 yuan).
    /// Default 0.45.
    pub red_packet_share: f64,
    /// Median ordinary transfer in yuan (log-normal, σ = `transfer_sigma`). Default 500.
    pub transfer_median_yuan: f64,
    /// σ of an ordinary transfer's log-normal amount. Default 1.2.
    pub transfer_sigma: f64,
    /// Weights of an ATM withdrawal's amount: 200, 500, 1,000, 2,000 or 3,000 yuan. Default
    /// (0.2, 0.3, 0.3, 0.15, 0.05).
    pub atm_amount_weights: [f64; 5],
    /// Share of logins to a bank account (the rest to a SIM's carrier app). Default 0.8.
    pub login_account_share: f64,
    /// Share of a VPN user's logins seen from a foreign address. Default 0.5.
    pub vpn_abroad_share: f64,
    /// Share of a VPN user's app opens that open the VPN app. Default 0.3.
    pub vpn_app_share: f64,
    /// Share of an anti-fraud-app user's app opens that open it. Default 0.05.
    pub anti_fraud_open_share: f64,
    /// Median monthly salary paid by a district employer, in yuan (log-normal, σ 0.5).
    /// Default 7,500.
    pub salary_median_yuan: f64,
    /// Median monthly salary paid from an employer outside the district, in yuan
    /// (log-normal, σ 0.6). Default 6,500.
    pub outside_salary_median_yuan: f64,
    /// Median monthly pension in yuan (log-normal, σ 0.35: pensions vary little). Default
    /// 3,800.
    pub pension_median_yuan: f64,
    /// Median monthly household bill (utilities, phone top-up) in yuan (log-normal, σ 0.6).
    /// Default 150.
    pub bill_median_yuan: f64,

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
    /// Payments a delivery rider receives per day (5–45 yuan each, from strangers). Default
    /// 12: a rider's receipts are many, small and from unrelated payers, like a first-level
    /// mule card's.
    pub rider_payments_per_day: f64,
    /// Purchases a delivery rider makes per day for customers (10–120 yuan). Default 6.
    pub rider_purchases_per_day: f64,
    /// Payments a group-buy leader collects from neighbours per day (20–300 yuan). Default
    /// 15: a daily fan-in, then one payment out at night.
    pub group_buy_collections_per_day: f64,
    /// Share of the day's collections the group-buy leader pays on to the supplier. Default
    /// 0.92 (the leader keeps a small margin): a fan-in fan-out that nearly balances, as
    /// laundering does.
    pub group_buy_supplier_share: f64,
    /// Texts a group-buy leader sends neighbours per evening. Default 8.
    pub group_buy_texts_per_day: f64,
    /// Customer payments a small trader receives per day (50–800 yuan). Default 10.
    pub trader_payments_per_day: f64,
    /// Share of the day's takings a small trader passes on to the wholesaler. Default 0.85:
    /// a pass-through like a mule card's, with a margin left.
    pub trader_pass_through_share: f64,
    /// Daily chance a small trader deposits cash (500–5,000 yuan). Default 0.3.
    pub trader_cash_deposit_rate: f64,
    /// Texts the SMS gateways send in all, per resident per day (verification codes to
    /// strangers, as a SIM box texts). Default 0.3.
    pub gateway_texts_per_resident_day: f64,

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
    /// Median minutes a laundering card holds money before forwarding it. Default 12 (money
    /// is moved on before a stop-payment can arrive); hard 90 (slower laundering: the
    /// quick in-and-out that rules look for is blurred).
    pub hold_minutes: f64,
    /// Share of victims first contacted through the data seller's leaked list. Default 0.6:
    /// bought lists are how most callers find their targets.
    pub leaked_list_share: f64,
    /// Share of victims who never report within the window's horizon. Default 0.25.
    pub unreported_share: f64,
    /// Share of reports that leave out one of several payments. Default 0.12.
    pub partial_report_share: f64,
    /// Median hours from the last payment to the report. Default 18.
    pub report_delay_hours: f64,
    /// Ordinary (camouflage) transactions per mule card per day in use. Default 0.4 (a card
    /// bought for laundering is otherwise nearly idle); hard 1.5 (heavier camouflage: the
    /// card looks used by its holder).
    pub camouflage_per_day: f64,
    /// Share of victims flagged by a pushed lead from a higher-level centre. Default 0.3, so
    /// that most victims are found only by the district's own engines.
    pub lead_share: f64,
    /// Historic (solved or open) cases per 100,000 residents. Default 40.
    pub historic_cases_per_100k: f64,
    /// Share of residents on the data seller's leaked customer list (they shopped at the
    /// shop whose list leaked, in the first days of the window). Default 0.08: a large shop's
    /// customers; with `leaked_list_share` 0.6 a listed resident is about 17 times as likely
    /// to be a victim as another, a signal the intelligence engine can find.
    pub leaked_population_share: f64,
    /// How a victim's number of payments falls off: payment count k + 1 has weight
    /// `payment_count_decay`^k, up to the typology's `max_payments`. Default 0.55: most
    /// victims pay once or twice.
    pub payment_count_decay: f64,
    /// How payments escalate: payment i carries weight `payment_escalation`^i of the loss.
    /// Default 1.8: each payment about twice the last, as scripts push for more.
    pub payment_escalation: f64,
    /// Share of scam calls placed from the ring's SIM box in the den; the rest come from
    /// foreign or virtual numbers. Default 0.55.
    pub den_call_share: f64,
    /// Share of a victim's payments of at most `wallet_payment_max_yuan` made from a payment
    /// wallet (when the victim has one). Default 0.5.
    pub victim_wallet_share: f64,
    /// Largest victim payment made from a wallet, in yuan. Default 5,000: above it wallets
    /// ask for more verification, so victims pay from a card.
    pub wallet_payment_max_yuan: i64,
    /// Share of victim payments that carry the script's memo (task, investment, safe
    /// account…); the rest carry none. Default 0.6.
    pub payment_memo_share: f64,
    /// Share of victim payments made on the home broadband (the rest on mobile data).
    /// Default 0.5.
    pub victim_home_ip_share: f64,
    /// Share of investment-app victims sent a fraud app that is already on the known list.
    /// Default 0.2.
    pub known_fraud_app_share: f64,
    /// Order brushing's trust-winning rebate after the first task, as a bonus of [lo, hi] %
    /// over the sum paid. Default (5, 20).
    pub rebate_bonus_percent: [i64; 2],
    /// Chance a ring works from a second den. Default 0.4.
    pub second_den_share: f64,
    /// Share of a ring's first-level cards opened by the district's card suppliers (the
    /// rest are cards outside the district). Default 0.7.
    pub local_l1_share: f64,
    /// Share of cards from suppliers that are Class I (the rest Class II). Default 0.6.
    pub supplier_class_i_share: f64,
    /// What the card dealer pays a supplier per card or SIM, in yuan, drawn from [lo, hi].
    /// Default (300, 1,500).
    pub card_price_yuan: [i64; 2],
    /// Weights of how many second-level cards a first-level card splits a payment across
    /// (1, 2 or 3). Default (0.3, 0.45, 0.25).
    pub l1_split_weights: [f64; 3],
    /// How long each hop holds money, as a multiple of `hold_minutes`: (first level, runner,
    /// second level, third level). Default (1, 0.5, 2, 3): runners forward at once, deeper
    /// levels wait to merge.
    pub hold_factors: [f64; 4],
    /// σ of a hop's log-normal holding time. Default 0.7.
    pub hold_sigma: f64,
    /// Largest ATM withdrawal a courier makes, in yuan. Default 20,000 (a typical daily ATM
    /// cap): third-level money in the district leaves in chunks of at most this.
    pub courier_withdrawal_max_yuan: i64,
    /// Shares of where third-level money outside the couriers' reach exits: (a
    /// virtual-currency desk, a fake merchant trade, an outside exit card). Default
    /// (0.4, 0.3, 0.3).
    pub exit_shares: [f64; 3],
    /// Calls each caller SIM dials to strangers per working day. Default 35: far above a
    /// resident's 1.7, the scam-caller SIM's signature.
    pub caller_calls_per_sim_day: f64,
    /// Share of callers' calls to strangers unanswered (duration 0); the rest last 3–45 s.
    /// Default 0.4.
    pub caller_unanswered_share: f64,
    /// Calls from each ring's foreign and virtual numbers to residents per day. Default 15.
    pub foreign_calls_per_ring_day: f64,
    /// Share of those foreign calls unanswered. Default 0.5.
    pub foreign_unanswered_share: f64,
    /// Texts each ring SIM sends strangers per day. Default 20.
    pub texts_per_ring_sim_day: f64,
    /// Ordinary (camouflage) calls per caller SIM per day, to a handful of fixed numbers.
    /// Default 0.8; hard 3 (twice `camouflage_per_day`: heavier camouflage).
    pub camouflage_calls_per_sim_day: f64,
    /// Share of a mule card's camouflage that is a small purchase (the rest small transfers
    /// in from outside). Default 0.5.
    pub camouflage_purchase_share: f64,
    /// σ of the log-normal delay from the last payment to the report. Default 1.0.
    pub report_delay_sigma: f64,
    /// Weights of the report channel: 110, 96110, walk-in, app, online. Default
    /// (0.4, 0.2, 0.25, 0.1, 0.05).
    pub report_channel_weights: [f64; 5],
    /// Of leads on victims, the share pushed by the national centre (the rest provincial).
    /// Default 0.6.
    pub national_lead_share: f64,
    /// Chance a bank pushes a lead on each of a ring's listed first-level cards. Default 0.3.
    pub bank_lead_share: f64,
    /// Chance a carrier pushes a lead on each caller SIM. Default 0.3.
    pub carrier_lead_share: f64,
    /// False leads (riders' receipts, gateways' texts) as a share of the true ones. Default
    /// 0.2; hard 0.5 (more look-alikes flagged).
    pub false_lead_share: f64,
    /// Chance police elsewhere stop and then freeze each listed first- or second-level mule
    /// card (their own victims paid into it). Default 0.35.
    pub outside_freeze_share: f64,
    /// Chance such a freeze has a third authority's queued freeze behind it. Default 0.3.
    pub queued_freeze_share: f64,
    /// Court freezes on ordinary debtors' accounts per 100,000 residents in the window (at
    /// least 2). Default 20: measures that are not fraud.
    pub court_freezes_per_100k: f64,
    /// Chance a court freeze is released within a day. Default 0.2.
    pub court_release_share: f64,
    /// Share of historic cases solved. Default 0.45.
    pub historic_solved_share: f64,
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
            student_purchase_factor: 0.85,
            elderly_purchase_factor: 0.45,
            elderly_call_factor: 0.7,
            student_call_factor: 0.8,
            elderly_atm_factor: 2.0,
            call_contact_share: 0.9,
            call_service_share: 0.5,
            call_incoming_share: 0.5,
            missed_call_share: 0.08,
            call_median_s: 55.0,
            call_sigma: 1.0,
            video_call_share: 0.03,
            mobile_data_share: 0.4,
            online_purchase_share: 0.6,
            wallet_purchase_share: 0.7,
            purchase_sigma: 1.1,
            household_transfer_share: 0.5,
            contact_transfer_share: 0.6,
            red_packet_share: 0.45,
            transfer_median_yuan: 500.0,
            transfer_sigma: 1.2,
            atm_amount_weights: [0.2, 0.3, 0.3, 0.15, 0.05],
            login_account_share: 0.8,
            vpn_abroad_share: 0.5,
            vpn_app_share: 0.3,
            anti_fraud_open_share: 0.05,
            salary_median_yuan: 7_500.0,
            outside_salary_median_yuan: 6_500.0,
            pension_median_yuan: 3_800.0,
            bill_median_yuan: 150.0,
            rider_share: if hard { 0.02 } else { 0.01 },
            group_buy_share: if hard { 0.008 } else { 0.004 },
            trader_share: if hard { 0.02 } else { 0.01 },
            vpn_share: if hard { 0.03 } else { 0.01 },
            sms_gateways_per_100k: if hard { 4.0 } else { 2.0 },
            rider_payments_per_day: 12.0,
            rider_purchases_per_day: 6.0,
            group_buy_collections_per_day: 15.0,
            group_buy_supplier_share: 0.92,
            group_buy_texts_per_day: 8.0,
            trader_payments_per_day: 10.0,
            trader_pass_through_share: 0.85,
            trader_cash_deposit_rate: 0.3,
            gateway_texts_per_resident_day: 0.3,
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
            leaked_population_share: 0.08,
            payment_count_decay: 0.55,
            payment_escalation: 1.8,
            den_call_share: 0.55,
            victim_wallet_share: 0.5,
            wallet_payment_max_yuan: 5_000,
            payment_memo_share: 0.6,
            victim_home_ip_share: 0.5,
            known_fraud_app_share: 0.2,
            rebate_bonus_percent: [5, 20],
            second_den_share: 0.4,
            local_l1_share: 0.7,
            supplier_class_i_share: 0.6,
            card_price_yuan: [300, 1_500],
            l1_split_weights: [0.3, 0.45, 0.25],
            hold_factors: [1.0, 0.5, 2.0, 3.0],
            hold_sigma: 0.7,
            courier_withdrawal_max_yuan: 20_000,
            exit_shares: [0.4, 0.3, 0.3],
            caller_calls_per_sim_day: 35.0,
            caller_unanswered_share: 0.4,
            foreign_calls_per_ring_day: 15.0,
            foreign_unanswered_share: 0.5,
            texts_per_ring_sim_day: 20.0,
            camouflage_calls_per_sim_day: if hard { 3.0 } else { 0.8 },
            camouflage_purchase_share: 0.5,
            report_delay_sigma: 1.0,
            report_channel_weights: [0.4, 0.2, 0.25, 0.1, 0.05],
            national_lead_share: 0.6,
            bank_lead_share: 0.3,
            carrier_lead_share: 0.3,
            false_lead_share: if hard { 0.5 } else { 0.2 },
            outside_freeze_share: 0.35,
            queued_freeze_share: 0.3,
            court_freezes_per_100k: 20.0,
            court_release_share: 0.2,
            historic_solved_share: 0.45,
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
