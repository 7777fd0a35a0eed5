-- Indexes on native_id alone for the tables a page of mentions, or an ingest batch, reads or
-- replaces by key (storage/search.py page details, storage/tagging.py store_topics). DuckDB 1.5
-- answers a filter on (source, native_id) by a sequential scan even with the primary key
-- (measured at 1,000,000 mentions: 40-80 ms for one key, 120 ms a table for a page of 50), but
-- `native_id IN (...)` by an index scan (about 10 ms for 50 keys); the source is checked after.
-- A later migration that renames one of these tables must drop its index first (as 011 did).
CREATE INDEX sentiment_native_id ON sentiment (native_id);
CREATE INDEX triage_native_id ON triage (native_id);
CREATE INDEX mention_aspects_native_id ON mention_aspects (native_id);
CREATE INDEX mention_topics_native_id ON mention_topics (native_id);
