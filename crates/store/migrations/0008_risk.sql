-- Fanzha schema v8: two-card risk warnings (issue 5), their delivery, the institutions'
-- answers, appeals, threshold decisions and model artefacts.
-- Closed vocabularies (levels, statuses, verdicts) are stored as their words and checked by
-- the store's enums when read back. Instants are BIGINT UTC microseconds.

-- One current warning per entity; `version` moves only when its evidence (score, level,
-- pattern, reasons) changes, and each version is delivered once.
CREATE TABLE risk_warnings (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    institution_code TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    level TEXT NOT NULL,
    pattern TEXT NOT NULL,
    reasons TEXT NOT NULL,
    measure TEXT NOT NULL,
    model_version TEXT,
    rules_version TEXT,
    version BIGINT NOT NULL,
    first_warned_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
){{without_rowid}};
-- The queue an institution sees, newest first.
CREATE INDEX risk_warnings_institution ON risk_warnings (institution_code, updated_at);
CREATE INDEX risk_warnings_updated ON risk_warnings (updated_at);

-- The rule codes behind each version, for per-rule precision in SQL.
CREATE TABLE warning_rule_hits (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    rule_code TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id, version, rule_code)
){{without_rowid}};

-- The durable delivery queue, written in the same transaction as the version it carries:
-- a warning version is never stored without its delivery, nor delivered without being
-- stored. A claim leases a row by moving `next_attempt_at` past the lease, so a worker that
-- dies leaves its rows to be claimed again once the lease runs out.
CREATE TABLE warning_outbox (
    id {{serial_pk}},
    institution_code TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    warning_version BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT,
    leased_until BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX warning_outbox_due ON warning_outbox (next_attempt_at, id) WHERE state = 'pending';

-- An institution's answer to one version of a warning; a second answer replaces the first.
CREATE TABLE warning_feedback (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    institution_code TEXT NOT NULL,
    pattern TEXT NOT NULL,
    verdict TEXT NOT NULL,
    note TEXT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id, version, institution_code)
){{without_rowid}};

-- Appeals (Art. 32). `prior_status` is the warning's status when the appeal was filed:
-- an upheld measure returns the warning to it, a lifted one sets the warning `lifted`.
CREATE TABLE risk_appeals (
    id {{serial_pk}},
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    prior_status TEXT NOT NULL,
    decided_by TEXT,
    decision_reason TEXT,
    decided_at BIGINT
);
CREATE INDEX risk_appeals_entity ON risk_appeals (entity_type, entity_id);

-- Every threshold change: who, why, and the evaluation at the new threshold.
CREATE TABLE risk_decisions_log (
    id {{serial_pk}},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    pattern TEXT NOT NULL,
    old_threshold BIGINT,
    new_threshold BIGINT NOT NULL,
    reason TEXT NOT NULL,
    evaluation TEXT NOT NULL
);

CREATE TABLE risk_models (
    version TEXT NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    artefact {{blob}} NOT NULL,
    card TEXT NOT NULL
);
