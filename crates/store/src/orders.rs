//! Cases filed in Fanzha and the orders made under them (issue 6): the rows as the store
//! keeps them. What may happen to an order is decided by `fanzha-trace`'s workflow rules;
//! the store only refuses a change made against a status that has moved on.

/// A case to file (立案).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub case_id: String,
    /// The filing decision's number (立案决定书).
    pub filing_no: String,
    pub filed_at: i64,
    pub major: bool,
    pub report_ids: Vec<String>,
    pub filed_by: String,
    pub created_at: i64,
}

/// A filed case.
pub type Case = NewCase;

/// An order to store as a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// stop, freeze, renew, release or return.
    pub kind: String,
    pub account_id: String,
    pub report_id: Option<String>,
    pub case_id: Option<String>,
    pub amount_fen: i64,
    /// traced_holding or whole_account.
    pub basis: String,
    /// Why, where the basis needs one (a whole account).
    pub reason: Option<String>,
    /// county or prefecture: who must approve.
    pub level: String,
    pub created_by: String,
    pub created_at: i64,
    /// The return round whose decision made it (return orders only).
    pub round_id: Option<i64>,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub new: NewOrder,
    pub status: String,
    pub document_no: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub answered_at: Option<i64>,
    /// The bank's answer as given (executed, refused with its reason, insufficient).
    pub answer: Option<String>,
    /// What the bank holds under the order.
    pub held_fen: Option<i64>,
    pub effective_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub updated_at: i64,
    /// When the frozen money was screened (甄别), and the finding as JSON.
    pub disposed_at: Option<i64>,
    pub disposition: Option<String>,
}

/// Which orders to read; every field left `None` matches all. Oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub id: Option<i64>,
    pub account: Option<String>,
    pub case: Option<String>,
    pub report: Option<String>,
    /// One status (`draft`, `pending`, …).
    pub status: Option<String>,
}

impl OrderFilter {
    pub fn id(id: i64) -> OrderFilter {
        OrderFilter {
            id: Some(id),
            ..OrderFilter::default()
        }
    }

    pub fn account(account: &str) -> OrderFilter {
        OrderFilter {
            account: Some(account.to_owned()),
            ..OrderFilter::default()
        }
    }

    pub fn case(case: &str) -> OrderFilter {
        OrderFilter {
            case: Some(case.to_owned()),
            ..OrderFilter::default()
        }
    }
}

/// A move of an order from one status to the next, with what the move records. Fields left
/// `None` keep their stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderChange {
    pub status: String,
    pub document_no: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    pub held_fen: Option<i64>,
    pub effective_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub disposed_at: Option<i64>,
    pub disposition: Option<String>,
    pub at: i64,
}

/// A round of returns to open: the allocation noticed for objections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRound {
    pub account_id: String,
    pub case_id: String,
    /// 1 for the first round on the account, then 2, …
    pub round: i64,
    pub funds_fen: i64,
    /// The allocation as JSON, exactly as noticed.
    pub plan: String,
    /// `noticed`; `decided` and `withdrawn` come later.
    pub status: String,
    pub opened_by: String,
    pub opened_at: i64,
    /// The end of the 30-day objection period (the opening itself when every share is
    /// returned directly: an intact deposit or a time-matched victim needs no notice).
    pub objections_until: i64,
}

/// A stored round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub id: i64,
    pub new: NewRound,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_no: Option<String>,
}
