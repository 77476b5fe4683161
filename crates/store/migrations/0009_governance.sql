-- Fanzha schema v9: governance of two-card risk (issue 5, sections 4 and 5). Additive only.

-- Every version of every warning as it was stored or delivered: the warning page's timeline
-- and the score distributions per model version. Written in the same transaction as the
-- version in `risk_warnings` and its delivery.
CREATE TABLE risk_warning_versions (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    score BIGINT NOT NULL,
    level TEXT NOT NULL,
    pattern TEXT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL,
    model_version TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (entity_type, entity_id, version)
){{without_rowid}};

-- Warnings stored before this migration keep their current version as their history.
INSERT INTO risk_warning_versions (entity_type, entity_id, version, score, level, pattern,
    reasons, status, model_version, at)
SELECT entity_type, entity_id, version, score, level, pattern, reasons, status, model_version,
    updated_at FROM risk_warnings;

-- A threshold decision names the level whose cut-off it moves and when it takes effect
-- (a decision recorded before this migration: the yellow cut-off, the warning threshold,
-- effective when recorded).
ALTER TABLE risk_decisions_log ADD COLUMN level TEXT;
ALTER TABLE risk_decisions_log ADD COLUMN effective_at BIGINT;

CREATE INDEX warning_outbox_state ON warning_outbox (state);
CREATE INDEX risk_appeals_status ON risk_appeals (status, filed_at);
