-- Browser sessions: the cookie holds a random id; only its SHA-256 is stored,
-- so any instance can serve any request of a session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time TIMESTAMP NOT NULL,
    created TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- What a user allowed a service, so consent is asked once per scope.
CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, service_id)
);

-- Hub's access_type=offline asks for a refresh token without the offline_access scope.
ALTER TABLE authorization_codes ADD COLUMN offline BOOLEAN NOT NULL DEFAULT FALSE;
