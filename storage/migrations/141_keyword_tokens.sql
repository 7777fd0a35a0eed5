-- An incident's keywords segment up to 600 texts with jieba (sentiment/keywords.py): 20-28 s of a
-- detection pass at 1M-10M mentions, the same texts again each pass (the week before a window
-- does not change; each `koubei run` is a new process, so no in-memory cache survives). A
-- text's keyword tokens are kept here, keyed by a hash of the vocabulary and the text
-- (alerts/facts.py: a changed stopword list or lexicon misses instead of reading stale
-- tokens), with the published_at of the mention they were read for, so a pass prunes what no
-- detector window reaches any more (a copy of an older text just misses and is stored again). No primary key: a pass inserts only the keys it just failed to find.
CREATE TABLE keyword_tokens (
    text_key     BIGINT    NOT NULL,
    published_at TIMESTAMP NOT NULL,
    tokens       VARCHAR[] NOT NULL
);
