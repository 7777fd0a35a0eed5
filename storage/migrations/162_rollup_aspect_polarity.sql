-- rollup_aspects keyed by the aspect's own polarity too (mention_aspects.polarity): "质量很好，物流太慢"
-- is positive for 质量 and negative for 物流 whatever the mention's overall label, and the topics
-- page's sentiment per aspect over time counts by it (storage/topics.aspect_series). Readers that
-- count an aspect's mentions sum over polarity (one mention_aspects row per mention and aspect, so
-- the sum is the old count). Rebuilt from the rows, as migration 070 built it.
DROP TABLE rollup_aspects;

CREATE TABLE rollup_aspects (
    bucket    TIMESTAMP NOT NULL,
    brand     VARCHAR   NOT NULL,
    product   VARCHAR   NOT NULL,
    source    VARCHAR   NOT NULL,
    aspect    VARCHAR   NOT NULL,
    polarity  VARCHAR   NOT NULL, -- the aspect's own: pos | neu | neg
    label     VARCHAR   NOT NULL, -- the mention's overall label, as the detectors count it
    excluded  BOOLEAN   NOT NULL,
    mentions  BIGINT    NOT NULL,
    PRIMARY KEY (bucket, brand, product, source, aspect, polarity, label, excluded)
);

INSERT INTO rollup_aspects
SELECT time_bucket(INTERVAL 300 SECOND, m.published_at), coalesce(m.brand, ''), coalesce(m.product, ''), m.source,
       a.aspect, a.polarity, coalesce(s.label, ''), coalesce(f.excluded, FALSE), count(*)
FROM mentions m
JOIN mention_aspects a USING (source, native_id)
LEFT JOIN sentiment s USING (source, native_id)
LEFT JOIN mention_flags f USING (source, native_id)
GROUP BY ALL;
