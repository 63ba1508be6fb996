-- Revocations are recorded like changes to services and users, so every
-- process keeps what has been revoked in memory and judges access tokens
-- without a read per request.
CREATE TRIGGER revoked_access_tokens_inserted AFTER INSERT ON revoked_access_tokens
BEGIN
    INSERT INTO cache_changes (entity)
        VALUES ('token:' || NEW.jti || ':' || CAST(strftime('%s', NEW.expires_at) AS INTEGER));
END;
CREATE TRIGGER grants_revoked AFTER UPDATE OF revoked_at ON grants
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('grant:' || OLD.id);
END;
CREATE TRIGGER grants_deleted AFTER DELETE ON grants
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('grant:' || OLD.id);
END;

-- A process starting reads the grants revoked lately.
CREATE INDEX grants_revoked_at ON grants (revoked_at) WHERE revoked_at IS NOT NULL;
