-- Settings a manager changed in the dashboard: each row replaces one part of koubei.toml
-- (a table, or an array of tables) named by its path, e.g. ["alerts", "rules", "negative-spike"].
-- The file stays the starting point and holds the names of the secrets' variables; these rows
-- never hold a secret (koubei/settings/saved.py refuses one before it gets here).
CREATE TABLE settings (
    path       VARCHAR   PRIMARY KEY, -- JSON array of keys
    value      VARCHAR   NOT NULL,    -- JSON, as the TOML table would hold it
    changed_by VARCHAR   NOT NULL,
    changed_at TIMESTAMP NOT NULL     -- naive UTC
);

-- Every change, appended and never rewritten: who changed what and when, old and new value.
CREATE SEQUENCE settings_history_id;
CREATE TABLE settings_history (
    id         BIGINT    PRIMARY KEY DEFAULT nextval('settings_history_id'),
    path       VARCHAR   NOT NULL,
    old_value  VARCHAR,               -- JSON: the value in force before (the file's if none was saved)
    new_value  VARCHAR,               -- JSON; NULL: reset to the file's value
    changed_by VARCHAR   NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
