DROP TABLE ended_sessions;
DROP INDEX grants_sid;
ALTER TABLE grants DROP COLUMN sid;
ALTER TABLE sessions DROP COLUMN sid;
ALTER TABLE services DROP COLUMN backchannel_logout_uri;
ALTER TABLE services DROP COLUMN post_logout_redirect_uris;
