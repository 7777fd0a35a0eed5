-- search_docs carries what an explorer page filters and sorts by (storage/search.py): each
-- mention's brand, product and reach (likes + reposts + replies, as search.py's _REACH), copied
-- from mentions and kept equal to them wherever mentions' are written (storage/textindex.py
-- `index_written` at ingest, `follow_mentions` at retag and set_brands; a forgotten mention's doc
-- goes). A page of a brand, or by reach, then joins its candidates to search_docs by `doc`, an
-- integer, where it joined them to mentions by (source, native_id): at 10,000,000 mentions 0.3 s
-- scanning the window's mentions and 0.4 s hashing their string keys.
-- Rewritten in doc order (the order ingest and `koubei rebuild-index` append in, which keeps
-- zone maps on published_at useful) rather than altered and updated in place row by row.
CREATE TABLE search_docs_193 (
    doc          BIGINT    NOT NULL,
    source       VARCHAR   NOT NULL,
    native_id    VARCHAR   NOT NULL,
    published_at TIMESTAMP NOT NULL,
    text_hash    UBIGINT   NOT NULL,
    brand        VARCHAR,
    product      VARCHAR,
    reach        BIGINT    NOT NULL
);
INSERT INTO search_docs_193
SELECT d.doc, d.source, d.native_id, d.published_at, d.text_hash, m.brand, m.product,
       coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0)
FROM search_docs d LEFT JOIN mentions m USING (source, native_id)
ORDER BY d.doc;
DROP TABLE search_docs;
ALTER TABLE search_docs_193 RENAME TO search_docs;
