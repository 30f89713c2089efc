-- Column lineage: child_column of child_id was made from parent_column of
-- parent_id. IDENTITY and INFERRED edges name a column on both sides; a
-- FILTER edge says that parent_column decided which rows the child kept,
-- so it influences the child as a whole: its child_column is '' (every
-- column). Rows go with their files (ON DELETE CASCADE), so removing a
-- user's files removes their column lineage.
CREATE TABLE column_edges (
    parent_id     TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    parent_column TEXT NOT NULL,
    child_id      TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    child_column  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    PRIMARY KEY (child_id, child_column, parent_id, parent_column)
);
CREATE INDEX column_edges_parent ON column_edges (parent_id, parent_column);

-- The object that maps a derived file's rows to its source's rows (a
-- roaring bitmap of the source rows the cut kept), when one was recorded.
ALTER TABLE derivations ADD COLUMN rows_key TEXT;

-- OpenLineage deliveries waiting to be sent (OPENLINEAGE_URL): one row per
-- derivation, written in the transaction that records it, removed with
-- its file.
CREATE TABLE openlineage_outbox (
    id           INTEGER PRIMARY KEY,
    file_id      TEXT NOT NULL UNIQUE REFERENCES files (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    next_at      TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    failed_at    TIMESTAMP,
    delivered_at TIMESTAMP
);
CREATE INDEX openlineage_outbox_due ON openlineage_outbox (next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
