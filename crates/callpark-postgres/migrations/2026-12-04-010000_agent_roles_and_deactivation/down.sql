DROP TRIGGER agents_inactive_offline ON agents;
DROP FUNCTION callpark_inactive_agents_stay_offline();
ALTER TABLE agents DROP COLUMN active;
ALTER TABLE agents DROP COLUMN role;
