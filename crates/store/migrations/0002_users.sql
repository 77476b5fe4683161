-- Fanzha schema v2: the people who log in to the server, and their sessions.
-- A password is stored only as its argon2 hash (PHC string), a session token only as its
-- SHA-256: a copy of the database opens no account and rides no session.

CREATE TABLE users (
    id {{serial_pk}},
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
