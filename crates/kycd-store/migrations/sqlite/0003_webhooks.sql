-- Webhooks (issue 5): endpoint description, update time and why it was disabled;
-- delivery rounds (a redelivery restarts the retry schedule at attempts = round_base);
-- indexes for the dispatcher's claims; the inbound inbox's subject and processing order.
ALTER TABLE webhook_endpoints ADD COLUMN description TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX webhook_endpoints_enabled ON webhook_endpoints (organization_id, environment, status);

ALTER TABLE deliveries ADD COLUMN round_base BIGINT NOT NULL DEFAULT 0;
CREATE INDEX deliveries_scope_due ON deliveries (organization_id, environment, status, next_attempt_at);
-- The claim queries' indexes hold only what is still to do, not the growing history.
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX events_unfanned ON events (id) WHERE fanned_out = 0;
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status);

ALTER TABLE inbound_webhooks ADD COLUMN event_type TEXT;
ALTER TABLE inbound_webhooks ADD COLUMN subject TEXT;
ALTER TABLE inbound_webhooks ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX inbound_webhooks_pending ON inbound_webhooks (processed_at, received_at);
