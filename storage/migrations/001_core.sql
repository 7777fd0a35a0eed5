-- Core schema. All timestamps are UTC, stored as TIMESTAMP without zone.
CREATE TABLE mentions (
    source        VARCHAR   NOT NULL,
    native_id     VARCHAR   NOT NULL,
    brand         VARCHAR,
    product       VARCHAR,
    url           VARCHAR,
    author_hash   VARCHAR,            -- keyed hash of the author name; the name is never stored
    text          VARCHAR   NOT NULL,
    rating        DOUBLE,
    language      VARCHAR,
    published_at  TIMESTAMP NOT NULL,
    collected_at  TIMESTAMP NOT NULL, -- first time koubei stored it
    updated_at    TIMESTAMP NOT NULL, -- last time its content changed
    likes         BIGINT,
    reposts       BIGINT,
    replies       BIGINT,
    content_hash  VARCHAR   NOT NULL, -- of everything but raw, to tell a changed mention
    raw           JSON,
    PRIMARY KEY (source, native_id)
);
CREATE INDEX mentions_published ON mentions (published_at);

-- Incremental collection state, one row per source and scope (a product id, a keyword ...).
CREATE TABLE cursors (
    source     VARCHAR   NOT NULL,
    scope      VARCHAR   NOT NULL,
    state      JSON      NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, scope)
);

-- The current score of each mention. text_hash tells whether the text changed since.
CREATE TABLE sentiment (
    source        VARCHAR   NOT NULL,
    native_id     VARCHAR   NOT NULL,
    score         DOUBLE    NOT NULL, -- P(positive), in [0, 1]
    label         VARCHAR   NOT NULL, -- pos | neu | neg
    model         VARCHAR   NOT NULL,
    model_version VARCHAR   NOT NULL,
    text_hash     VARCHAR   NOT NULL,
    scored_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (source, native_id)
);

CREATE TABLE incidents (
    id            VARCHAR   PRIMARY KEY, -- stable: hash of kind, scope and window start
    kind          VARCHAR   NOT NULL,    -- volume | negative | source_down
    scope_type    VARCHAR   NOT NULL,    -- brand | product | source | aspect
    brand         VARCHAR,
    scope_value   VARCHAR   NOT NULL,
    bucket        VARCHAR   NOT NULL,    -- e.g. 1h
    window_start  TIMESTAMP NOT NULL,
    window_end    TIMESTAMP NOT NULL,
    peak_at       TIMESTAMP NOT NULL,
    observed      DOUBLE    NOT NULL,
    expected      DOUBLE    NOT NULL,
    score         DOUBLE    NOT NULL,    -- z-score or factor, see detector
    severity      INTEGER   NOT NULL,    -- 1-5, the triage tiers
    status        VARCHAR   NOT NULL DEFAULT 'open', -- open | acknowledged | resolved
    reliable      BOOLEAN   NOT NULL DEFAULT TRUE,
    keywords      JSON,
    aspects       JSON,
    sources       JSON,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE incident_mentions (
    incident_id VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    native_id   VARCHAR NOT NULL,
    rank        INTEGER NOT NULL, -- 1 = most reach
    PRIMARY KEY (incident_id, source, native_id)
);

-- One row per source: how its collection is going.
CREATE TABLE source_health (
    source          VARCHAR PRIMARY KEY,
    last_run_at     TIMESTAMP,
    last_success_at TIMESTAMP,
    last_error_at   TIMESTAMP,
    last_error      VARCHAR,
    last_items      BIGINT,
    status          VARCHAR -- ok | error
);
