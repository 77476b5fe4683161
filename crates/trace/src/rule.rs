//! The tracing rules an analyst chooses between (DESIGN.md, "Tracing rules"). The choice is
//! recorded on every result, because the same ledger gives different answers under each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Money leaves in the order it arrived (Clayton's rule).
    Fifo,
    /// The most recent money leaves first.
    Lifo,
    /// Each outflow carries every owner's money in proportion to their shares (haircut).
    ProRata,
    /// The holder's own money leaves first, then victims' in arrival order; later deposits
    /// do not refill a victim's claim (lowest intermediate balance, Re Hallett).
    Libr,
    /// Every account the money reached after it arrived is wholly suspect: a reach rule, an
    /// upper bound for finding accounts to stop, never used to allocate money.
    Poison,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::Fifo,
        Rule::Lifo,
        Rule::ProRata,
        Rule::Libr,
        Rule::Poison,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Fifo => "fifo",
            Rule::Lifo => "lifo",
            Rule::ProRata => "pro-rata",
            Rule::Libr => "libr",
            Rule::Poison => "poison",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown tracing rule {0:?}: expected fifo, lifo, pro-rata, libr or poison")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Rule, UnknownRule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_say_what_is_accepted() {
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>(), Ok(r));
        }
        let e = "haircut".parse::<Rule>().unwrap_err();
        assert!(e.to_string().contains("pro-rata"), "{e}");
    }
}
