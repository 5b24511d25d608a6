-- Servers, their roles, members and channels.
CREATE TABLE servers (
    id          BIGINT PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT,
    icon        TEXT,
    owner_id    BIGINT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);

-- The @everyone role has the server's id.
CREATE TABLE roles (
    id          BIGINT PRIMARY KEY,
    server_id   BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    color       BIGINT,
    position    BIGINT NOT NULL,
    permissions BIGINT NOT NULL,
    hoist       BOOLEAN NOT NULL DEFAULT FALSE,
    mentionable BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX roles_server ON roles (server_id);

CREATE TABLE members (
    server_id     BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nickname      TEXT,
    joined_at     BIGINT NOT NULL,
    timeout_until BIGINT,
    PRIMARY KEY (server_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_roles (
    server_id BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    role_id   BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (server_id, user_id, role_id),
    FOREIGN KEY (server_id, user_id) REFERENCES members (server_id, user_id) ON DELETE CASCADE
);

CREATE TABLE channels (
    id            BIGINT PRIMARY KEY,
    server_id     BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('text', 'voice', 'category')),
    name          TEXT    NOT NULL,
    position      BIGINT NOT NULL,
    parent_id     BIGINT REFERENCES channels (id) ON DELETE SET NULL,
    topic         TEXT,
    slowmode_secs BIGINT NOT NULL DEFAULT 0,
    user_limit    BIGINT,
    bitrate       BIGINT
);
CREATE INDEX channels_server ON channels (server_id);

CREATE TABLE channel_overwrites (
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('role', 'member')),
    allow      BIGINT NOT NULL,
    deny       BIGINT NOT NULL,
    PRIMARY KEY (channel_id, target_id)
);
