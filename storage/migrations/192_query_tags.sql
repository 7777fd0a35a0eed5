-- Which brands and products `koubei retag` filled in from a watch query (storage/tagging.py), so a
-- later retag after a brand's or product's query changed removes the tags that query no longer
-- gives. A brand or product a source, an import or a person gave is not listed here and stays.
-- brand / product: the value the query filled in; NULL where the mention's own was kept.
CREATE TABLE query_tags (
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL,
    brand     VARCHAR,
    product   VARCHAR
);
