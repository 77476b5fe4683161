-- Fanzha schema v11: return rounds (冻结资金返还, issue 6). Additive only.

-- One round of returns from one account under one case: the allocation as noticed (the
-- 30-day objection notice publishes exactly these shares), then decided. A victim found later
-- starts the next round, over what the earlier rounds left.
CREATE TABLE trace_return_rounds (
    id {{serial_pk}},
    account_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    round BIGINT NOT NULL,
    funds_fen BIGINT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    objections_until BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_no TEXT,
    UNIQUE (account_id, round)
);

-- A return order belongs to the round whose decision made it.
ALTER TABLE trace_orders ADD COLUMN round_id BIGINT;

-- The screening (甄别) of a freeze's money: when it was recorded, and the finding (JSON:
-- related or unrelated to the case, with a note). A freeze without one past its deadline is
-- 久冻不决; money found unrelated is released within 3 days.
ALTER TABLE trace_orders ADD COLUMN disposed_at BIGINT;
ALTER TABLE trace_orders ADD COLUMN disposition TEXT;
