-- Deliveries given up on are counted for /metrics on every scrape: an
-- index of only those rows keeps the count small however many were
-- delivered.
CREATE INDEX openlineage_outbox_failed ON openlineage_outbox (failed_at) WHERE failed_at IS NOT NULL;
