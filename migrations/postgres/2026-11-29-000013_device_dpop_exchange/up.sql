-- The device authorization grant (RFC 8628): each request by the hash of its
-- device code and of its user code, pending until the user allows or denies
-- it on the /device page, then used once by the polling device.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY NOT NULL,
    user_code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    interval_secs INTEGER NOT NULL,
    polled_at TIMESTAMP,
    status TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    grant_id TEXT REFERENCES grants (id) ON DELETE CASCADE,
    auth_time TIMESTAMP,
    sid TEXT
);
CREATE INDEX device_codes_expiry ON device_codes (expires_at);
-- One table of single-use JWT ids: client assertions and DPoP proofs alike.
ALTER TABLE used_client_assertions RENAME TO used_jtis;
-- A public client's refresh token bound to its DPoP key (RFC 9449 §5), and
-- a code bound to the key its client named (dpop_jkt, RFC 9449 §10).
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
-- Secrets every instance shares, made on first use: the key of DPoP nonces.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
ALTER TABLE services ADD COLUMN device_flow_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN dpop_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN token_exchange_enabled BOOLEAN NOT NULL DEFAULT FALSE;
