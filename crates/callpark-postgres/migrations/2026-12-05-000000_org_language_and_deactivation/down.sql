ALTER TABLE organisations DROP COLUMN active;
ALTER TABLE organisations DROP COLUMN language;
