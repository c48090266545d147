-- Users, outstanding tokens and blacklisted tokens (SQLite dialect).
-- Times are Unix epoch seconds; booleans are 0/1 integers so both backends
-- decode them the same way. Tokens are stored by jti, never as raw strings.
CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT    NOT NULL UNIQUE,
    password     TEXT    NOT NULL,
    email        TEXT    NOT NULL DEFAULT '',
    first_name   TEXT    NOT NULL DEFAULT '',
    last_name    TEXT    NOT NULL DEFAULT '',
    is_active    INTEGER NOT NULL DEFAULT 1,
    is_staff     INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    date_joined  INTEGER NOT NULL,
    last_login   INTEGER NULL
);

CREATE TABLE outstanding_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    jti        TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX outstanding_tokens_user_id ON outstanding_tokens (user_id);
CREATE INDEX outstanding_tokens_expires_at ON outstanding_tokens (expires_at);

CREATE TABLE blacklisted_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id       INTEGER NOT NULL UNIQUE REFERENCES outstanding_tokens (id) ON DELETE CASCADE,
    blacklisted_at INTEGER NOT NULL
);

CREATE TABLE simplejwt_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
