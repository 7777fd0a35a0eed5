-- Trust signals per mention, and label corrections made by people (the feedback loop).
CREATE TABLE mention_flags (
    source          VARCHAR NOT NULL,
    native_id       VARCHAR NOT NULL,
    rating_conflict VARCHAR,          -- 'high_rating_negative_text' | 'low_rating_positive_text'
    default_review  BOOLEAN NOT NULL DEFAULT FALSE, -- 系统默认好评 and the like
    duplicate_group VARCHAR,          -- shared by near-identical texts from different accounts
    duplicate_count INTEGER,          -- distinct accounts posting that text
    excluded        BOOLEAN NOT NULL DEFAULT FALSE, -- left out of scores and spikes
    flagged_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (source, native_id)
);

-- A person's label for a mention. The text is kept so that training does not
-- depend on the mention staying in the database.
CREATE TABLE sentiment_labels (
    source     VARCHAR NOT NULL,
    native_id  VARCHAR NOT NULL,
    label      VARCHAR NOT NULL, -- pos | neu | neg
    text       VARCHAR NOT NULL,
    labelled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, native_id)
);

-- Mentions that count: everything not excluded by a trust signal. Alerts and
-- the dashboard read this view to leave template and copy-paste reviews out.
CREATE VIEW trusted_mentions AS
SELECT m.* FROM mentions m
LEFT JOIN mention_flags f USING (source, native_id)
WHERE NOT coalesce(f.excluded, FALSE);
