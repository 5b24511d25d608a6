-- As on SQLite: a user's servers in the order they joined them, from the index alone.
DROP INDEX members_user;
CREATE INDEX members_user ON members (user_id, joined_at, server_id);
