-- The back office's second factor.
-- An operator's TOTP secret (RFC 6238), sealed by the vault (never in clear);
-- it counts only once confirmed with a first code. `last_step` is the time
-- step of the last code accepted, so a code cannot be replayed.
CREATE TABLE operator_totp (
    operator_id TEXT PRIMARY KEY,
    secret_sealed TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
-- A sign-in between the password and the code (by the hash of its cookie).
CREATE TABLE operator_pending_logins (
    id_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
