-- The full-text index's postings written sorted by gram (storage/textindex.py): a store whose
-- index was kept at ingest alone holds each gram's postings spread over every row group, so a
-- search read most of search_grams; sorted, a gram's postings sit in a few row groups that zone
-- maps find. Ingest appends unsorted after this (`koubei rebuild-index` sorts it all again).
CREATE TABLE search_grams_by_gram (
    gram BIGINT NOT NULL,
    doc  BIGINT NOT NULL
);
INSERT INTO search_grams_by_gram SELECT gram, doc FROM search_grams ORDER BY gram, doc;
DROP TABLE search_grams;
ALTER TABLE search_grams_by_gram RENAME TO search_grams;
