ALTER TABLE authorization_codes DROP COLUMN offline;
DROP TABLE consents;
DROP TABLE sessions;
