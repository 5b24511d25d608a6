-- SQLite's message writer is the only one to store messages, and it remembers who holds each
-- recent nonce itself (papo-store's `recent_nonces`): the unique index cost every send one more
-- B-tree leaf written and synced. PostgreSQL, where several nodes may write, keeps its index.
DROP INDEX messages_nonce;
