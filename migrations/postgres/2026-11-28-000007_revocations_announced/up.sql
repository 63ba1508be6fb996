-- Revocations are announced like changes to services and users, so every
-- instance keeps what has been revoked in memory and judges access tokens
-- without a read per request.
CREATE FUNCTION idhub_announce_revoked_token() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('idhub_changes',
        'token:' || NEW.jti || ':' || floor(extract(epoch FROM NEW.expires_at))::bigint);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER revoked_access_tokens_announce AFTER INSERT ON revoked_access_tokens
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_revoked_token();
CREATE TRIGGER grants_announce_revoked AFTER UPDATE OF revoked_at ON grants
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION idhub_announce_change('grant');
CREATE TRIGGER grants_announce_deleted AFTER DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_change('grant');

-- An instance starting (or reconnecting) reads the grants revoked lately.
CREATE INDEX grants_revoked_at ON grants (revoked_at) WHERE revoked_at IS NOT NULL;
