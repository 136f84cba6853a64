DROP TABLE sessions;
ALTER TABLE agents DROP COLUMN seen_at;
ALTER TABLE agents DROP COLUMN token_expires_at;
