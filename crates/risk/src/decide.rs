//! Real-time decisions (issue 5, section 6): a payment, call or SMS about to happen, judged
//! from the live state of the parties ([`crate::live`]) and the signals in the request
//! itself. Pure: no clock, no store, no HTTP — the server parses, authenticates and
//! answers.
//!
//! **Score.** Each component is a probability-like weight: a party's published risk
//! (score ÷ 100) and each request signal's weight. They combine by noisy-OR, as patterns
//! combine rule hits ([`crate::rules`]): `100 × (1 − Π(1 − pᵢ))`. A component's
//! contribution is the score times its share of `Σ −ln(1 − pᵢ)`; a party's share is split
//! over its own reasons in proportion to theirs.
//!
//! **Decision.** The stricter of two readings:
//! - the parties' pattern levels: a party at red → `block`, orange → `hold`, yellow →
//!   `warn` (the levels each pattern's rule file sets);
//! - the combined score against the default pattern levels ([`BLOCK_AT`] 85, [`HOLD_AT`]
//!   65, [`WARN_AT`] 45), so request signals alone can warn or hold, never block: blocking
//!   needs evidence about a party.
//!
//! Which parties count: for a payment both accounts (money to a mule, or a mule paying
//! on); for a call the caller, for an SMS the sender. The callee's or recipient's state is
//! reported but does not score (being called by a scammer is not the callee's risk).
//!
//! Request signals (weights below; each alone is at most a warning):
//! - a payee the live state has never seen, once the state is ready (`PAY-PAYEE-UNSEEN`);
//! - a large amount (≥ 50,000 yuan), a round large one (≥ 10,000 yuan in whole thousands),
//!   one just under a monitoring threshold (the feature engine's), at night in Beijing
//!   (00:00–06:00) for 5,000 yuan or more, to a crypto exchange;
//! - an international or virtual-operator caller or sender (`fanzha_core`'s number
//!   classes), a caller never seen;
//! - an SMS whose text carries a lure phrase or a link.

use std::sync::Arc;

use fanzha_core::NumberClass;
use serde::{Serialize, Serializer};

use crate::features::FeatureConfig;
use crate::live::{EntityRisk, LiveReason};
use crate::rules::Level;

/// Combined score at which a decision blocks, holds or warns (the default pattern levels).
pub const BLOCK_AT: f64 = 85.0;
pub const HOLD_AT: f64 = 65.0;
pub const WARN_AT: f64 = 45.0;

const DAY_US: i64 = 86_400_000_000;
const HOUR_US: i64 = 3_600_000_000;
const YUAN: i64 = 100;

/// What to do with the payment, call or SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Warn,
    Hold,
    Block,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Hold => "hold",
            Outcome::Block => "block",
        }
    }

    /// Index for counters: allow, warn, hold, block.
    pub fn index(self) -> usize {
        self as usize
    }

    pub const ALL: [Outcome; 4] = [Outcome::Allow, Outcome::Warn, Outcome::Hold, Outcome::Block];

    fn of_level(level: Level) -> Outcome {
        match level {
            Level::Yellow => Outcome::Warn,
            Level::Orange => Outcome::Hold,
            Level::Red => Outcome::Block,
        }
    }

    fn of_score(score: f64) -> Outcome {
        if score >= BLOCK_AT {
            Outcome::Block
        } else if score >= HOLD_AT {
            Outcome::Hold
        } else if score >= WARN_AT {
            Outcome::Warn
        } else {
            Outcome::Allow
        }
    }
}

/// Text that is either fixed in the binary or shared with the rule set.
#[derive(Debug, Clone)]
pub enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A reason behind a decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionReason {
    pub code: Text,
    pub text_zh: Text,
    pub text_en: Text,
    /// Points of the decision's score.
    pub contribution: f64,
}

/// A signal in the request itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    pub code: &'static str,
    pub text_zh: &'static str,
    pub text_en: &'static str,
    /// 0–1, read as for rule weights.
    pub weight: f64,
}

