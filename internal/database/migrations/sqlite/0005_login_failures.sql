-- Failed logins, one row per attempt counted against a counter (an account
-- or a client address), so that every replica sees the same counts and a
-- restart forgets none. Rows older than the counting window are pruned.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    counter   TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_counter ON login_failures (counter, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
