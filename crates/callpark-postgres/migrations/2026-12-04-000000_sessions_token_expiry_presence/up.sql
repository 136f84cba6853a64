-- API tokens may expire; signed-in pages hold a session of their own, never the API token.
ALTER TABLE agents ADD COLUMN token_expires_at timestamptz;
-- Presence from reality: when the agent's page (or client) last showed signs of life.
ALTER TABLE agents ADD COLUMN seen_at timestamptz;

CREATE TABLE sessions (
    -- The SHA-256 digest of the session's secret: the cookie holds the secret.
    hash bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
    org text NOT NULL,
    agent text COLLATE "C" NOT NULL,
    started_at timestamptz NOT NULL,
    last_used timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (org, agent) REFERENCES agents (org, identity) ON DELETE CASCADE
);
CREATE INDEX sessions_agent ON sessions (org, agent);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
