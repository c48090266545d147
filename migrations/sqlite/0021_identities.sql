-- Social login (issue 21), SQLite dialect. An identity is one account at
-- an OpenID Connect provider — (issuer, subject), unique — linked to one
-- local user; a user may have several. `oidc_pending` holds the short-lived,
-- single-use records of the browser flow (a started sign-in, a one-time
-- exchange code), keyed by the SHA-256 of a random value that only the
-- browser holds, so the table alone lets nobody finish a flow.
CREATE TABLE user_identities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT    NOT NULL,
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    email      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX user_identities_user_id ON user_identities (user_id);

CREATE TABLE oidc_pending (
    key_hash   TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_pending_expires_at ON oidc_pending (expires_at);
