-- Invites to servers, and bans (checked when an invite is accepted).
CREATE TABLE invites (
    code       TEXT    PRIMARY KEY,
    server_id  BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    inviter_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_uses   BIGINT NOT NULL DEFAULT 0,
    uses       BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX invites_server ON invites (server_id);

CREATE TABLE bans (
    server_id    BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    moderator_id BIGINT NOT NULL REFERENCES users (id),
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (server_id, user_id)
);
