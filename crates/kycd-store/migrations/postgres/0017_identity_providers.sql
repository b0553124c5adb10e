-- Identity providers (Sumsub…) per organization and environment: the public
-- settings in clear, the credentials sealed by the vault (never returned).
CREATE TABLE identity_providers (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    provider TEXT NOT NULL,
    config TEXT NOT NULL,
    secrets TEXT NOT NULL,
    configured_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, environment, provider)
);
-- A customer's applicant at a provider, and the creation time (ms) of the
-- newest provider event applied, so an older one never overrides it.
CREATE TABLE provider_applicants (
    provider TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    last_event_ms BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, applicant_id)
);
CREATE INDEX provider_applicants_customer ON provider_applicants (organization_id, environment, customer_id);
-- Inbound webhooks addressed to one organization carry its scope.
ALTER TABLE inbound_webhooks ADD COLUMN organization_id TEXT;
ALTER TABLE inbound_webhooks ADD COLUMN environment TEXT;
