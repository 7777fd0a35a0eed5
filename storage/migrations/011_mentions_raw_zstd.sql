-- mentions.raw compressed with zstd. DuckDB's default choice for strings (dictionary +
-- FSST) took ~5 us a row to analyse and write at every checkpoint, a sixth of the cost of
-- storing a JD comment; zstd writes the same ~500-byte JSON in ~1.5 us and, on the
-- collector benchmark's JD rows, into a tenth of the space. DuckDB cannot change a
-- column's compression in place, so the table is rebuilt once (same columns, key and
-- index; the views over it are re-bound by name).
CREATE TABLE mentions_rebuilt (
    source        VARCHAR   NOT NULL,
    native_id     VARCHAR   NOT NULL,
    brand         VARCHAR,
    product       VARCHAR,
    url           VARCHAR,
    author_hash   VARCHAR,            -- keyed hash of the author name; the name is never stored
    text          VARCHAR   NOT NULL,
    rating        DOUBLE,
    language      VARCHAR,
    published_at  TIMESTAMP NOT NULL,
    collected_at  TIMESTAMP NOT NULL, -- first time koubei stored it
    updated_at    TIMESTAMP NOT NULL, -- last time its content changed
    likes         BIGINT,
    reposts       BIGINT,
    replies       BIGINT,
    content_hash  VARCHAR   NOT NULL, -- of everything but raw, to tell a changed mention
    raw           JSON      USING COMPRESSION zstd,
    PRIMARY KEY (source, native_id)
);
INSERT INTO mentions_rebuilt BY NAME SELECT * FROM mentions;
DROP INDEX mentions_published;
DROP TABLE mentions;
ALTER TABLE mentions_rebuilt RENAME TO mentions;
CREATE INDEX mentions_published ON mentions (published_at);
