-- Accounts and login sessions. Times are Unix milliseconds; ids are snowflakes.
CREATE TABLE users (
    id            BIGINT PRIMARY KEY,
    username      TEXT   NOT NULL UNIQUE,
    email         TEXT   NOT NULL,
    email_key     TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    display_name  TEXT,
    bio           TEXT,
    pronouns      TEXT,
    accent_color  BIGINT,
    avatar        TEXT,
    banner        TEXT,
    settings      TEXT   NOT NULL DEFAULT '{}',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    id           BIGINT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent   TEXT,
    ip           TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Access and refresh tokens, stored only as SHA-256 hashes. A refresh token is kept after it
-- is spent so that presenting it again is recognised as theft and revokes its session.
CREATE TABLE auth_tokens (
    hash       TEXT   PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at BIGINT NOT NULL,
    spent_at   BIGINT
);
CREATE INDEX auth_tokens_session ON auth_tokens (session_id);
