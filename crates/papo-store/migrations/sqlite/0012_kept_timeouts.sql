-- A member's timeout outlives their membership: leaving (or being kicked or banned) and
-- joining again does not end it. Kept when the member row goes, given back when it returns.
CREATE TABLE kept_timeouts (
    server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    until     INTEGER NOT NULL,
    PRIMARY KEY (server_id, user_id)
);
