//! The order workflow's rules (M4, LEGAL.md): which orders may be made, who must approve
//! them, when others must be told, how an order moves from draft to answer, and how its
//! document is numbered. Pure: the store keeps the orders, this decides what may happen to
//! them, so the CLI, the API and the console all obey one set of rules.
//!
//! An order's life: `draft` → `pending` (submitted for approval) → `approved` (at the level
//! the order needs) → `sent` (to the bank) → the bank's answer: `executed`, `refused`
//! (details do not match) or `insufficient` (less money than ordered; what was there is
//! held). An executed stop or freeze later `lifted` or `expired`; anything not yet sent
//! may be `withdrawn`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::registry::{Periods, Refused};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// 紧急止付
    Stop,
    /// 冻结
    Freeze,
    /// 续冻
    Renew,
    /// 解冻 (in part or in full)
    Release,
    /// 返还
    Return,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Stop => "stop",
            OrderKind::Freeze => "freeze",
            OrderKind::Renew => "renew",
            OrderKind::Release => "release",
            OrderKind::Return => "return",
        }
    }

    /// The document the order is sent as.
    pub fn document_title(self) -> &'static str {
        match self {
            OrderKind::Stop => "紧急止付通知书",
            OrderKind::Freeze => "协助冻结财产通知书",
            OrderKind::Renew => "协助继续冻结财产通知书",
            OrderKind::Release => "协助解除冻结财产通知书",
            OrderKind::Return => "冻结资金协助返还通知书",
        }
    }

    /// The word in the document number: 止付〔2026〕12号.
    fn number_word(self) -> &'static str {
        match self {
            OrderKind::Stop => "止付",
            OrderKind::Freeze => "冻结",
            OrderKind::Renew => "续冻",
            OrderKind::Release => "解冻",
            OrderKind::Return => "返还",
        }
    }

    /// The document number of the `seq`-th order of its kind in `year` (from 1).
    pub fn document_no(self, year: i32, seq: u32) -> String {
        format!("{}〔{year}〕{seq}号", self.number_word())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Pending,
    Approved,
    Sent,
    Executed,
    Refused,
    Insufficient,
    Lifted,
    Expired,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Draft,
        Status::Pending,
        Status::Approved,
        Status::Sent,
        Status::Executed,
        Status::Refused,
        Status::Insufficient,
        Status::Lifted,
        Status::Expired,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Sent => "sent",
            Status::Executed => "executed",
            Status::Refused => "refused",
            Status::Insufficient => "insufficient",
            Status::Lifted => "lifted",
            Status::Expired => "expired",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl OrderKind {
    pub const ALL: [OrderKind; 5] = [
        OrderKind::Stop,
        OrderKind::Freeze,
        OrderKind::Renew,
        OrderKind::Release,
        OrderKind::Return,
    ];

    pub fn parse(s: &str) -> Option<OrderKind> {
        OrderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who signs: a county-level (district) bureau, or the prefecture-level city above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    County,
    Prefecture,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Prefecture => "prefecture",
        }
    }
}

/// The thresholds of approval and notification, with LEGAL.md's values as defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub periods: Periods,
    /// Freezing this many accounts in one go needs prefecture-level approval…
    pub bulk_batch_accounts: usize,
    /// …as does this many in one case.
    pub bulk_case_accounts: usize,
    /// More than this many accounts in one city must be notified to its police…
    pub notify_city_accounts: usize,
    /// …as must more than this much money in one case (fen).
    pub notify_case_fen: i64,
    /// Within this many days.
    pub notify_days: u32,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            periods: Periods::default(),
            bulk_batch_accounts: 200,
            bulk_case_accounts: 500,
            notify_city_accounts: 100,
            notify_case_fen: 200_000_000,
            notify_days: 7,
        }
    }
}

/// The environment variable naming a TOML file of [`Rules`] (any field left out keeps
/// LEGAL.md's value), for the CLI and the server alike.
pub const RULES_ENV: &str = "FANZHA_LINKAGE_RULES";

#[derive(Debug, Clone, Error)]
#[error("{path}: {message}")]
pub struct RulesError {
    pub path: String,
    /// What was wrong and where (toml names the line and column).
    pub message: String,
}

impl Rules {
    pub fn from_toml(text: &str) -> Result<Rules, toml::de::Error> {
        toml::from_str(text)
    }

