-- Crash-safe idempotency: a claim carries a token (only its holder may
-- complete it, in the same transaction as the effect) and the node that
-- holds it (a claim of a dead node is retryable at once); a stored response
-- is sealed under the key of the resource it is about (its subject), so
-- erasing that resource makes its replay unreadable.
ALTER TABLE idempotency_keys ADD COLUMN claim_token TEXT;
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
ALTER TABLE idempotency_keys ADD COLUMN subject_id TEXT;
