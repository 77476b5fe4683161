-- Fanzha schema v10: cases filed in Fanzha and the orders made under them (issue 6).
-- Additive only. `cases` stays the historic cases that arrive as data.

-- A case filed here (立案): its decision number and date. No freeze before it.
CREATE TABLE trace_cases (
    case_id TEXT NOT NULL,
    filing_no TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    major BIGINT NOT NULL,
    report_ids TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id)
){{without_rowid}};

-- Stop-payment, freeze, renewal, release and return orders, each one row whose status moves
-- by compare-and-set (the workflow's rules: fanzha-trace `orders`).
CREATE TABLE trace_orders (
    id {{serial_pk}},
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL,
    report_id TEXT,
    case_id TEXT,
    amount_fen BIGINT NOT NULL,
    basis TEXT NOT NULL,
    reason TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    document_no TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    approved_by TEXT,
    approved_at BIGINT,
    answered_at BIGINT,
    answer TEXT,
    held_fen BIGINT,
    effective_at BIGINT,
    expires_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX trace_orders_account ON trace_orders (account_id, created_at);
