-- The back office's second factor and its inline-document links.
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
-- Short-lived, one-time links to a document shown inline in the case view
-- (by the hash of the token; bound to the operator it was issued to).
CREATE TABLE operator_document_links (
    token_hash TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX operator_document_links_expiry ON operator_document_links (expires_at);
