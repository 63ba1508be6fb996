DROP TABLE used_client_assertions;
ALTER TABLE services DROP COLUMN jwks_uri;
ALTER TABLE services DROP COLUMN jwks;