macro_rules! signal {
    ($name:ident, $code:literal, $w:literal, $zh:literal, $en:literal) => {
        pub const $name: Signal = Signal {
            code: $code,
            text_zh: $zh,
            text_en: $en,
            weight: $w,
        };
    };
}

signal!(
    PAYEE_UNSEEN,
    "PAY-PAYEE-UNSEEN",
    0.2,
    "收款账户此前从未出现",
    "the payee account has never been seen before"
);
signal!(
    LARGE,
    "PAY-LARGE",
    0.2,
    "单笔金额5万元以上",
    "a single payment of 50,000 yuan or more"
);
signal!(
    ROUND_LARGE,
    "PAY-ROUND-LARGE",
    0.25,
    "1万元以上整千金额",
    "a round amount of 10,000 yuan or more in whole thousands"
);
signal!(
    JUST_UNDER,
    "PAY-JUST-UNDER",
    0.2,
    "金额略低于监测阈值",
    "an amount just under a monitoring threshold"
);
signal!(
    NIGHT,
    "PAY-NIGHT",
    0.2,
    "凌晨（0–6点）5000元以上转账",
    "5,000 yuan or more between midnight and 6 a.m."
);
signal!(
    CRYPTO,
    "PAY-CRYPTO",
    0.2,
    "转往数字货币交易渠道",
    "paid to a crypto exchange"
);
signal!(
    CALLER_INTL,
    "CALL-INTL-CALLER",
    0.5,
    "境外号码来电",
    "an international caller number"
);
signal!(
    CALLER_VIRTUAL,
    "CALL-VIRTUAL-CALLER",
    0.3,
    "虚拟运营商号码来电",
    "a virtual-operator caller number"
);
signal!(
    CALLER_UNSEEN,
    "CALL-CALLER-UNSEEN",
    0.1,
    "主叫号码此前从未出现",
    "the caller number has never been seen before"
);
signal!(
    SENDER_INTL,
    "SMS-INTL-SENDER",
    0.35,
    "境外号码发送短信",
    "an SMS from an international number"
);
signal!(
    SENDER_VIRTUAL,
    "SMS-VIRTUAL-SENDER",
    0.25,
    "虚拟运营商号码发送短信",
    "an SMS from a virtual-operator number"
);
signal!(
    LURE,
    "SMS-LURE-WORDS",
    0.35,
    "短信含常见诈骗话术",
    "the text carries a common scam phrase"
);
signal!(
    LINK,
    "SMS-LINK",
    0.2,
    "短信含链接",
    "the text carries a link"
);

/// Phrases scam messages lean on (安全账户, 验证码…): a weak signal, one of several.
const LURES: &[&str] = &[
    "安全账户",
    "验证码",
    "刷单",
    "解冻",
    "退款",
    "贷款",
    "中奖",
    "公检法",
    "通缉",
    "保证金",
    "征信",
];

/// A party of the request and what the live state holds on it.
#[derive(Debug, Clone)]
pub struct Party {
    /// `payer`, `payee`, `caller`, `callee`, `sender`, `recipient`.
    pub role: &'static str,
    pub risk: Option<Arc<EntityRisk>>,
    /// Whether its risk counts towards the decision (see the module docs).
    pub counts: bool,
}

/// A decision, before the server masks and answers it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Outcome,
    /// 0–100.
    pub score: u8,
    /// Largest contribution first.
    pub reasons: Vec<DecisionReason>,
}

/// Whether `ts` (UTC microseconds) falls between 00:00 and 06:00 in Beijing (UTC+8, no
/// daylight saving time).
pub fn is_night(ts: i64) -> bool {
    (ts + 8 * HOUR_US).rem_euclid(DAY_US) < 6 * HOUR_US
}

