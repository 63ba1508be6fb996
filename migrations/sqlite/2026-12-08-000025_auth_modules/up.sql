-- Auth modules (Hub's name): ways to sign in through another provider or
-- a directory. `kind` is oidc, oauth2 or ldap; `settings` holds the
-- kind's own fields as JSON (nothing secret); `secret` the client secret
-- or bind password, sealed with the key-encryption key when one is set,
-- never returned. Group mappings put users into idhub groups by the
-- provider's or directory's group names.
CREATE TABLE auth_modules (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    ordinal INTEGER NOT NULL DEFAULT 0,
    auto_create_users BOOLEAN NOT NULL DEFAULT FALSE,
    link_by_email BOOLEAN NOT NULL DEFAULT FALSE,
    settings TEXT NOT NULL,
    secret TEXT,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE TABLE auth_module_group_mappings (
    module_id TEXT NOT NULL REFERENCES auth_modules (id) ON DELETE CASCADE,
    external TEXT NOT NULL,
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (module_id, external, group_id)
);
