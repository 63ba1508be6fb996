-- Times are naive UTC set by the application; ids are UUID strings.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    login TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    guest BOOLEAN NOT NULL DEFAULT FALSE,
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_login_lower ON users (lower(login));
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT,
    name TEXT NOT NULL,
    home_url TEXT,
    base_urls TEXT NOT NULL,
    application_name TEXT,
    description TEXT,
    vendor TEXT,
    version TEXT,
    icon_url TEXT,
    secret_hash TEXT NOT NULL,
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    consent_required BOOLEAN NOT NULL DEFAULT TRUE,
    pkce_required BOOLEAN NOT NULL DEFAULT FALSE,
    public_client BOOLEAN NOT NULL DEFAULT FALSE,
    impersonation BOOLEAN NOT NULL DEFAULT FALSE,
    implicit_flow_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    password_flow_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    client_credentials_flow_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created TIMESTAMP NOT NULL,
    secret_rotated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX services_key ON services (key);
CREATE INDEX services_name_lower ON services (lower(name));

CREATE TABLE service_redirect_uris (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    uri TEXT NOT NULL,
    PRIMARY KEY (service_id, position)
);
CREATE INDEX service_redirect_uris_uri ON service_redirect_uris (uri);

CREATE TABLE permanent_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_access TIMESTAMP
);
CREATE UNIQUE INDEX permanent_tokens_hash ON permanent_tokens (token_hash);
CREATE UNIQUE INDEX permanent_tokens_user_name ON permanent_tokens (user_id, name);
