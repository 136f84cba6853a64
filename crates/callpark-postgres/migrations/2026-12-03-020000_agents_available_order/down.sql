DROP FUNCTION callpark_agents_to_ring(text, integer);
DROP TRIGGER agents_available_order ON agents;
DROP FUNCTION callpark_agent_became_available();
ALTER TABLE agents DROP COLUMN available_order;
DROP SEQUENCE agent_available_order;
