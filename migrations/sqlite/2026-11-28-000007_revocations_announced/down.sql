DROP INDEX grants_revoked_at;
DROP TRIGGER grants_deleted;
DROP TRIGGER grants_revoked;
DROP TRIGGER revoked_access_tokens_inserted;
