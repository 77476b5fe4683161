-- Fanzha schema v4: whose data a user may see, and the insider flags raised for auditors.
-- A bank or carrier operator works for one institution; a station or community user works
-- in one jurisdiction (and everything below it). Centre roles have neither: the district.

ALTER TABLE users ADD COLUMN institution_code TEXT;
ALTER TABLE users ADD COLUMN jurisdiction_code TEXT;

-- Person look-ups are filtered by community, and the profile pages walk holdings by holder.
CREATE INDEX persons_community ON persons (community_code);
CREATE INDEX accounts_holder ON accounts (holder_id);
CREATE INDEX sims_holder ON sims (holder_id);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);

-- One flag per user, day and rule: rerunning the detector raises nothing twice.
CREATE TABLE insider_flags (
    id {{serial_pk}},
    raised_at BIGINT NOT NULL,
    username TEXT NOT NULL,
    day TEXT NOT NULL,
    rule TEXT NOT NULL,
    detail TEXT NOT NULL,
    reviewed_by TEXT,
    reviewed_at BIGINT,
    UNIQUE (username, day, rule)
);
