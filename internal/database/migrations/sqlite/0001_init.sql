CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    email         TEXT,
    email_key     TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    class      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    owner_id     BIGINT REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    object_key   TEXT,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    delimiter    TEXT NOT NULL,
    row_count    BIGINT NOT NULL,
    columns      TEXT NOT NULL,
    origin       TEXT NOT NULL,
    system_tags  TEXT NOT NULL,
    user_tags    TEXT NOT NULL,
    metadata     TEXT,
    created_at   TIMESTAMP NOT NULL,
    deleted_at   TIMESTAMP,
    expires_at   TIMESTAMP
);
CREATE UNIQUE INDEX files_owner_name ON files (owner_id, name) WHERE deleted_at IS NULL;
CREATE INDEX files_owner_created ON files (owner_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX files_owner_size ON files (owner_id, size, id) WHERE deleted_at IS NULL;
CREATE INDEX files_expires ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX files_object_key ON files (object_key);

CREATE TABLE file_tags (
    file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (file_id, tag)
);
CREATE INDEX file_tags_tag ON file_tags (tag, file_id);

CREATE TABLE edges (
    parent_id  TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    child_id   TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX edges_child ON edges (child_id, parent_id);

CREATE TABLE derivations (
    file_id    TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    source_ids TEXT NOT NULL,
    columns    TEXT NOT NULL,
    filter_sql TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
