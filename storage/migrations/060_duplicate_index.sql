-- The duplicate index (sentiment/trust.py, storage/duplicates.py): what a grouping pass
-- matches new mentions against, so a pass costs O(new), not O(window).
-- No keys or indexes: every read is a hash join against a pass's few new keys, and an ART
-- index would cost space per row and seconds per pruned window day (storage/duplicates.py
-- keeps one row per mention by removing a mention before grouping it again).
-- duplicate_texts: one row per grouped mention in the window, in grouping order (seq);
-- `component` is the smallest seq of the mention's group, `text_key` a hash of its
-- normalised text, `representative` whether it is the first of that text (exact copies
-- join it and have no bands).
CREATE TABLE duplicate_texts (
    source         VARCHAR   NOT NULL,
    native_id      VARCHAR   NOT NULL,
    seq            BIGINT    NOT NULL,
    published_at   TIMESTAMP NOT NULL,
    text_key       BIGINT    NOT NULL,
    representative BOOLEAN   NOT NULL,
    component      BIGINT    NOT NULL
);
-- The MinHash LSH bands of representatives: only the first few of each bucket, which are
-- all a new text is compared with (trust._BUCKET_PROBES).
CREATE TABLE duplicate_bands (
    band      BIGINT  NOT NULL,
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL
);
-- Mentions scored since the last grouping pass (written with their scores). No key: a
-- mention scored twice is listed twice, and a pass deletes tens of thousands of rows, which
-- costs seconds against a primary key index and milliseconds without one.
CREATE TABLE duplicate_pending (
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL
);
-- What was scored before the index: grouped by the first pass, as a rebuild would.
INSERT INTO duplicate_pending SELECT source, native_id FROM sentiment;
