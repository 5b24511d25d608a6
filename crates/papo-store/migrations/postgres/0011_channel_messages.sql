-- SQLite keeps a channel's messages by id in a table of their own (its migration 0011 says
-- why); PostgreSQL keeps its index on `messages`, and this view gives the queries the same
-- name for it, so that they read the same on both.
CREATE VIEW channel_messages AS SELECT channel_id, id FROM messages;
