-- The expiry scheduler looks customers up by `expires_at` and `notice_at`,
-- which only approved customers have. Every other customer (every new one)
-- had an entry under NULL in both indexes, two of the index entries each
-- create wrote. The scheduler's conditions (`notice_at <= $1`,
-- `expires_at <= $1`) imply NOT NULL, so both databases still use them.
DROP INDEX IF EXISTS customers_expiry;
DROP INDEX IF EXISTS customers_notice;
CREATE INDEX customers_expiry ON customers (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX customers_notice ON customers (notice_at) WHERE notice_at IS NOT NULL;
