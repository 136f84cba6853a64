CREATE INDEX parked_calls_history ON parked_calls (org, parked_at);
DROP FUNCTION callpark_apply_and_set_agent(uuid, text, bigint, jsonb, text, timestamptz, text, text, text, text);
DROP FUNCTION callpark_notify_all(text[]);
DROP FUNCTION callpark_link_browser_leg(text, text, text);
DROP FUNCTION callpark_record_call(text, text, text, text);
DROP FUNCTION callpark_set_agent_status(text, text, text, text);
