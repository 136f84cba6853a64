DROP FUNCTION callpark_observe_leg(text, integer, boolean);
ALTER TABLE browser_legs DROP COLUMN ended;
ALTER TABLE browser_legs DROP COLUMN sequence;
