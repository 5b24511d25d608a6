-- How far an author has read a channel they wrote in: their newest message there is kept in
-- their read state (one row per user and channel, rewritten in place by each send) instead of
-- being read from an index over every message by author. A message then writes one index
-- leaf (its channel's) instead of two. `last_read_id` stays what the user acknowledged; a row
-- made by a send alone holds 0 there.
ALTER TABLE read_states ADD COLUMN own_last_id INTEGER;
INSERT INTO read_states (user_id, channel_id, last_read_id, own_last_id)
    SELECT author_id, channel_id, 0, MAX(id) FROM messages WHERE true GROUP BY author_id, channel_id
    ON CONFLICT (user_id, channel_id) DO UPDATE SET own_last_id = excluded.own_last_id;
DROP INDEX messages_author;
