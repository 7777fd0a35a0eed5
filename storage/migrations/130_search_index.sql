-- The full-text index (storage/textindex.py): the character bigrams of each mention's
-- normalised text (simplified Chinese, lower-case Latin), kept at ingest, so a search reads the
-- postings of its words' bigrams instead of every text. No keys or indexes: postings are read
-- by gram (zone maps over a table a rebuild writes sorted by gram) and joined by hash.
-- search_docs: one row per indexed mention; `doc` numbers it for the postings, `text_hash`
-- (DuckDB's hash of the text) tells an update that changed the text from one that changed counts.
CREATE TABLE search_docs (
    doc          BIGINT    NOT NULL,
    source       VARCHAR   NOT NULL,
    native_id    VARCHAR   NOT NULL,
    published_at TIMESTAMP NOT NULL,
    text_hash    UBIGINT   NOT NULL
);
-- search_grams: one row per distinct bigram of a mention's text; gram = first code point << 21
-- | second. A mention whose text or time changed, or that was forgotten, loses its postings.
CREATE TABLE search_grams (
    gram BIGINT NOT NULL,
    doc  BIGINT NOT NULL
);
-- Whether the index covers every stored mention: true on a new store, false on a store that
-- had mentions before this migration until `koubei rebuild-index` fills it (search scans meanwhile).
CREATE TABLE search_index_state (
    complete BOOLEAN NOT NULL
);
INSERT INTO search_index_state SELECT count(*) = 0 FROM mentions;
