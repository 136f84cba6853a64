-- Roles (a supervisor manages its organisation) and deactivation (the record stays, for the
-- history; the agent can no longer sign in and is never rung).
ALTER TABLE agents ADD COLUMN role text NOT NULL DEFAULT 'agent'
    CHECK (role IN ('agent', 'supervisor'));
ALTER TABLE agents ADD COLUMN active boolean NOT NULL DEFAULT true;

-- A deactivated agent stays offline whatever writes its status (a late callback, a call that
-- ended): so nothing ever rings it again.
CREATE FUNCTION callpark_inactive_agents_stay_offline() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.active THEN
        NEW.status := 'offline';
        NEW.current_call := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER agents_inactive_offline BEFORE UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION callpark_inactive_agents_stay_offline();
