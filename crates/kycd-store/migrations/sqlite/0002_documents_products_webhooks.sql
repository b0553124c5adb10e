-- Documents, product access, webhook endpoints and deliveries, screening state, inbound provider webhooks.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    side TEXT,
    status TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    number_hash TEXT,
    rejection_reason TEXT,
    created_at BIGINT NOT NULL,
    reviewed_at BIGINT
);
CREATE INDEX documents_customer ON documents (customer_id, id);

CREATE TABLE product_access (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    product TEXT NOT NULL,
    status TEXT NOT NULL,
    suspended BIGINT NOT NULL DEFAULT 0,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX product_access_customer ON product_access (customer_id, product);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    url TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    secrets TEXT NOT NULL,
    status TEXT NOT NULL,
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX webhook_endpoints_scope ON webhook_endpoints (organization_id, environment, id);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    at BIGINT NOT NULL,
    UNIQUE (delivery_id, attempt)
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, id);

CREATE TABLE screening_lists (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    entries BIGINT NOT NULL,
    checksum TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);

CREATE TABLE screening_dismissals (
    customer_id TEXT NOT NULL,
    list TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, list, entry_id)
);

CREATE TABLE inbound_webhooks (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    external_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    processed_at BIGINT,
    error TEXT,
    UNIQUE (provider, external_id)
);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
