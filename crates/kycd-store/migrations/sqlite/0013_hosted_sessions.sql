-- The hosted flow: a link opens one browser session (opened_at), the session
-- is bound to that link and to its customer; only hashes of the session id
-- are stored. What the end user typed is kept sealed in customer_secrets.
ALTER TABLE hosted_links ADD COLUMN opened_at BIGINT;
CREATE TABLE hosted_sessions (
    id_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX hosted_sessions_customer ON hosted_sessions (customer_id);
