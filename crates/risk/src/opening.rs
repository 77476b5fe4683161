//! Account-opening checks (开户入网审核; issue 5, section 6): before a bank opens a card or a
//! carrier activates a SIM, count what the identity already holds across institutions
//! against the legal caps, and look for flagged cards among them. Pure: the server reads
//! the holdings from the store and the flags from the store and the live state.
//!
//! The caps are [`Caps`] (LEGAL.md, Anti-Telecom and Online Fraud Law Arts. 10 and 16, as
//! reported): one Class I, five Class II and five Class III accounts per person per bank;
//! five SIMs per person per carrier. Closed accounts and deactivated SIMs do not count; an
//! account with no recorded class counts against the Class I cap (the strictest reading).
//!
//! The answer is the strictest effect among the reasons:
//! - **refuse**: every class at this bank is at its cap; the carrier's SIM cap is reached; a
//!   card the identity holds has a red warning;
//! - **review**: over a cap at another bank already; accounts at five or more banks; ten or
//!   more active SIMs across carriers; a held card with an orange or yellow warning;
//! - **allow** otherwise (a Class I account already held here is noted: only Class II or III
//!   may be opened).

use fanzha_store::Holding;
use serde::Serialize;

use crate::features::Caps;
use crate::rules::Level;

/// What is being opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpeningKind {
    BankCard,
    Sim,
}

/// The check's answer, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpeningOutcome {
    Allow,
    Review,
    Refuse,
}

impl OpeningOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OpeningOutcome::Allow => "allow",
            OpeningOutcome::Review => "review",
            OpeningOutcome::Refuse => "refuse",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A reason, with the answer it leads to on its own.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningReason {
    pub code: &'static str,
    pub text_zh: String,
    pub text_en: String,
    pub effect: OpeningOutcome,
}

/// What the identity holds, as counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HoldingCounts {
    /// Active personal accounts at the asking bank, by class (unknown class in `class1`).
    pub class1_here: u32,
    pub class2_here: u32,
    pub class3_here: u32,
    /// Active accounts anywhere, and the banks they are at.
    pub accounts_total: u32,
    pub banks: u32,
    /// Active SIMs at the asking carrier, anywhere, and the carriers.
    pub sims_here: u32,
    pub sims_total: u32,
    pub carriers: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpeningCheck {
    pub outcome: OpeningOutcome,
    pub reasons: Vec<OpeningReason>,
    pub counts: HoldingCounts,
}

