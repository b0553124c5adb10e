-- One-off maintenance passes that ran to completion (e.g. sealing customer
-- documents written in clear by an older version), so a start does not scan
-- for them again.
CREATE TABLE maintenance_done (
    name TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);
