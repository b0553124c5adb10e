-- Foundation (PostgreSQL): same shape as the SQLite tree.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE settings (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    body TEXT NOT NULL,
    clock_offset_seconds BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, environment)
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    external_id TEXT,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT,
    notice_at BIGINT,
    expiring_notified BIGINT NOT NULL DEFAULT 0,
    erased_at BIGINT
);
CREATE UNIQUE INDEX customers_external_id ON customers (organization_id, environment, external_id);
CREATE INDEX customers_scope ON customers (organization_id, environment, id);
CREATE INDEX customers_status ON customers (organization_id, environment, status, id);
CREATE INDEX customers_expiry ON customers (expires_at);
CREATE INDEX customers_notice ON customers (notice_at);

CREATE TABLE status_history (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX status_history_customer ON status_history (customer_id, id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_id TEXT,
    details TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_resource ON audit_log (resource_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    customer_id TEXT,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    fanned_out BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX events_scope ON events (organization_id, environment, id);
CREATE INDEX events_customer ON events (customer_id, id);
CREATE INDEX events_pending ON events (fanned_out, id);

CREATE TABLE idempotency_keys (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    PRIMARY KEY (organization_id, environment, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE usage_records (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    month TEXT NOT NULL,
    metric TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (metric, resource_id)
);
CREATE INDEX usage_records_month ON usage_records (organization_id, environment, month, metric);

CREATE TABLE customer_keys (
    customer_id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    wrapped_key TEXT NOT NULL
);

CREATE TABLE organization_keys (
    organization_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    PRIMARY KEY (organization_id, purpose)
);

CREATE TABLE customer_secrets (
    customer_id TEXT NOT NULL,
    field TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    PRIMARY KEY (customer_id, field)
);

CREATE TABLE blind_indexes (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, kind, hash)
);
CREATE INDEX blind_indexes_lookup ON blind_indexes (organization_id, environment, kind, hash);

CREATE TABLE hosted_links (
    token_hash TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX hosted_links_customer ON hosted_links (customer_id);
