-- The product and brand rules `koubei retag` last applied (storage/tagging.py), in their order
-- (rule: products longest name first, then brands in configuration order), each with its query:
-- when the next retag has the same rules in the same order, only the mentions touched by the
-- rules whose query changed (their old tags in query_tags, their new query's matches) are
-- tagged again; otherwise every mention is.
CREATE TABLE tag_rules (
    rule    INTEGER NOT NULL,
    kind    VARCHAR NOT NULL,
    brand   VARCHAR NOT NULL,
    product VARCHAR,
    query   VARCHAR NOT NULL
);
