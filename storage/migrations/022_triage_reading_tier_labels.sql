-- Triage's own reading of a mention and the tier corrections people make (issue 15).
-- reading: triage's clause-aware polarity (pos | neu | neg); it wins over the model's label for the
-- tier, and the dashboard shows both where they disagree. NULL for rows triaged before it existed.
ALTER TABLE triage ADD COLUMN reading VARCHAR;

-- A person's tier for a mention. Text and reach are kept so that `koubei eval triage` can check
-- the current rules against every past correction, whether or not the mention is still stored.
CREATE TABLE triage_labels (
    source      VARCHAR NOT NULL,
    native_id   VARCHAR NOT NULL,
    urgency     INTEGER NOT NULL, -- 1-5, the tiers of DOMAIN.md
    text        VARCHAR NOT NULL,
    reach       INTEGER NOT NULL, -- likes + reposts + replies when corrected
    labelled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, native_id)
);