/// The request signals of a payment. `payee_known` is `None` while the live state warms
/// up (a payee missing then may just not have been replayed yet).
pub fn payment_signals(
    cfg: &FeatureConfig,
    amount_fen: i64,
    ts: i64,
    channel: Option<&str>,
    payee_known: Option<bool>,
    out: &mut Vec<Signal>,
) {
    if payee_known == Some(false) {
        out.push(PAYEE_UNSEEN);
    }
    if amount_fen >= 50_000 * YUAN {
        out.push(LARGE);
    }
    if amount_fen >= 10_000 * YUAN && amount_fen % (1_000 * YUAN) == 0 {
        out.push(ROUND_LARGE);
    }
    let under = cfg.thresholds_fen.iter().any(|&t| {
        let floor = t - t.saturating_mul(cfg.under_margin_bp) / 10_000;
        amount_fen >= floor && amount_fen < t
    });
    if under {
        out.push(JUST_UNDER);
    }
    if is_night(ts) && amount_fen >= 5_000 * YUAN {
        out.push(NIGHT);
    }
    if channel == Some("crypto_exchange") {
        out.push(CRYPTO);
    }
}

/// The request signals of a call.
pub fn call_signals(caller: NumberClass, caller_known: Option<bool>, out: &mut Vec<Signal>) {
    match caller {
        NumberClass::International => out.push(CALLER_INTL),
        NumberClass::Virtual => out.push(CALLER_VIRTUAL),
        _ => {}
    }
    if caller_known == Some(false) {
        out.push(CALLER_UNSEEN);
    }
}

/// The request signals of an SMS.
pub fn sms_signals(sender: NumberClass, text: Option<&str>, out: &mut Vec<Signal>) {
    match sender {
        NumberClass::International => out.push(SENDER_INTL),
        NumberClass::Virtual => out.push(SENDER_VIRTUAL),
        _ => {}
    }
    if let Some(text) = text {
        if LURES.iter().any(|l| text.contains(l)) {
            out.push(LURE);
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
            out.push(LINK);
        }
    }
}

/// The weight a probability-like value stands for in the noisy-OR, kept finite.
fn log_weight(p: f64) -> f64 {
    -(1.0 - p.clamp(0.0, 0.999)).ln()
}

/// Combines the parties' risks and the request signals into a decision.
pub fn decide(parties: &[Party], signals: &[Signal]) -> Decision {
    let counted = || {
        parties
            .iter()
            .filter(|p| p.counts)
            .filter_map(|p| p.risk.as_deref())
            .filter(|r| r.score > 0.0)
    };
    let mut absent = 1.0;
    let mut logs = 0.0;
    for r in counted() {
        let p = (r.score / 100.0).clamp(0.0, 0.999);
        absent *= 1.0 - p;
        logs += log_weight(p);
    }
    for s in signals {
        absent *= 1.0 - s.weight;
        logs += log_weight(s.weight);
    }
    let score = 100.0 * (1.0 - absent);
    let by_level = counted()
        .filter_map(|r| r.level)
        .max()
        .map_or(Outcome::Allow, Outcome::of_level);
    let outcome = by_level.max(Outcome::of_score(score));
    let mut reasons = Vec::new();
    if logs > 0.0 {
        for r in counted() {
            let share = score * log_weight(r.score / 100.0) / logs;
            let total: f64 = r.reasons.iter().map(|x| x.contribution).sum();
            for x in &r.reasons {
                reasons.push(party_reason(x, share * x.contribution / total.max(1e-9)));
            }
        }
        for s in signals {
            reasons.push(DecisionReason {
                code: Text::Static(s.code),
                text_zh: Text::Static(s.text_zh),
                text_en: Text::Static(s.text_en),
                contribution: round1(score * log_weight(s.weight) / logs),
            });
        }
    }
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    Decision {
        outcome,
        score: score.round().clamp(0.0, 100.0) as u8,
        reasons,
    }
}

