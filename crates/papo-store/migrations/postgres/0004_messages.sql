-- Messages, their mentions and reactions; read states; the audit log.
ALTER TABLE channels ADD COLUMN last_message_id BIGINT;

CREATE TABLE messages (
    id               BIGINT PRIMARY KEY,
    channel_id       BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    server_id        BIGINT NOT NULL,
    author_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content          TEXT    NOT NULL,
    nonce            TEXT,
    reply_to         BIGINT,
    mentions         TEXT    NOT NULL DEFAULT '',
    mention_roles    TEXT    NOT NULL DEFAULT '',
    mention_everyone BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_at        BIGINT,
    edited_at        BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (server_id, author_id, id);
-- A nonce is unique per author while it is remembered (10 minutes; older ones are cleared).
CREATE UNIQUE INDEX messages_nonce ON messages (author_id, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX messages_pins ON messages (channel_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE message_mentions (
    user_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, channel_id, message_id)
);
CREATE INDEX message_mentions_message ON message_mentions (message_id);

CREATE TABLE message_role_mentions (
    role_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, channel_id, message_id)
);
CREATE INDEX message_role_mentions_message ON message_role_mentions (message_id);

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE read_states (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id   BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE audit_log (
    id        BIGINT PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    actor_id  BIGINT NOT NULL,
    target_id BIGINT,
    action    TEXT    NOT NULL,
    changes   TEXT,
    reason    TEXT
);
CREATE INDEX audit_log_server ON audit_log (server_id, id);