    /// The rules in force: the file [`RULES_ENV`] names, read once, or LEGAL.md's values.
    /// Callers check it at start (`fanzha` does, before any command), so a file with an
    /// error stops the program with its line and column rather than being ignored.
    pub fn configured() -> Result<Rules, RulesError> {
        static ONCE: std::sync::OnceLock<Result<Rules, RulesError>> = std::sync::OnceLock::new();
        ONCE.get_or_init(|| {
            let Some(path) = std::env::var_os(RULES_ENV) else {
                return Ok(Rules::default());
            };
            let shown = std::path::Path::new(&path).display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| RulesError {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            Rules::from_toml(&text).map_err(|e| RulesError {
                path: shown,
                message: e.to_string(),
            })
        })
        .clone()
    }
}

/// What the approval level depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// The case is major (重大案件).
    pub major: bool,
    /// Accounts in this batch of orders.
    pub batch_accounts: usize,
    /// Accounts frozen in the case, this batch included.
    pub case_accounts: usize,
}

impl Rules {
    /// Who must approve an order: returns, and freezes in major cases or in bulk, go to the
    /// prefecture; everything else is signed at county level.
    pub fn level(&self, kind: OrderKind, scale: Scale) -> Level {
        let bulk = scale.batch_accounts >= self.bulk_batch_accounts
            || scale.case_accounts >= self.bulk_case_accounts;
        match kind {
            OrderKind::Return => Level::Prefecture,
            OrderKind::Freeze | OrderKind::Renew if scale.major || bulk => Level::Prefecture,
            _ => Level::County,
        }
    }

    /// Whether the case's freezes must be notified to local police: more than the threshold of
    /// accounts in one city, or of money in the case.
    pub fn must_notify(&self, most_accounts_in_one_city: usize, case_fen: i64) -> bool {
        most_accounts_in_one_city > self.notify_city_accounts || case_fen > self.notify_case_fen
    }
}

/// A filed case, as far as orders need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    pub filed_at: i64,
    pub major: bool,
}

/// Whether a new order of `kind` may be drafted on an account at `at`: a stop at most the
/// periods' number of times per account; a freeze or renewal only under a case filed by then.
pub fn may_draft(
    rules: &Rules,
    kind: OrderKind,
    stops_on_account: u32,
    case: Option<Filed>,
    at: i64,
) -> Result<(), Refused> {
    match kind {
        OrderKind::Stop => rules.periods.may_stop(stops_on_account),
        OrderKind::Freeze | OrderKind::Renew | OrderKind::Return => match case {
            Some(c) if c.filed_at <= at => Ok(()),
            _ => Err(Refused::NoCase),
        },
        OrderKind::Release => Ok(()),
    }
}

/// The bank's answer to a sent order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Executed {
        amount_fen: i64,
    },
    /// Account name, number, amount or time did not match.
    Refused {
        reason: String,
    },
    /// Less money than ordered was there; that much is held.
    Insufficient {
        amount_fen: i64,
    },
}

/// Something done to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve { level: Level },
    Send,
    Answer(Answer),
    Lift,
    Expire,
    Withdraw,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkflowError {
    #[error("the order is {}: it cannot be {action}", status.as_str())]
    Illegal {
        status: Status,
        action: &'static str,
    },
    #[error(
        "this needs {}-level approval; a {}-level approver cannot sign it",
        needed.as_str(),
        given.as_str()
    )]
    Level { needed: Level, given: Level },
}

