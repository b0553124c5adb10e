-- The outbox becomes a table of its own: one narrow row per event waiting
-- for fan-out, written in the event's transaction and deleted by the
-- fan-out that creates its deliveries.
--
-- Before, the fan-out marked each event with `UPDATE events SET fanned_out
-- = 1`: a new version of the whole event row (its JSON data included) and a
-- new entry in each of its indexes, a second write of every event. Deleting
-- a one-column row writes neither.
CREATE TABLE event_outbox (
    event_id TEXT PRIMARY KEY
);
INSERT INTO event_outbox (event_id) SELECT id FROM events WHERE fanned_out = 0;
DROP INDEX IF EXISTS events_unfanned;
ALTER TABLE events DROP COLUMN fanned_out;
