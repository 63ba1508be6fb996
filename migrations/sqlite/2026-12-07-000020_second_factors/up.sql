-- A user's TOTP factor (RFC 6238): the secret, encrypted like the signing
-- keys when a key-encryption key is set; unconfirmed until the first code
-- is typed; the last step whose code was accepted, so each code is good
-- once. And the single-use recovery codes, stored hashed.
CREATE TABLE totp_factors (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    last_step BIGINT NOT NULL DEFAULT 0,
    created TIMESTAMP NOT NULL
);
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);
