-- Each audit entry carries, from the moment it is written, a MAC of its
-- content under a key derived from the master key: an entry edited in the
-- database before the sealer chains it no longer matches its MAC, which the
-- sealer and `kycd audit verify` check. Entries written before this
-- migration have none (they can only open the chain: see audit.rs).
ALTER TABLE audit_log ADD COLUMN mac TEXT;
