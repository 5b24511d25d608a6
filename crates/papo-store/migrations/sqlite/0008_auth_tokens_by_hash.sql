-- Tokens stored in their hash's order (WITHOUT ROWID): a token's lookup, once per request and
-- gateway identify, is one B-tree search instead of the hash's index and then the row.
CREATE TABLE auth_tokens_by_hash (
    hash       TEXT    PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
) WITHOUT ROWID;
INSERT INTO auth_tokens_by_hash (hash, session_id, kind, expires_at, spent_at)
    SELECT hash, session_id, kind, expires_at, spent_at FROM auth_tokens;
DROP TABLE auth_tokens;
ALTER TABLE auth_tokens_by_hash RENAME TO auth_tokens;
CREATE INDEX auth_tokens_session ON auth_tokens (session_id);
