-- Four eyes (issue 15): an action that needs a second admin waits here: who
-- asked, which action on which customer with its form fields (never a
-- revealed value), the requester's note, when it lapses (7 days on the
-- scope's clock), who decided, when and how (`approved`, `declined`). An
-- approved identifier reveal lets its requester see the value once
-- (`revealed_at`).
CREATE TABLE four_eyes_requests (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    action TEXT NOT NULL,
    parameters TEXT NOT NULL,
    note TEXT,
    requested_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    outcome TEXT,
    revealed_at BIGINT
);
CREATE INDEX four_eyes_requests_customer ON four_eyes_requests (customer_id, created_at);
CREATE INDEX four_eyes_requests_open ON four_eyes_requests (outcome, created_at);
-- The audit log's browse page and export filter by time and by actor.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
