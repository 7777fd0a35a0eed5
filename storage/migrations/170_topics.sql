-- Topics (koubei.toml [[topics]]): themes defined by watch queries. A mention is in every topic
-- whose query matches it: tagged at ingest (collectors/runner.py, collectors/file_import.py) and
-- re-applied by `koubei retag` (storage/tagging.py). No key: rows are replaced per mention at
-- ingest and per topic at retag.
CREATE TABLE mention_topics (
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL,
    topic     VARCHAR NOT NULL
);
-- The query each topic's rows in mention_topics were last computed with over every stored mention
-- (by `koubei retag`): a retag recomputes only the topics whose query differs from it. Ingest
-- with another query for a topic deletes its row, so the next retag recomputes that topic.
CREATE TABLE topic_queries (
    topic VARCHAR NOT NULL,
    query VARCHAR NOT NULL
);
