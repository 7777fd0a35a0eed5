-- Alerts: incident explanations and lifecycle, the outbox, the response log.
ALTER TABLE incidents ADD COLUMN factor DOUBLE;             -- observed / expected at the peak
ALTER TABLE incidents ADD COLUMN alerted_severity INTEGER;   -- the tier last sent out (re-escalation)
ALTER TABLE incidents ADD COLUMN acknowledged_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolved_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN first_response_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN rule VARCHAR;
ALTER TABLE incidents ADD COLUMN note VARCHAR;              -- why reliable is false, etc.; built from facts

-- Every notification to send: one row per (incident, channel, event). The unique
-- key is what keeps an alert from being queued or sent twice.
CREATE TABLE alert_outbox (
    id            VARCHAR   PRIMARY KEY, -- hash of incident, channel, event
    incident_id   VARCHAR   NOT NULL,
    channel       VARCHAR   NOT NULL,
    route         VARCHAR   NOT NULL,
    event         VARCHAR   NOT NULL,    -- opened | escalated:<tier> | source_down
    severity      INTEGER   NOT NULL,
    payload       JSON      NOT NULL,    -- the facts the message is built from
    status        VARCHAR   NOT NULL,    -- pending | sending | sent | dead
    attempts      INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error    VARCHAR,
    created_at    TIMESTAMP NOT NULL,
    sent_at       TIMESTAMP
);

CREATE TABLE incident_responses (
    incident_id VARCHAR   NOT NULL,
    acted_at    TIMESTAMP NOT NULL,
    actor       VARCHAR   NOT NULL,
    action      VARCHAR   NOT NULL, -- acknowledge | resolve | respond | reopen
    note        VARCHAR
);
