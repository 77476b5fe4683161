//! Rules as data: TOML files of CEL conditions over an entity's features ("rules"), and
//! weighted combinations of them ("patterns": mule, runner, sold card, scam-caller SIM,
//! SIM box) that score an entity 0–100 with a level, a measure and reasons. Rules feed
//! patterns, patterns feed decisions, as Tazama splits its rule and typology processors
//! (here "typology" stays the victim's scam type, so ours are patterns).
//!
//! A rule file:
//!
//! ```toml
//! version = "2026-11-29.1"
//!
//! [[rule]]
//! code = "ACC-PASS-24H"
//! entity = "account"
//! expr = "in_yuan_24h >= 5000.0 && pass_through_24h >= 0.9"
//! text_zh = "24小时内转入资金九成以上被转出"
//! text_en = "over 90% of the money received in 24 h was sent on"
//!
//! [[pattern]]
//! name = "mule"
//! entity = "account"
//! rules = [{ code = "ACC-PASS-24H", weight = 0.5 }]
//! levels = { red = 85, orange = 65, yellow = 45 }
//! measure = "limit_non_counter"
//! ```
//!
//! **Score.** A pattern scores `100 × (1 − Π(1 − wᵢ))` over its rules that hit (noisy-OR):
//! a weight reads as "the chance this hit alone means the pattern", the score never
//! passes 100, one decisive rule can reach red by itself, and further evidence raises the
//! score with diminishing returns, which suits rules that overlap (pass-through and short
//! dwell often fire together). A clamped sum would be easier to read but saturates at 100
//! (so two red-level accounts could not be ranked) and lets correlated weak rules add up
//! to certainty. Each hit's contribution is the score times its share of
//! `Σ −ln(1 − wᵢ)`: contributions are positive, sum to the score, and do not depend on
//! rule order.
//!
//! **Loading.** CEL is parsed by the `cel` crate and compiled ([`compile`](self)) into our
//! own flat code over the feature vector, with names resolved to indices: evaluation reads
//! no map and allocates nothing. Unknown features, a feature of another entity kind, type
//! errors and unsupported CEL are refused at load with file, line and column. A rule set
//! loads all or nothing; [`Reloader`] keeps the previous set when a new one is refused.

mod compile;
mod error;
mod model;
mod program;
mod reload;
mod set;
mod source;

pub use error::{ErrorKind, LoadError};
pub use model::{EntityKind, Level, Levels, Measure, PatternName, Weight};
pub use reload::Reloader;
pub use set::{EvalError, FileVersion, Pattern, PatternScore, Reason, Rule, RuleSet, Scores};
