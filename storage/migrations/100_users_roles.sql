-- Sign-in and roles (storage/users.py): local accounts and the people who signed in through OpenID Connect.
-- A password is kept only as its argon2id hash; an account that signs in through the identity provider has none.
CREATE TABLE users (
    name          VARCHAR   PRIMARY KEY, -- what a person signs in with: a user name or the provider's e-mail
    role          VARCHAR   NOT NULL,    -- viewer | responder | admin
    password_hash VARCHAR,               -- argon2id (PHC string); NULL: signs in through OIDC only
    created_at    TIMESTAMP NOT NULL,
    disabled_at   TIMESTAMP              -- set by `koubei users disable`: can no longer sign in or act
);


-- Who stored a correction: the signed-in user, or the OS user of the command line.
ALTER TABLE sentiment_labels ADD COLUMN labelled_by VARCHAR;
ALTER TABLE triage_labels ADD COLUMN labelled_by VARCHAR;
