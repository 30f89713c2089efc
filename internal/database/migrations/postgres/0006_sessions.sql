-- Session epochs: every token carries the epoch its user had when it was
-- issued and counts only while the user's epoch is unchanged. Ending every
-- session of a user (logoutAll, a password change) adds one.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- The access-token secret the replicas share when JWT_SECRET is not set:
-- the first replica to start inserts it, every other one reads it back.
CREATE TABLE signing_keys (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The account whose token came with an anonymous upload of the legacy
-- cutter page: the file stays a scratch file without an owner, but goes
-- with that account when it is deleted.
ALTER TABLE files ADD COLUMN uploaded_by BIGINT REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX files_uploaded_by ON files (uploaded_by) WHERE uploaded_by IS NOT NULL;
