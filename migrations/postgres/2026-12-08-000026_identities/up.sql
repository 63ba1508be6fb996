-- The ways a user signs in through an auth module: kept by the provider's
-- stable subject (never by email), with the login and email it last said.
CREATE TABLE identities (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    module_id TEXT NOT NULL REFERENCES auth_modules (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    login TEXT,
    email TEXT,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    UNIQUE (module_id, subject)
);
CREATE INDEX identities_by_user ON identities (user_id);
