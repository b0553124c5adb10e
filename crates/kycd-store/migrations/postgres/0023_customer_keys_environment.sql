-- A data key is read under its owner's organization and environment, like
-- every other scoped row: a sandbox request cannot read a live owner's key
-- even by its id. Owners of the whole organization (its idempotency subject,
-- back-office operators) keep the empty environment. Existing keys take the
-- environment of their customer, webhook endpoint or provider configuration.
ALTER TABLE customer_keys ADD COLUMN environment TEXT NOT NULL DEFAULT '';

UPDATE customer_keys SET environment = COALESCE(
    (SELECT c.environment FROM customers c WHERE c.id = customer_keys.customer_id),
    (SELECT e.environment FROM webhook_endpoints e WHERE e.id = customer_keys.customer_id),
    CASE WHEN substr(customer_id, 1, 11) = 'idp_sumsub_' THEN substr(customer_id, 12) ELSE '' END
);