fn party_reason(r: &LiveReason, contribution: f64) -> DecisionReason {
    DecisionReason {
        code: Text::Shared(Arc::clone(&r.code)),
        text_zh: Text::Shared(Arc::clone(&r.text_zh)),
        text_en: Text::Shared(Arc::clone(&r.text_en)),
        contribution: round1(contribution),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::RiskSource;

    fn risk(score: f64, level: Option<Level>) -> Arc<EntityRisk> {
        Arc::new(EntityRisk {
            score,
            level,
            pattern: None,
            reasons: vec![LiveReason {
                code: "ACC-X".into(),
                text_zh: "x".into(),
                text_en: "x".into(),
                contribution: score,
            }],
            at: 0,
            source: RiskSource::Live,
        })
    }

    fn party(role: &'static str, r: Option<Arc<EntityRisk>>) -> Party {
        Party {
            role,
            risk: r,
            counts: true,
        }
    }

    #[test]
    fn levels_decide_red_blocks_orange_holds_yellow_warns() {
        for (level, score, want) in [
            (Level::Red, 90.0, Outcome::Block),
            (Level::Orange, 66.0, Outcome::Hold),
            (Level::Yellow, 46.0, Outcome::Warn),
        ] {
            let d = decide(&[party("payee", Some(risk(score, Some(level))))], &[]);
            assert_eq!(d.outcome, want, "{level:?}");
            assert_eq!(d.reasons[0].code.as_str(), "ACC-X");
        }
        let d = decide(&[party("payee", Some(risk(0.0, None)))], &[]);
        assert_eq!((d.outcome, d.score), (Outcome::Allow, 0));
        assert!(d.reasons.is_empty());
    }

    #[test]
    fn signals_alone_warn_or_hold_but_never_block() {
        let cfg = FeatureConfig::default();
        // 03:00 in Beijing is 19:00 UTC the day before.
        let night = 19 * HOUR_US;
        let mut s = Vec::new();
        payment_signals(&cfg, 20_000 * YUAN, night, None, Some(false), &mut s);
        let d = decide(&[party("payee", None)], &s);
        assert_eq!(d.outcome, Outcome::Warn, "{d:?}");
        let sum: f64 = d.reasons.iter().map(|r| r.contribution).sum();
        assert!((sum - f64::from(d.score)).abs() < 1.0);
        s.clear();
        payment_signals(&cfg, 120 * YUAN, 4 * HOUR_US, None, Some(true), &mut s);
        assert!(s.is_empty());
        let every = [PAYEE_UNSEEN, LARGE, ROUND_LARGE, JUST_UNDER, NIGHT, CRYPTO];
        assert!(decide(&[], &every).outcome < Outcome::Block);
    }

    #[test]
    fn a_warming_state_does_not_call_parties_unseen() {
        let mut s = Vec::new();
        payment_signals(&FeatureConfig::default(), 100, 0, None, None, &mut s);
        call_signals(NumberClass::Mobile, None, &mut s);
        assert!(s.is_empty());
    }

    #[test]
    fn foreign_callers_and_lure_texts_are_signals() {
        let mut s = Vec::new();
        call_signals(NumberClass::International, Some(true), &mut s);
        assert_eq!(decide(&[], &s).outcome, Outcome::Warn);
        s.clear();
        sms_signals(
            NumberClass::Mobile,
            Some("您的账户涉嫌洗钱，请转入安全账户 http://x.cn"),
            &mut s,
        );
        assert_eq!(s, vec![LURE, LINK]);
        assert_eq!(decide(&[], &s).outcome, Outcome::Warn);
    }

    #[test]
    fn a_callee_at_red_does_not_block_the_call() {
        let callee = Party {
            role: "callee",
            risk: Some(risk(95.0, Some(Level::Red))),
            counts: false,
        };
        assert_eq!(decide(&[callee], &[]).outcome, Outcome::Allow);
    }

    #[test]
    fn night_is_beijing_time() {
        // 2026-03-01T00:30+08:00 = 2026-02-28T16:30Z.
        let t = fanzha_core::Instant::parse_rfc3339("2026-03-01T00:30:00+08:00")
            .unwrap()
            .micros();
        assert!(is_night(t));
        assert!(!is_night(t + 6 * HOUR_US));
    }
}
