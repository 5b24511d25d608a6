-- A server's first load (the directory's, when its first member connects) reads all of its
-- memberships, roles and channels. The memberships came from the primary key's index and then
-- each membership's row; roles and channels were sorted in a temporary B-tree. Now the
-- memberships are read from an index that holds every column, and roles and channels come
-- from their server's index already in order.
CREATE INDEX members_server ON members (server_id, user_id, joined_at, nickname, timeout_until);
DROP INDEX roles_server;
CREATE INDEX roles_server ON roles (server_id, position DESC, id);
DROP INDEX channels_server;
CREATE INDEX channels_server ON channels (server_id, position, id);
