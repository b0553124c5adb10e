-- Working the queue as a team (issue 15 item 4): who holds a case (one row
-- per claimed customer; releasing deletes it, an admin's reassignment
-- replaces the holder) and the tags operators put on a case. Both are
-- back-office bookkeeping, never sent to the platform; every change is in
-- the audit log.
CREATE TABLE case_claims (
    customer_id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    claimed_at BIGINT NOT NULL
);
CREATE INDEX case_claims_operator ON case_claims (operator_id);
CREATE TABLE case_tags (
    customer_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX case_tags_tag ON case_tags (tag);
