-- Rollups kept current at write time (storage/rollups.py): what the overview's KPIs and trend
-- and the detectors count, per 5-minute bucket (UTC, published_at) and everything they filter
-- or group by, so that they read one row per bucket and combination instead of joining every
-- mention to its score. A missing brand, product or label is '' and a missing tier 0 (a primary
-- key cannot hold NULL). `excluded` (a copy the trust checks leave out) is kept apart: the
-- overview counts trusted mentions, detection counts all. Rebuilt by `koubei rollups rebuild`.
CREATE TABLE rollup_mentions (
    bucket    TIMESTAMP NOT NULL,
    brand     VARCHAR   NOT NULL,
    product   VARCHAR   NOT NULL,
    source    VARCHAR   NOT NULL,
    label     VARCHAR   NOT NULL, -- pos | neu | neg | '' (not scored)
    tier      INTEGER   NOT NULL, -- triage urgency 1-5 | 0 (no triage)
    excluded  BOOLEAN   NOT NULL,
    mentions  BIGINT    NOT NULL,
    score_sum DECIMAL(38, 12) NOT NULL, -- exact, so that a rebuild equals the increments
    PRIMARY KEY (bucket, brand, product, source, label, tier, excluded)
);

-- One row per mention and aspect: a mention with two aspects counts once in each.
CREATE TABLE rollup_aspects (
    bucket    TIMESTAMP NOT NULL,
    brand     VARCHAR   NOT NULL,
    product   VARCHAR   NOT NULL,
    source    VARCHAR   NOT NULL,
    aspect    VARCHAR   NOT NULL,
    label     VARCHAR   NOT NULL, -- the mention's overall label, as the detectors count it
    excluded  BOOLEAN   NOT NULL,
    mentions  BIGINT    NOT NULL,
    PRIMARY KEY (bucket, brand, product, source, aspect, label, excluded)
);

INSERT INTO rollup_mentions
SELECT time_bucket(INTERVAL 300 SECOND, m.published_at), coalesce(m.brand, ''), coalesce(m.product, ''), m.source,
       coalesce(s.label, ''), coalesce(t.urgency, 0), coalesce(f.excluded, FALSE),
       count(*), coalesce(sum(s.score::DECIMAL(38, 12)), 0)
FROM mentions m
LEFT JOIN sentiment s USING (source, native_id)
LEFT JOIN triage t USING (source, native_id)
LEFT JOIN mention_flags f USING (source, native_id)
GROUP BY ALL;

INSERT INTO rollup_aspects
SELECT time_bucket(INTERVAL 300 SECOND, m.published_at), coalesce(m.brand, ''), coalesce(m.product, ''), m.source,
       a.aspect, coalesce(s.label, ''), coalesce(f.excluded, FALSE), count(*)
FROM mentions m
JOIN mention_aspects a USING (source, native_id)
LEFT JOIN sentiment s USING (source, native_id)
LEFT JOIN mention_flags f USING (source, native_id)
GROUP BY ALL;
