-- Pushed authorization requests (RFC 9126): the parameters a client pushed,
-- by the hash of the request_uri it was given, used once within a minute by
-- whichever instance serves the authorization request; and the services
-- that must push theirs.
CREATE TABLE pushed_requests (
    uri_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX pushed_requests_expiry ON pushed_requests (expires_at);
ALTER TABLE services ADD COLUMN par_required BOOLEAN NOT NULL DEFAULT FALSE;
