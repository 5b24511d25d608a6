-- Messages, their mentions and reactions; read states; the audit log.
ALTER TABLE channels ADD COLUMN last_message_id INTEGER;

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    server_id        INTEGER NOT NULL,
    author_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content          TEXT    NOT NULL,
    nonce            TEXT,
    reply_to         INTEGER,
    mentions         TEXT    NOT NULL DEFAULT '',
    mention_roles    TEXT    NOT NULL DEFAULT '',
    mention_everyone INTEGER NOT NULL DEFAULT 0,
    pinned_at        INTEGER,
    edited_at        INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (server_id, author_id, id);
-- A nonce is unique per author while it is remembered (10 minutes; older ones are cleared).
CREATE UNIQUE INDEX messages_nonce ON messages (author_id, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX messages_pins ON messages (channel_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE message_mentions (
    user_id    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, channel_id, message_id)
);
CREATE INDEX message_mentions_message ON message_mentions (message_id);

CREATE TABLE message_role_mentions (
    role_id    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, channel_id, message_id)
);
CREATE INDEX message_role_mentions_message ON message_role_mentions (message_id);

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE read_states (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id   INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    actor_id  INTEGER NOT NULL,
    target_id INTEGER,
    action    TEXT    NOT NULL,
    changes   TEXT,
    reason    TEXT
);
CREATE INDEX audit_log_server ON audit_log (server_id, id);
