-- A user's servers in the order they joined them, read from the index alone: every gateway
-- identify lists them (`channels_of_user`), and with `(user_id)` alone SQLite looked up each
-- membership's row and sorted them in a temporary B-tree.
DROP INDEX members_user;
CREATE INDEX members_user ON members (user_id, joined_at, server_id);
