-- The score queue keeps each queued mention's published_at (storage/queue.py): a read of the queue
-- takes a slice in publishing order and reads those mentions within the slice's time range, so the
-- mentions table's zone maps skip every row group outside it (a join by key alone read the whole
-- table: no index serves a join on (source, native_id)).
ALTER TABLE score_queue ADD COLUMN published_at TIMESTAMP;

UPDATE score_queue SET published_at = m.published_at
FROM mentions m
WHERE score_queue.source = m.source AND score_queue.native_id = m.native_id;
