-- Clients registered through RFC 7591: the hash of the registration access
-- token that manages them (RFC 7592) and the metadata the registry has no
-- column for. The service itself is an ordinary row of `services`.
CREATE TABLE client_registrations (
    service_id TEXT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
