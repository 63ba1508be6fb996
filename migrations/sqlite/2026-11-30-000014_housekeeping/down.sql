DROP TABLE leases;
DROP TRIGGER grants_deleted;
CREATE TRIGGER grants_deleted AFTER DELETE ON grants
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('grant:' || OLD.id);
END;
DROP INDEX password_attempts_window;
DROP INDEX sessions_expiry;
DROP INDEX refresh_tokens_expiry;
DROP INDEX authorization_codes_expiry;
