-- private_key_jwt (RFC 7523): a service's public keys, inline or at a URL,
-- and the ids of client assertions already used (each is accepted once,
-- whichever instance sees it, until it expires).
ALTER TABLE services ADD COLUMN jwks TEXT;
ALTER TABLE services ADD COLUMN jwks_uri TEXT;
CREATE TABLE used_client_assertions (
    jti_hash TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX used_client_assertions_expiry ON used_client_assertions (expires_at);
