ALTER TABLE services DROP COLUMN verified;
