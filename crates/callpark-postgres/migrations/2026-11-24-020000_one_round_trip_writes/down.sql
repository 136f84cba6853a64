DROP FUNCTION callpark_notify_all(text[]);
DROP FUNCTION callpark_link_browser_leg(text, text, text);
DROP FUNCTION callpark_record_call(text, text, text, text);
DROP FUNCTION callpark_set_agent_status(text, text, text, text);
