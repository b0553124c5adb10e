-- The back office: operators (staff, not customers: the email is the login
-- name and stays in clear; only an argon2id hash of the password is kept),
-- their browser sessions (by the hash of the session id) and the failed
-- sign-ins that lock an account or an address for a while.
CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    organization_id TEXT,
    password_hash TEXT NOT NULL,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE operator_sessions (
    id_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE TABLE operator_login_failures (
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX operator_login_failures_subject ON operator_login_failures (subject, at);
