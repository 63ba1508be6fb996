DROP INDEX grants_revoked_at;
DROP TRIGGER grants_announce_deleted ON grants;
DROP TRIGGER grants_announce_revoked ON grants;
DROP TRIGGER revoked_access_tokens_announce ON revoked_access_tokens;
DROP FUNCTION idhub_announce_revoked_token();
