-- Every process that relays events through LISTEN/NOTIFY counts here the
-- events its transactions announced. The counter is bumped by the same
-- transaction that makes the change and sends its notification, so it
-- commits, or rolls back, with both: a listener that may have missed
-- notifications compares what it heard with these counts. A clean shutdown
-- deletes its row; rows of processes that died are pruned once stale.
CREATE TABLE event_sources (
    instance TEXT PRIMARY KEY,
    seq BIGINT NOT NULL DEFAULT 0,
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
