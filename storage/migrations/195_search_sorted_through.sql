-- The full-text index's sorted runs (storage/textindex.py sort_postings_tail): search_grams is a
-- sorted body followed by runs each sorted by (gram, doc), then the postings ingest appended since,
-- unsorted. `sorted_through` is the highest doc whose postings sit in a sorted run; the postings of
-- the docs after it are the unsorted tail that a pass sorts once it holds TAIL_DOCS docs.
-- 0 on a store from before: nothing is known sorted (rows appended after migration 191 sorted them
-- are not), so the first pass over the threshold sorts all the postings once.
ALTER TABLE search_index_state ADD COLUMN sorted_through BIGINT DEFAULT 0;
UPDATE search_index_state SET sorted_through = 0;
