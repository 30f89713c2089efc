-- Idempotency keys: the first request of an owner's that carried a key, so
-- that a retry with the same key answers the file that request made
-- instead of making another. request is a hash of what the request asked
-- (its arguments and, for a client's bytes, their SHA-256), which tells a
-- retry from a different request reusing the key. Rows older than a day
-- mean nothing and the sweep removes them.
CREATE TABLE idempotency_keys (
    owner_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    request    TEXT NOT NULL,
    file_id    UUID NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