/// Checks an application for `kind` at `institution` by an identity holding `holdings`,
/// whose held cards carry the warning levels `flags`.
pub fn account_opening(
    kind: OpeningKind,
    institution: &str,
    holdings: &[Holding],
    flags: &[Level],
    caps: &Caps,
) -> OpeningCheck {
    use std::collections::BTreeMap;
    let mut c = HoldingCounts::default();
    // Per bank: [class I (or unknown), II, III]; per carrier: SIMs.
    let mut banks: BTreeMap<&str, [u32; 3]> = BTreeMap::new();
    let mut carriers: BTreeMap<&str, u32> = BTreeMap::new();
    for h in holdings.iter().filter(|h| h.active) {
        match h.kind {
            "account" => {
                c.accounts_total += 1;
                let slot = match h.class.as_deref() {
                    Some("II") => Some(1),
                    Some("III") => Some(2),
                    Some("corporate" | "payment") => None,
                    _ => Some(0),
                };
                let counts = banks.entry(&h.institution_code).or_default();
                if let Some(i) = slot {
                    counts[i] += 1;
                }
            }
            _ => {
                c.sims_total += 1;
                *carriers.entry(&h.institution_code).or_default() += 1;
            }
        }
    }
    c.banks = banks.len() as u32;
    c.carriers = carriers.len() as u32;
    let here = banks.get(institution).copied().unwrap_or_default();
    [c.class1_here, c.class2_here, c.class3_here] = here;
    c.sims_here = carriers.get(institution).copied().unwrap_or(0);

    let mut reasons = Vec::new();
    let mut reason = |code, zh: String, en: String, effect| {
        reasons.push(OpeningReason {
            code,
            text_zh: zh,
            text_en: en,
            effect,
        })
    };
    let cap = [
        caps.class1_per_bank,
        caps.class2_per_bank,
        caps.class3_per_bank,
    ];
    match kind {
        OpeningKind::BankCard => {
            if here.iter().zip(cap).all(|(&n, cap)| n >= cap) {
                reason(
                    "OPEN-ACCT-CAP",
                    format!(
                        "在本行已达I、II、III类账户上限（{}/{}/{}个）",
                        cap[0], cap[1], cap[2]
                    ),
                    format!(
                        "at the cap of Class I, II and III accounts at this bank ({}/{}/{})",
                        cap[0], cap[1], cap[2]
                    ),
                    OpeningOutcome::Refuse,
                );
            } else if here[0] >= cap[0] {
                reason(
                    "OPEN-ACCT-CLASS1-HELD",
                    "在本行已有I类账户，只能开立II、III类账户".to_owned(),
                    "already holds a Class I account here: only Class II or III may be opened"
                        .to_owned(),
                    OpeningOutcome::Allow,
                );
            }
            let over_elsewhere = banks
                .iter()
                .filter(|(b, _)| **b != institution)
                .any(|(_, n)| n.iter().zip(cap).any(|(&n, cap)| n > cap));
            if over_elsewhere {
                reason(
                    "OPEN-ACCT-OVER-CAP-ELSEWHERE",
                    "在其他银行持有的账户已超出上限".to_owned(),
                    "already over an account cap at another bank".to_owned(),
                    OpeningOutcome::Review,
                );
            }
            if c.banks >= 5 {
                reason(
                    "OPEN-ACCT-MANY-BANKS",
                    format!("已在{}家银行持有账户", c.banks),
                    format!("holds accounts at {} banks", c.banks),
                    OpeningOutcome::Review,
                );
            }
        }
        OpeningKind::Sim => {
            if c.sims_here >= caps.sims_per_carrier {
                reason(
                    "OPEN-SIM-CAP",
                    format!(
                        "在本运营商已持有{}张电话卡（上限{}张）",
                        c.sims_here, caps.sims_per_carrier
                    ),
                    format!(
                        "already holds {} SIMs at this carrier (cap {})",
                        c.sims_here, caps.sims_per_carrier
                    ),
                    OpeningOutcome::Refuse,
                );
            }
            if c.sims_total >= 2 * caps.sims_per_carrier {
                reason(
                    "OPEN-SIM-MANY",
                    format!("在各运营商共持有{}张电话卡", c.sims_total),
                    format!("holds {} SIMs across carriers", c.sims_total),
                    OpeningOutcome::Review,
                );
            }
        }
    }
    if let Some(&worst) = flags.iter().max() {
        let n = flags.len();
        match worst {
            Level::Red => reason(
                "OPEN-LINK-RED",
                format!("名下{n}张卡有风险预警，其中有红色预警"),
                format!("{n} card(s) held carry a risk warning, one of them red"),
                OpeningOutcome::Refuse,
            ),
            _ => reason(
                "OPEN-LINK-FLAGGED",
                format!("名下{n}张卡有风险预警（{}）", worst.label_zh()),
                format!("{n} card(s) held carry a {} risk warning", worst.as_str()),
                OpeningOutcome::Review,
            ),
        }
    }
    let outcome = reasons
        .iter()
        .map(|r| r.effect)
        .max()
        .unwrap_or(OpeningOutcome::Allow);
    OpeningCheck {
        outcome,
        reasons,
        counts: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(bank: &str, class: &str, active: bool) -> Holding {
        Holding {
            kind: "account",
            id: "x".into(),
            institution_code: bank.into(),
            class: Some(class.into()),
            active,
            since: 0,
        }
    }

    fn sim(carrier: &str) -> Holding {
        Holding {
            kind: "sim",
            id: "x".into(),
            institution_code: carrier.into(),
            class: None,
            active: true,
            since: 0,
        }
    }

    #[test]
    fn a_new_customer_is_allowed() {
        let c = account_opening(OpeningKind::BankCard, "ICBC", &[], &[], &Caps::default());
        assert_eq!(c.outcome, OpeningOutcome::Allow);
        assert!(c.reasons.is_empty());
    }

    #[test]
    fn every_class_at_cap_refuses_and_closed_accounts_do_not_count() {
        let mut h = vec![account("ICBC", "I", true)];
        h.extend((0..5).map(|_| account("ICBC", "II", true)));
        h.extend((0..4).map(|_| account("ICBC", "III", true)));
        h.push(account("ICBC", "III", false));
        let caps = Caps::default();
        let c = account_opening(OpeningKind::BankCard, "ICBC", &h, &[], &caps);
        assert_eq!(c.outcome, OpeningOutcome::Allow, "{c:?}");
        assert_eq!(c.reasons[0].code, "OPEN-ACCT-CLASS1-HELD");
        h.push(account("ICBC", "III", true));
        let c = account_opening(OpeningKind::BankCard, "ICBC", &h, &[], &caps);
        assert_eq!(c.outcome, OpeningOutcome::Refuse);
        // Another bank is not at its cap.
        let c = account_opening(OpeningKind::BankCard, "ABC", &h, &[], &caps);
        assert_eq!(c.outcome, OpeningOutcome::Allow);
    }

    #[test]
    fn sims_over_the_carrier_cap_refuse_and_flags_escalate() {
        let h: Vec<Holding> = (0..5).map(|_| sim("CMCC")).collect();
        let caps = Caps::default();
        let c = account_opening(OpeningKind::Sim, "CMCC", &h, &[], &caps);
        assert_eq!(c.outcome, OpeningOutcome::Refuse);
        assert_eq!(c.counts.sims_here, 5);
        let c = account_opening(OpeningKind::Sim, "CUCC", &h, &[Level::Yellow], &caps);
        assert_eq!(c.outcome, OpeningOutcome::Review);
        let c = account_opening(
            OpeningKind::Sim,
            "CUCC",
            &h,
            &[Level::Yellow, Level::Red],
            &caps,
        );
        assert_eq!(c.outcome, OpeningOutcome::Refuse);
    }
}
