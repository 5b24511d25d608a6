-- no-transaction
-- A channel's messages by id in a table of their own, `channel_messages`, instead of an index
-- on `messages`: SQLite maintains an index in the statement that inserts the row, and each
-- message lands in a different channel's leaf, logged and synced whole in its commit. A table
-- is written by the message writer as it sees fit: a few channels at a time, many ids a leaf
-- (`messages/unlisted.rs`; S4 in docs/benchmarks.md: a third of the disk's writes).
--
-- `messages.channel_id` loses its foreign key for that: SQLite cascades a channel's deletion
-- by searching `messages` by channel, a full scan without the index. A trigger deletes a
-- channel's messages through `channel_messages` instead, and another keeps that table in step
-- with deletions. SQLite changes a column's constraints only by rebuilding the table, which
-- must run with foreign keys off (dropping the old table would otherwise cascade to mentions
-- and reactions), hence outside the migrator's transaction.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE messages_rebuilt (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL,
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
INSERT INTO messages_rebuilt (id, channel_id, server_id, author_id, content, nonce, reply_to,
        mentions, mention_roles, mention_everyone, pinned_at, edited_at, created_at)
    SELECT id, channel_id, server_id, author_id, content, nonce, reply_to, mentions,
        mention_roles, mention_everyone, pinned_at, edited_at, created_at
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
CREATE INDEX messages_pins ON messages (channel_id, pinned_at) WHERE pinned_at IS NOT NULL;

CREATE TABLE channel_messages (
    channel_id INTEGER NOT NULL,
    id         INTEGER NOT NULL,
    PRIMARY KEY (channel_id, id)
) WITHOUT ROWID;
INSERT INTO channel_messages (channel_id, id) SELECT channel_id, id FROM messages;
-- Every message with a smaller id is in its channel's list (the message writer keeps it at
-- the smallest id it has not entered yet; 9223372036854775807: none waits): where a restart
-- looks for those (`messages/unlisted.rs`), and where a channel's deletion looks for its
-- messages that are not in its list.
CREATE TABLE channel_messages_mark (below INTEGER NOT NULL);
INSERT INTO channel_messages_mark (below) VALUES (9223372036854775807);

CREATE TRIGGER messages_leave_channel AFTER DELETE ON messages BEGIN
    DELETE FROM channel_messages WHERE channel_id = old.channel_id AND id = old.id;
END;
CREATE TRIGGER channels_take_messages AFTER DELETE ON channels BEGIN
    DELETE FROM messages WHERE id IN (SELECT id FROM channel_messages WHERE channel_id = old.id);
    DELETE FROM messages WHERE id >= (SELECT below FROM channel_messages_mark)
        AND channel_id = old.id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
