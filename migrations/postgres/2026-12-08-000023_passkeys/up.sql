-- Passkeys (WebAuthn credentials): the credential as webauthn-rs keeps it
-- (public key, signature counter, flags; nothing secret), its id to find
-- it at sign-in, a name its owner chose, and when it was last used.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);
-- A WebAuthn ceremony under way: its challenge state, kept here so any
-- instance can finish it and each is finished once (the row is deleted).
-- The browser holds the handle; its digest is the key.
CREATE TABLE passkey_ceremonies (
    handle_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires TIMESTAMP NOT NULL
);
