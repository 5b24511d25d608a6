-- As on SQLite: an author's newest message in a channel is kept in their read state, written
-- by each send, instead of being read from an index over every message by author.
ALTER TABLE read_states ADD COLUMN own_last_id BIGINT;
INSERT INTO read_states (user_id, channel_id, last_read_id, own_last_id)
    SELECT author_id, channel_id, 0, MAX(id) FROM messages GROUP BY author_id, channel_id
    ON CONFLICT (user_id, channel_id) DO UPDATE SET own_last_id = EXCLUDED.own_last_id;
DROP INDEX messages_author;
