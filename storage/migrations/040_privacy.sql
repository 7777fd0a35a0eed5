-- Privacy: which keys made the author hashes, what was forgotten, and the audit trail of erasures.

-- The keys this database's author hashes went through, oldest first (storage/keys.py).
-- Only a fingerprint: the keys themselves live outside the database.
CREATE TABLE author_keys (
    generation  INTEGER   PRIMARY KEY,
    fingerprint VARCHAR   NOT NULL,
    added_at    TIMESTAMP NOT NULL
);

-- What `koubei forget` erased, so that collecting or importing it again does not bring it back:
-- keyed digests only (an author's hash, a mention key's digest), never a name, id or text.
CREATE TABLE forgotten (
    kind          VARCHAR   NOT NULL, -- author | mention
    digest        VARCHAR   NOT NULL,
    forgotten_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, digest)
);

-- Append-only (storage/audit.py offers no update or delete): who did what, when, from where.
-- Never the personal data itself: counts, a keyed digest of a selector at most.
CREATE SEQUENCE audit_log_id;
CREATE TABLE audit_log (
    id      BIGINT    PRIMARY KEY DEFAULT nextval('audit_log_id'),
    logged_at TIMESTAMP NOT NULL,
    actor   VARCHAR   NOT NULL, -- who: the person (--by) or the OS user
    origin  VARCHAR   NOT NULL, -- from where: the command or loop, and the host
    action  VARCHAR   NOT NULL, -- forget | retention | rotate-key
    target  VARCHAR,            -- what kind of thing: author | mention | text | raw | mentions | author-hashes
    detail  JSON                -- counts, selector digest and key generation
);

-- The files koubei wrote that may quote mentions (`koubei report`, `koubei export`, scheduled
-- reports), so that `koubei forget` can delete the ones whose span held an erased mention.
-- The span is in UTC and holds every publication time the file may quote (a report's includes
-- the previous period it compares with); `erased_at` is set when forget deleted the file.
CREATE TABLE written_files (
    path        VARCHAR   PRIMARY KEY, -- absolute
    kind        VARCHAR   NOT NULL,    -- report | export | scheduled-report
    covers_from TIMESTAMP NOT NULL,    -- inclusive
    covers_to   TIMESTAMP NOT NULL,    -- exclusive
    written_at  TIMESTAMP NOT NULL,
    erased_at   TIMESTAMP
);
