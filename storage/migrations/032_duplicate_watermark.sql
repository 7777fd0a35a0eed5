-- Duplicate marking resumes after a crash. Every scoring batch adds one to `scored` in its
-- own transaction; a marking pass stores, with its groups and in the same transaction, the
-- `scored` it started from as `marked`. While marked < scored, marking is owed: a scorer
-- killed after its last batch but before its groups were written marks them on the next run.
CREATE TABLE duplicate_watermark (
    id     INTEGER PRIMARY KEY, -- always 1: one row
    scored BIGINT  NOT NULL,
    marked BIGINT  NOT NULL
);
INSERT INTO duplicate_watermark VALUES (1, 0, 0);
