-- The audit log becomes a hash chain: a sealer gives each entry, in id
-- order, its place (seq, unique: the chain cannot fork), the previous
-- entry's hash and the SHA-256 of its own content and that hash, so an
-- altered or removed entry is found by `kycd audit verify`.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
