//! The vocabulary of rule files: entity kinds, pattern names, levels and measures, and the
//! weights and thresholds that are valid by construction.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::features::{Entity, ACCOUNT_FEATURES, NUMBER_FEATURES, PERSON_FEATURES};

/// The kind of entity a rule or pattern reads: which feature schema its names refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Account,
    Number,
    Person,
}

impl EntityKind {
    pub const ALL: [EntityKind; 3] = [EntityKind::Account, EntityKind::Number, EntityKind::Person];

    pub fn schema(self) -> &'static [&'static str] {
        match self {
            EntityKind::Account => ACCOUNT_FEATURES,
            EntityKind::Number => NUMBER_FEATURES,
            EntityKind::Person => PERSON_FEATURES,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Account => "account",
            EntityKind::Number => "number",
            EntityKind::Person => "person",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl From<Entity> for EntityKind {
    fn from(e: Entity) -> Self {
        match e {
            Entity::Account(_) => EntityKind::Account,
            Entity::Number(_) => EntityKind::Number,
            Entity::Person(_) => EntityKind::Person,
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The behaviour a pattern recognises. (Not a *typology*: that word is kept for the
/// victim's scam type.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternName {
    /// An account that passes victims' money on (过账卡).
    Mule,
    /// An account or payment code used to receive and forward money for a commission (跑分).
    Runner,
    /// A bank card or phone card sold or rented out by its holder (出租出借出售的卡).
    SoldCard,
    /// A SIM used to call or message victims (涉诈呼叫卡).
    ScamCallerSim,
    /// SIMs cycled through one device to place calls in bulk (猫池).
    SimBox,
}

impl PatternName {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternName::Mule => "mule",
            PatternName::Runner => "runner",
            PatternName::SoldCard => "sold_card",
            PatternName::ScamCallerSim => "scam_caller_sim",
            PatternName::SimBox => "sim_box",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PatternName::Mule => "过账卡",
            PatternName::Runner => "跑分",
            PatternName::SoldCard => "出租出售卡",
            PatternName::ScamCallerSim => "涉诈呼叫卡",
            PatternName::SimBox => "猫池",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PatternName::Mule => "money mule (pass-through account)",
            PatternName::Runner => "payment runner",
            PatternName::SoldCard => "sold or rented card",
            PatternName::ScamCallerSim => "scam-caller SIM",
            PatternName::SimBox => "SIM box",
        }
    }

    /// Whether the pattern can describe an entity of this kind: a SIM box is made of
    /// numbers, a mule is an account; a card can be sold whichever card it is.
    pub fn applies_to(self, kind: EntityKind) -> bool {
        match self {
            PatternName::Mule | PatternName::Runner => kind == EntityKind::Account,
            PatternName::ScamCallerSim | PatternName::SimBox => kind == EntityKind::Number,
            PatternName::SoldCard => true,
        }
    }
}

impl fmt::Display for PatternName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Warning levels, ordered: yellow < orange < red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Yellow,
    Orange,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Yellow => "yellow",
            Level::Orange => "orange",
            Level::Red => "red",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Yellow => "黄色预警",
            Level::Orange => "橙色预警",
            Level::Red => "红色预警",
        }
    }
}

/// The measures the Anti-Telecom and Online Fraud Law lets a bank or carrier take on an
/// abnormal card (Arts. 11 and 18; LEGAL.md), mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 重新核验身份.
    ReverifyIdentity,
    /// 限制非柜面业务.
    LimitNonCounter,
    /// 延迟结算 (bank accounts).
    DelaySettlement,
    /// 暂停服务.
    Suspend,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::ReverifyIdentity => "reverify_identity",
            Measure::LimitNonCounter => "limit_non_counter",
            Measure::DelaySettlement => "delay_settlement",
            Measure::Suspend => "suspend",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::ReverifyIdentity => "重新核验身份",
            Measure::LimitNonCounter => "限制非柜面业务",
            Measure::DelaySettlement => "延迟结算",
            Measure::Suspend => "暂停服务",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Measure::ReverifyIdentity => "re-verify identity",
            Measure::LimitNonCounter => "limit non-counter services",
            Measure::DelaySettlement => "delay settlement",
            Measure::Suspend => "suspend service",
        }
    }
}

/// A rule's weight in a pattern: the chance, on its own, that a hit means the pattern.
/// Strictly between 0 and 1, so the noisy-OR score stays below 100 and every hit counts.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Weight(f64);

impl Weight {
    pub fn new(w: f64) -> Option<Self> {
        (w > 0.0 && w < 1.0).then_some(Self(w))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// Score thresholds of the three levels: 0 < yellow ≤ orange ≤ red ≤ 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    red: f64,
    orange: f64,
    yellow: f64,
}

impl Levels {
    pub fn new(red: f64, orange: f64, yellow: f64) -> Option<Self> {
        (yellow > 0.0 && yellow <= orange && orange <= red && red <= 100.0).then_some(Self {
            red,
            orange,
            yellow,
        })
    }

    pub fn red(&self) -> f64 {
        self.red
    }

    pub fn orange(&self) -> f64 {
        self.orange
    }

    pub fn yellow(&self) -> f64 {
        self.yellow
    }

    /// The level a score reaches, if any.
    pub fn level(&self, score: f64) -> Option<Level> {
        if score >= self.red {
            Some(Level::Red)
        } else if score >= self.orange {
            Some(Level::Orange)
        } else if score >= self.yellow {
            Some(Level::Yellow)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_levels_are_valid_by_construction() {
        assert!(Weight::new(0.0).is_none());
        assert!(Weight::new(1.0).is_none());
        assert!(Weight::new(f64::NAN).is_none());
        assert_eq!(Weight::new(0.5).map(Weight::get), Some(0.5));
        assert!(Levels::new(50.0, 60.0, 40.0).is_none());
        assert!(Levels::new(101.0, 60.0, 40.0).is_none());
        assert!(Levels::new(80.0, 60.0, 0.0).is_none());
        let l = Levels::new(80.0, 60.0, 40.0).unwrap();
        assert_eq!(l.level(39.9), None);
        assert_eq!(l.level(40.0), Some(Level::Yellow));
        assert_eq!(l.level(79.0), Some(Level::Orange));
        assert_eq!(l.level(100.0), Some(Level::Red));
    }

    #[test]
    fn patterns_apply_to_their_entities() {
        assert!(PatternName::Mule.applies_to(EntityKind::Account));
        assert!(!PatternName::SimBox.applies_to(EntityKind::Account));
        assert!(PatternName::SoldCard.applies_to(EntityKind::Number));
    }
}
