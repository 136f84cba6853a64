DROP FUNCTION callpark_record_leg_status(text, text, text, integer, boolean);
ALTER TABLE browser_legs DROP COLUMN ended;
ALTER TABLE browser_legs DROP COLUMN sequence;
