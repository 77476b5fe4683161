-- Fanzha schema v3: API keys for institutions' systems (banks, carriers). Only the SHA-256 of
-- a key is stored; the key itself is shown once, when it is made. Rotation is a new key, then
-- revoking the old one; a revoked key stays on record for the audit trail.

CREATE TABLE api_keys (
    id {{serial_pk}},
    key_hash TEXT NOT NULL UNIQUE,
    institution_code TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
