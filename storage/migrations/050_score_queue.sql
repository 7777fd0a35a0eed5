-- Pending scoring is recorded, not searched for. Storing a new mention, or a stored one
-- whose content changed, queues its key in the same transaction (storage/mentions.py);
-- a scoring batch removes the keys it scored with its scores. `rescore` says whether the
-- mention may already have aspects or triage to replace (new mentions have none).
CREATE TABLE score_queue (
    source       VARCHAR NOT NULL,
    native_id    VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL, -- the mention's when queued: a batch dequeues only what it read
    rescore      BOOLEAN NOT NULL,
    PRIMARY KEY (source, native_id)
);

-- What was pending before the queue: mentions never scored, or whose text changed since.
INSERT INTO score_queue
SELECT m.source, m.native_id, m.content_hash, s.source IS NOT NULL
FROM mentions m LEFT JOIN sentiment s USING (source, native_id)
WHERE s.source IS NULL OR s.text_hash <> md5(m.text);

-- The model and version the queue is kept for. Scoring with another one (or the first run
-- after this migration, while it is NULL) queues once every mention it did not score.
CREATE TABLE score_model (
    id            INTEGER PRIMARY KEY, -- always 1: one row
    model         VARCHAR,
    model_version VARCHAR
);
INSERT INTO score_model VALUES (1, NULL, NULL);
