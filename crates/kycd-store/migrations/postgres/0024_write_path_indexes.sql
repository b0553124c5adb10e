-- Less work for the single writer on every create, and a sealer pass that
-- no longer grows with the backlog.
--
-- `events_pending (fanned_out, id)` duplicates the partial index
-- `events_unfanned` (0003), which is the one the fan-out reads: each event
-- paid for two index entries and each fan-out updated both.
DROP INDEX IF EXISTS events_pending;

-- The sealer reads unsealed entries in id order. With `seq` NULL in the
-- unique index, SQLite took that index for `seq IS NULL` and sorted every
-- unsealed entry on each pass (and, in the pass's UPDATE, scanned them once
-- per entry). The unique index keeps only sealed entries (uniqueness is the
-- same: NULLs never collide); unsealed entries get an index of their own, in
-- id order, that the sealer walks and stops after a pass's worth.
DROP INDEX IF EXISTS audit_log_seq;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq) WHERE seq IS NOT NULL;
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
