DROP TABLE leases;
DROP TRIGGER grants_announce_deleted ON grants;
CREATE TRIGGER grants_announce_deleted AFTER DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_change('grant');
DROP INDEX password_attempts_window;
DROP INDEX sessions_expiry;
DROP INDEX refresh_tokens_expiry;
DROP INDEX authorization_codes_expiry;
