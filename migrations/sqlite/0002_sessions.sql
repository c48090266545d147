-- Sessions and token families (SQLite dialect). A login starts a session;
-- every refresh token issued in it, by login or by rotation, carries the
-- session's id and its parent's id, so a replayed rotated-out token can end
-- the whole family and a user can list and end their sessions. Nothing here
-- is put into tokens: a token finds its session through its jti.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id    TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    user_agent   TEXT    NULL,
    ip           TEXT    NULL,
    revoked_at   INTEGER NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

ALTER TABLE outstanding_tokens
    ADD COLUMN session_id INTEGER NULL REFERENCES sessions (id) ON DELETE SET NULL;
ALTER TABLE outstanding_tokens
    ADD COLUMN parent_id INTEGER NULL REFERENCES outstanding_tokens (id) ON DELETE SET NULL;
CREATE INDEX outstanding_tokens_session_id ON outstanding_tokens (session_id);
CREATE INDEX outstanding_tokens_parent_id ON outstanding_tokens (parent_id);
