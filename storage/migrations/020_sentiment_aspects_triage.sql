-- Sentiment extras: the aspects of each mention with their polarity, and the
-- triage of negative mentions (tier, motive, deciding rule, suggested reply).
CREATE TABLE mention_aspects (
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL,
    aspect    VARCHAR NOT NULL,
    polarity  VARCHAR NOT NULL, -- pos | neu | neg
    PRIMARY KEY (source, native_id, aspect)
);

CREATE TABLE triage (
    source    VARCHAR NOT NULL,
    native_id VARCHAR NOT NULL,
    urgency   INTEGER NOT NULL, -- 1-5, the tiers of DOMAIN.md
    motive    VARCHAR,          -- 发泄 | 尊重 | 补偿 | 建议
    reason    VARCHAR,          -- the rule or feature that decided the tier and motive
    reply     VARCHAR,          -- a suggested reply phrased as a solution
    flags     JSON,             -- trust signals: rating_conflict, duplicate_group, ...
    PRIMARY KEY (source, native_id)
);
