-- The order in which agents last became available: the longest idle are rung first.
CREATE SEQUENCE agent_available_order;
ALTER TABLE agents ADD COLUMN available_order bigint;

-- An agent who becomes available takes the next number of agent_available_order, whoever
-- wrote the status (callpark_set_agent_status, callpark_apply_and_set_agent): an inbound call
-- rings the longest idle agents first, and a <Dial> rings at most 10 browsers.
CREATE FUNCTION callpark_agent_became_available() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'available' AND OLD.status IS DISTINCT FROM 'available' THEN
        NEW.available_order := nextval('agent_available_order');
    END IF;
    RETURN NEW;
END;
$$;

-- The agents an inbound call rings: up to p_limit available agents of the organisation, the
-- longest idle first, who go to the back of the queue (a new agent_available_order) so that
-- the next call rings the others first. Rows another writer holds are skipped, so that two
-- calls at once ring different agents.
CREATE FUNCTION callpark_agents_to_ring(
    p_org text,
    p_limit integer
) RETURNS text[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_ring text[];
BEGIN
    SELECT coalesce(array_agg(identity ORDER BY available_order NULLS FIRST, identity), '{}')
      INTO v_ring
      FROM (SELECT identity, available_order FROM agents
             WHERE org = p_org AND status = 'available'
             ORDER BY available_order NULLS FIRST, identity
             LIMIT p_limit
             FOR UPDATE SKIP LOCKED) AS longest_idle;
    UPDATE agents SET available_order = nextval('agent_available_order')
     WHERE org = p_org AND identity = ANY (v_ring);
    RETURN v_ring;
END;
$$;

CREATE TRIGGER agents_available_order BEFORE UPDATE OF status ON agents
    FOR EACH ROW EXECUTE FUNCTION callpark_agent_became_available();
CREATE INDEX agents_available ON agents (org, available_order) WHERE status = 'available';
