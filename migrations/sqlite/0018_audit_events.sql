-- The audit log (issue 17, point 6), written when AUDIT_TABLE is on: one row
-- per security event, with who and from where, never a token or a password.
-- Rows older than AUDIT_RETENTION are deleted by `flushexpiredtokens`.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    user_id     INTEGER NULL,
    username    TEXT    NULL,
    ip          TEXT    NULL,
    user_agent  TEXT    NULL,
    detail      TEXT    NULL
);
CREATE INDEX audit_events_created_at ON audit_events (created_at);
CREATE INDEX audit_events_user_id ON audit_events (user_id);
