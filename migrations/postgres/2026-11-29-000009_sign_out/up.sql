-- Sign-out: where a service may send users after it signs them out, where
-- idhub tells it a session ended (back-channel logout), and the public
-- session id (`sid`) that ID tokens and logout tokens carry, kept on the
-- grants a session signed into.
ALTER TABLE services ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE services ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE sessions ADD COLUMN sid TEXT;
ALTER TABLE grants ADD COLUMN sid TEXT;
CREATE INDEX grants_sid ON grants (sid);
-- Sessions that ended, until an instance has told the services they signed
-- into (back-channel logout). Whoever deletes a row delivers it.
CREATE TABLE ended_sessions (
    sid TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    ended_at TIMESTAMP NOT NULL
);
