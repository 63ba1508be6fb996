// Written by hand for both backends; keep in step with migrations/{sqlite,postgres}.
diesel::table! {
    users (id) {
        id -> Text,
        login -> Text,
        name -> Text,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        admin -> Bool,
        guest -> Bool,
        banned -> Bool,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        key -> Nullable<Text>,
        name -> Text,
        home_url -> Nullable<Text>,
        base_urls -> Text,
        application_name -> Nullable<Text>,
        description -> Nullable<Text>,
        vendor -> Nullable<Text>,
        version -> Nullable<Text>,
        icon_url -> Nullable<Text>,
        secret_hash -> Text,
        trusted -> Bool,
        consent_required -> Bool,
        pkce_required -> Bool,
        public_client -> Bool,
        impersonation -> Bool,
        implicit_flow_enabled -> Bool,
        password_flow_enabled -> Bool,
        client_credentials_flow_enabled -> Bool,
        created -> Timestamp,
        secret_rotated -> Timestamp,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        par_required -> Bool,
        device_flow_enabled -> Bool,
        dpop_required -> Bool,
        token_exchange_enabled -> Bool,
        verified -> Bool,
        token_endpoint_auth_method -> Nullable<Text>,
    }
}

diesel::table! {
    service_redirect_uris (service_id, position) {
        service_id -> Text,
        position -> Integer,
        uri -> Text,
    }
}

diesel::table! {
    permanent_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        scope -> Text,
        token_hash -> Text,
        created -> Timestamp,
        last_access -> Nullable<Timestamp>,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        service_id -> Text,
        user_id -> Nullable<Text>,
        scope -> Text,
        created -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        sid -> Nullable<Text>,
        amr -> Nullable<Text>,
        auth_time -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        nonce -> Nullable<Text>,
        auth_time -> Timestamp,
        created -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        offline -> Bool,
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        scope -> Text,
        created -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,        jkt -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key_pem -> Text,
        created -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    revoked_access_tokens (jti) {
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    password_attempts (subject) {
        subject -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        auth_time -> Timestamp,
        created -> Timestamp,
        expires_at -> Timestamp,
        sid -> Nullable<Text>,
        amr -> Text,
    }
}

diesel::table! {
    consents (user_id, service_id) {
        user_id -> Text,
        service_id -> Text,
        scope -> Text,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(service_redirect_uris -> services (service_id));
diesel::joinable!(permanent_tokens -> users (user_id));
diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        kind -> Text,
        actor -> Nullable<Text>,
        service_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    client_registrations (service_id) {
        service_id -> Text,
        token_hash -> Text,
        metadata -> Text,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    pushed_requests (uri_hash) {
        uri_hash -> Text,
        client_id -> Text,
        params -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    used_jtis (jti_hash) {
        jti_hash -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    device_codes (device_code_hash) {
        device_code_hash -> Text,
        user_code_hash -> Text,
        client_id -> Text,
        scope -> Text,
        created -> Timestamp,
        expires_at -> Timestamp,
        interval_secs -> Integer,
        polled_at -> Nullable<Timestamp>,
        status -> Text,
        user_id -> Nullable<Text>,
        grant_id -> Nullable<Text>,
        auth_time -> Nullable<Timestamp>,
        sid -> Nullable<Text>,
    }
}

diesel::table! {
    ended_sessions (sid) {
        sid -> Text,
        user_id -> Text,
        ended_at -> Timestamp,
    }
}

diesel::table! {
    logout_outbox (jti) {
        jti -> Text,
        sid -> Text,
        user_id -> Text,
        service_id -> Text,
        uri -> Text,
        public_only -> Bool,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        give_up_at -> Timestamp,
        created -> Timestamp,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    user_groups (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
        added -> Timestamp,
    }
}

diesel::table! {
    permissions (id) {
        id -> Text,
        service_id -> Text,
        key -> Text,
        name -> Text,
        description -> Nullable<Text>,
        global -> Bool,
        created -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        key -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    role_permissions (role_id, permission_id) {
        role_id -> Text,
        permission_id -> Text,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        key -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    project_roles (id) {
        id -> Text,
        role_id -> Text,
        project_id -> Text,
        user_id -> Nullable<Text>,
        group_id -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Text,
        secret -> Text,
        confirmed -> Bool,
        last_step -> BigInt,
        created -> Timestamp,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> Text,
        credential_id -> Text,
        name -> Text,
        credential -> Text,
        sign_count -> BigInt,
        backup_eligible -> Bool,
        created -> Timestamp,
        last_used -> Nullable<Timestamp>,
    }
}

diesel::table! {
    passkey_ceremonies (handle_hash) {
        handle_hash -> Text,
        purpose -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        expires -> Timestamp,
    }
}

diesel::table! {
    auth_modules (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        enabled -> Bool,
        ordinal -> Integer,
        auto_create_users -> Bool,
        link_by_email -> Bool,
        settings -> Text,
        secret -> Nullable<Text>,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    identities (id) {
        id -> Text,
        user_id -> Text,
        module_id -> Text,
        subject -> Text,
        login -> Nullable<Text>,
        email -> Nullable<Text>,
        created -> Timestamp,
        last_used -> Nullable<Timestamp>,
    }
}

diesel::table! {
    auth_module_group_mappings (module_id, external, group_id) {
        module_id -> Text,
        external -> Text,
        group_id -> Text,
    }
}

diesel::table! {
    second_factor_required (user_id) {
        user_id -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        used -> Nullable<Timestamp>,
    }
}

diesel::joinable!(group_members -> user_groups (group_id));
diesel::joinable!(permissions -> services (service_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(role_permissions -> permissions (permission_id));
diesel::joinable!(project_roles -> roles (role_id));
diesel::joinable!(project_roles -> projects (project_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(auth_module_group_mappings -> auth_modules (module_id));
diesel::joinable!(identities -> auth_modules (module_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(auth_module_group_mappings -> user_groups (group_id));
diesel::joinable!(grants -> services (service_id));
diesel::joinable!(client_registrations -> services (service_id));
diesel::joinable!(logout_outbox -> services (service_id));
diesel::joinable!(grants -> users (user_id));
diesel::joinable!(authorization_codes -> grants (grant_id));
diesel::joinable!(refresh_tokens -> grants (grant_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    services,
    service_redirect_uris,
    permanent_tokens,
    grants,
    authorization_codes,
    refresh_tokens,
    signing_keys,
    revoked_access_tokens,
    password_attempts,
    sessions,
    consents,
    ended_sessions,
    logout_outbox,
    client_registrations,
    used_jtis,
    pushed_requests,
    device_codes,
    server_secrets,
    leases,
    user_groups,
    group_members,
    permissions,
    roles,
    role_permissions,
    projects,
    project_roles,
    totp_factors,
    recovery_codes,
    second_factor_required,
    passkeys,
    passkey_ceremonies,
    auth_modules,
    auth_module_group_mappings,
    identities,
);
