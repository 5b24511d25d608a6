-- Invites to servers, and bans (checked when an invite is accepted).
CREATE TABLE invites (
    code       TEXT    PRIMARY KEY,
    server_id  INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    inviter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_uses   INTEGER NOT NULL DEFAULT 0,
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX invites_server ON invites (server_id);

CREATE TABLE bans (
    server_id    INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    moderator_id INTEGER NOT NULL REFERENCES users (id),
    reason       TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (server_id, user_id)
);
