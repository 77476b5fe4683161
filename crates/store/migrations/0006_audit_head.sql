-- Fanzha schema v6: the audit chain's head, kept beside the log. Each append chains to the
-- head (not to whatever row is last in audit_log) and moves it in the same transaction, so
-- deleting the newest entries is caught: the head then names an entry that is gone, and an
-- entry appended afterwards chains to the deleted one, not to the surviving last row.

CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- A trail written before this migration: its newest entry becomes the head.
INSERT INTO audit_head (one, last_id, hash)
    SELECT 1, id, hash FROM audit_log ORDER BY id DESC LIMIT 1;