/// The status an order moves to, or why it cannot. `needed` is the order's approval level.
pub fn next(status: Status, needed: Level, action: &Action) -> Result<Status, WorkflowError> {
    use Status::*;
    let illegal = |action| WorkflowError::Illegal { status, action };
    match (status, action) {
        (Draft, Action::Submit) => Ok(Pending),
        (Pending, Action::Approve { level }) if *level >= needed => Ok(Approved),
        (Pending, Action::Approve { level }) => Err(WorkflowError::Level {
            needed,
            given: *level,
        }),
        (Approved, Action::Send) => Ok(Sent),
        (Sent, Action::Answer(a)) => Ok(match a {
            Answer::Executed { .. } => Executed,
            Answer::Refused { .. } => Refused,
            Answer::Insufficient { .. } => Insufficient,
        }),
        (Executed | Insufficient, Action::Lift) => Ok(Lifted),
        (Executed | Insufficient, Action::Expire) => Ok(Expired),
        (Draft | Pending | Approved, Action::Withdraw) => Ok(Withdrawn),
        (_, a) => Err(illegal(match a {
            Action::Submit => "submitted",
            Action::Approve { .. } => "approved",
            Action::Send => "sent",
            Action::Answer(_) => "answered",
            Action::Lift => "lifted",
            Action::Expire => "expired",
            Action::Withdraw => "withdrawn",
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDINARY: Scale = Scale {
        major: false,
        batch_accounts: 3,
        case_accounts: 3,
    };

    #[test]
    fn returns_major_cases_and_bulk_freezes_go_to_the_prefecture() {
        let r = Rules::default();
        assert_eq!(r.level(OrderKind::Stop, ORDINARY), Level::County);
        assert_eq!(r.level(OrderKind::Freeze, ORDINARY), Level::County);
        assert_eq!(r.level(OrderKind::Return, ORDINARY), Level::Prefecture);
        let major = Scale {
            major: true,
            ..ORDINARY
        };
        assert_eq!(r.level(OrderKind::Freeze, major), Level::Prefecture);
        let batch = Scale {
            batch_accounts: 200,
            ..ORDINARY
        };
        assert_eq!(r.level(OrderKind::Freeze, batch), Level::Prefecture);
        let case = Scale {
            case_accounts: 500,
            ..ORDINARY
        };
        assert_eq!(r.level(OrderKind::Renew, case), Level::Prefecture);
        assert_eq!(
            r.level(
                OrderKind::Freeze,
                Scale {
                    case_accounts: 499,
                    ..ORDINARY
                }
            ),
            Level::County
        );
        assert!(r.must_notify(101, 0));
        assert!(r.must_notify(1, 200_000_001));
        assert!(!r.must_notify(100, 200_000_000));
    }

    #[test]
    fn the_rules_are_data_and_a_bad_file_names_its_line() {
        let r = Rules::from_toml("bulk_batch_accounts = 50\n[periods]\nstop_hours = 24\n").unwrap();
        assert_eq!(r.bulk_batch_accounts, 50);
        assert_eq!(r.periods.stop_hours, 24);
        assert_eq!(
            r.periods.freeze_months, 6,
            "what is left out keeps LEGAL.md's value"
        );
        let batch = Scale {
            batch_accounts: 50,
            ..ORDINARY
        };
        assert_eq!(r.level(OrderKind::Freeze, batch), Level::Prefecture);
        let e = Rules::from_toml("[periods]\nstop_hour = 24\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("stop_hour"), "{e}");
    }

    #[test]
    fn no_freeze_before_the_case_and_no_third_stop() {
        let r = Rules::default();
        let filed = Filed {
            filed_at: 100,
            major: false,
        };
        assert_eq!(
            may_draft(&r, OrderKind::Freeze, 0, None, 50),
            Err(Refused::NoCase)
        );
        assert_eq!(
            may_draft(&r, OrderKind::Freeze, 0, Some(filed), 50),
            Err(Refused::NoCase)
        );
        assert_eq!(
            may_draft(&r, OrderKind::Freeze, 0, Some(filed), 100),
            Ok(())
        );
        assert_eq!(may_draft(&r, OrderKind::Stop, 1, None, 0), Ok(()));
        assert_eq!(
            may_draft(&r, OrderKind::Stop, 2, None, 0),
            Err(Refused::StopsUsed { max: 2 })
        );
    }

    #[test]
    fn an_order_moves_from_draft_to_the_banks_answer_and_no_step_is_skipped() {
        use Status::*;
        let county = Level::County;
        let mut s = Draft;
        for a in [
            Action::Submit,
            Action::Approve { level: county },
            Action::Send,
        ] {
            s = next(s, county, &a).unwrap();
        }
        assert_eq!(s, Sent);
        let answered = next(
            s,
            county,
            &Action::Answer(Answer::Insufficient { amount_fen: 5 }),
        );
        assert_eq!(answered, Ok(Insufficient));
        assert_eq!(next(Insufficient, county, &Action::Lift), Ok(Lifted));
        assert_eq!(
            next(Draft, county, &Action::Send),
            Err(WorkflowError::Illegal {
                status: Draft,
                action: "sent"
            })
        );
        assert_eq!(
            next(
                Pending,
                Level::Prefecture,
                &Action::Approve { level: county }
            ),
            Err(WorkflowError::Level {
                needed: Level::Prefecture,
                given: county
            })
        );
        assert_eq!(
            next(Sent, county, &Action::Withdraw).map_err(|e| e.to_string()),
            Err("the order is sent: it cannot be withdrawn".to_owned())
        );
        assert_eq!(OrderKind::Freeze.document_no(2026, 12), "冻结〔2026〕12号");
        assert_eq!(OrderKind::Freeze.document_title(), "协助冻结财产通知书");
    }
}
