-- Login throttling counters shared by every instance (issue 17): one row per
-- key (a hashed username with a client address, or an address alone).
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_failure_ms);
