-- Collector runs: one row per source per run, so health can show items fetched per run
-- and how long a source has been failing.
CREATE TABLE collect_runs (
    source      VARCHAR   NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    status      VARCHAR   NOT NULL, -- ok | error
    pages       INTEGER   NOT NULL,
    inserted    BIGINT    NOT NULL,
    updated     BIGINT    NOT NULL,
    unchanged   BIGINT    NOT NULL,
    error_kind  VARCHAR,            -- blocked | unavailable | parse | layout | config | bug
    error       VARCHAR,
    PRIMARY KEY (source, started_at)
);

ALTER TABLE source_health ADD COLUMN last_error_kind VARCHAR;
ALTER TABLE source_health ADD COLUMN consecutive_failures INTEGER DEFAULT 0;
