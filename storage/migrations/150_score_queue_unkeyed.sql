-- The score queue without a primary key (storage/queue.py). Taking a scored batch off the queue
-- paid per key on the key's index: 0.1-0.3 ms a key (0.9 s a batch of 2,000 in a backlog on the
-- 1M store, 2-7 s for 20,000 on a 1M-row queue) against 0.05-0.2 s for 20,000 without it. Keys stay
-- unique without the index: the queue is only written by MERGE on (source, native_id).
CREATE TABLE score_queue_unkeyed (
    source       VARCHAR NOT NULL,
    native_id    VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    rescore      BOOLEAN NOT NULL,
    published_at TIMESTAMP
);
INSERT INTO score_queue_unkeyed BY NAME SELECT source, native_id, content_hash, rescore, published_at FROM score_queue;
DROP TABLE score_queue;
ALTER TABLE score_queue_unkeyed RENAME TO score_queue;
