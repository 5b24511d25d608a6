-- A message no longer writes beyond itself: a channel's newest message and how far an author
-- has read a channel they wrote in are read from the messages' own indexes.
-- The author index leads with the author, so "the author's newest message in a channel" and
-- "the author's messages in a server" are both one range of it.
ALTER TABLE channels DROP COLUMN last_message_id;
DROP INDEX messages_author;
CREATE INDEX messages_author ON messages (author_id, server_id, channel_id, id);
