-- The full-text index's postings (storage/textindex.py) rewritten sorted by gram, each with its
-- mention's published_at:
-- - sorted: a store whose index was kept at ingest alone held each gram's postings spread over
--   every row group, so a search read most of search_grams; sorted, a gram's postings sit in a
--   few row groups that zone maps find. Ingest appends unsorted after this (`koubei
--   rebuild-index` sorts it all again).
-- - published_at (search_docs' own, copied: a mention whose time changes is indexed again): the
--   newest candidates of a search and their count come from the postings alone, where joining
--   the candidates to search_docs read all of it.
-- Sorted a range of first characters at a time (gram = first << 21 | second; the ranges of
-- textindex.SORT_RANGES: 0x5000 << 21 = 42949672960, ...), so no sort holds more than about a
-- quarter of the postings in memory (one sort of 550 million postings at 10M would need ~25 GB).
CREATE TABLE search_grams_by_gram (
    gram         BIGINT    NOT NULL,
    doc          BIGINT    NOT NULL,
    published_at TIMESTAMP NOT NULL
);
INSERT INTO search_grams_by_gram SELECT g.gram, g.doc, d.published_at FROM search_grams g JOIN search_docs d USING (doc)
WHERE g.gram < 42949672960 ORDER BY g.gram, g.doc;
INSERT INTO search_grams_by_gram SELECT g.gram, g.doc, d.published_at FROM search_grams g JOIN search_docs d USING (doc)
WHERE g.gram >= 42949672960 AND g.gram < 51539607552 ORDER BY g.gram, g.doc;
INSERT INTO search_grams_by_gram SELECT g.gram, g.doc, d.published_at FROM search_grams g JOIN search_docs d USING (doc)
WHERE g.gram >= 51539607552 AND g.gram < 60129542144 ORDER BY g.gram, g.doc;
INSERT INTO search_grams_by_gram SELECT g.gram, g.doc, d.published_at FROM search_grams g JOIN search_docs d USING (doc)
WHERE g.gram >= 60129542144 AND g.gram < 68719476736 ORDER BY g.gram, g.doc;
INSERT INTO search_grams_by_gram SELECT g.gram, g.doc, d.published_at FROM search_grams g JOIN search_docs d USING (doc)
WHERE g.gram >= 68719476736 ORDER BY g.gram, g.doc;
DROP TABLE search_grams;
ALTER TABLE search_grams_by_gram RENAME TO search_grams;
