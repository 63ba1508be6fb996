-- Housekeeping deletes expired rows a batch at a time, oldest first: these
-- indexes find a batch without reading the whole table.
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX password_attempts_window ON password_attempts (window_start);

-- A grant deleted while live is a revocation, announced to every process;
-- one revoked long ago (what housekeeping deletes) was announced already.
DROP TRIGGER grants_deleted;
CREATE TRIGGER grants_deleted AFTER DELETE ON grants
    WHEN OLD.revoked_at IS NULL
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('grant:' || OLD.id);
END;

-- Work one instance at a time does: held by whoever last renewed it, until
-- it expires.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
