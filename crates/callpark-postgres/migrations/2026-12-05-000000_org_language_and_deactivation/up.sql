-- The language of what an organisation's callers hear (TwiML <Say language>), and whether the
-- organisation is in service: a deactivated one takes no new calls and its agents cannot sign
-- in (agents.rs and sessions.rs join on it).
ALTER TABLE organisations ADD COLUMN language text;
ALTER TABLE organisations ADD COLUMN active boolean NOT NULL DEFAULT true;
