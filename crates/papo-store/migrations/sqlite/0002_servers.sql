-- Servers, their roles, members and channels.
CREATE TABLE servers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT,
    icon        TEXT,
    owner_id    INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL
);

-- The @everyone role has the server's id.
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    color       INTEGER,
    position    INTEGER NOT NULL,
    permissions INTEGER NOT NULL,
    hoist       INTEGER NOT NULL DEFAULT 0,
    mentionable INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX roles_server ON roles (server_id);

CREATE TABLE members (
    server_id     INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nickname      TEXT,
    joined_at     INTEGER NOT NULL,
    timeout_until INTEGER,
    PRIMARY KEY (server_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_roles (
    server_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    role_id   INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (server_id, user_id, role_id),
    FOREIGN KEY (server_id, user_id) REFERENCES members (server_id, user_id) ON DELETE CASCADE
);

CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,
    server_id     INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('text', 'voice', 'category')),
    name          TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    parent_id     INTEGER REFERENCES channels (id) ON DELETE SET NULL,
    topic         TEXT,
    slowmode_secs INTEGER NOT NULL DEFAULT 0,
    user_limit    INTEGER,
    bitrate       INTEGER
);
CREATE INDEX channels_server ON channels (server_id);

CREATE TABLE channel_overwrites (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('role', 'member')),
    allow      INTEGER NOT NULL,
    deny       INTEGER NOT NULL,
    PRIMARY KEY (channel_id, target_id)
);
