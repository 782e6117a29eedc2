-- OAuth 2.0 family: clients, sessions, access and refresh tokens, authorization and device-code grants.

-- Registered OAuth 2.0 clients (dynamic registrations and static clients from the configuration).
-- Grant types are four booleans, read back in GrantType order.
CREATE TABLE oauth2_clients (
    oauth2_client_id UUID NOT NULL PRIMARY KEY,
    metadata_digest TEXT,
    encrypted_client_secret TEXT,
    application_type TEXT CHECK (application_type IN ('web', 'native')),
    redirect_uris TEXT[] NOT NULL DEFAULT '{}',
    grant_type_authorization_code BOOLEAN NOT NULL DEFAULT FALSE,
    grant_type_refresh_token BOOLEAN NOT NULL DEFAULT FALSE,
    grant_type_client_credentials BOOLEAN NOT NULL DEFAULT FALSE,
    grant_type_device_code BOOLEAN NOT NULL DEFAULT FALSE,
    client_name TEXT,
    logo_uri TEXT,
    client_uri TEXT,
    policy_uri TEXT,
    tos_uri TEXT,
    jwks JSONB,
    jwks_uri TEXT,
    id_token_signed_response_alg TEXT,
    userinfo_signed_response_alg TEXT,
    token_endpoint_auth_method TEXT CHECK (token_endpoint_auth_method IN
        ('none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt')),
    token_endpoint_auth_signing_alg TEXT,
    initiate_login_uri TEXT,
    is_static BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT oauth2_clients_metadata_digest_unique UNIQUE (metadata_digest)
);

-- OAuth 2.0 sessions, one per client login (no user for client credentials).
-- Browser-session cleanup skips referenced browser sessions, so user_session_id does not cascade.
CREATE TABLE oauth2_sessions (
    oauth2_session_id UUID NOT NULL PRIMARY KEY,
    user_id UUID REFERENCES users (user_id),
    user_session_id UUID REFERENCES user_sessions (user_session_id),
    oauth2_client_id UUID NOT NULL REFERENCES oauth2_clients (oauth2_client_id),
    scope_list TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    user_agent TEXT,
    last_active_at TIMESTAMPTZ,
    last_active_ip INET,
    human_name TEXT
);

-- OAuth 2.0 access tokens (token text stored as is); deleted with their session.
CREATE TABLE oauth2_access_tokens (
    oauth2_access_token_id UUID NOT NULL PRIMARY KEY,
    oauth2_session_id UUID NOT NULL REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    access_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    first_used_at TIMESTAMPTZ,
    CONSTRAINT oauth2_access_tokens_access_token_unique UNIQUE (access_token)
);

-- OAuth 2.0 refresh tokens; deleted with their session. Access-token and successor pointers are
-- cleared when their target is deleted (token cleanups delete rows other tokens point to).
CREATE TABLE oauth2_refresh_tokens (
    oauth2_refresh_token_id UUID NOT NULL PRIMARY KEY,
    oauth2_session_id UUID NOT NULL REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    oauth2_access_token_id UUID
        REFERENCES oauth2_access_tokens (oauth2_access_token_id) ON DELETE SET NULL,
    refresh_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    next_oauth2_refresh_token_id UUID
        REFERENCES oauth2_refresh_tokens (oauth2_refresh_token_id) ON DELETE SET NULL,
    CONSTRAINT oauth2_refresh_tokens_refresh_token_unique UNIQUE (refresh_token)
);

-- Authorization-code flow requests. Stage = (fulfilled_at, exchanged_at, cancelled_at, user_session_id,
-- oauth2_session_id). A grant goes with the session it was exchanged into; a gone browser session is cleared.
CREATE TABLE oauth2_authorization_grants (
    oauth2_authorization_grant_id UUID NOT NULL PRIMARY KEY,
    oauth2_client_id UUID NOT NULL REFERENCES oauth2_clients (oauth2_client_id),
    redirect_uri TEXT NOT NULL,
    scope_list TEXT[] NOT NULL,
    state TEXT,
    nonce TEXT,
    response_mode TEXT NOT NULL CHECK (response_mode IN ('query', 'fragment', 'form_post')),
    response_type_code BOOLEAN NOT NULL,
    response_type_id_token BOOLEAN NOT NULL,
    authorization_code TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT CHECK (code_challenge_method IN ('plain', 'S256')),
    login_hint TEXT,
    locale TEXT,
    -- the request's raw parameters, a JSON object of strings
    raw_parameters JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    fulfilled_at TIMESTAMPTZ,
    exchanged_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    oauth2_session_id UUID REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    CONSTRAINT oauth2_authorization_grants_authorization_code_unique UNIQUE (authorization_code)
);

-- Device authorization grants (RFC 8628). State = (fulfilled_at, rejected_at, exchanged_at, user_session_id,
-- oauth2_session_id). Short-lived: deleted with their client, browser session or OAuth2 session.
CREATE TABLE oauth2_device_code_grant (
    oauth2_device_code_grant_id UUID NOT NULL PRIMARY KEY,
    oauth2_client_id UUID NOT NULL REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    scope_list TEXT[] NOT NULL,
    device_code TEXT NOT NULL,
    user_code TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    fulfilled_at TIMESTAMPTZ,
    rejected_at TIMESTAMPTZ,
    exchanged_at TIMESTAMPTZ,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    oauth2_session_id UUID REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    ip_address INET,
    user_agent TEXT,
    locale TEXT,
    CONSTRAINT oauth2_device_code_grant_device_code_unique UNIQUE (device_code),
    CONSTRAINT oauth2_device_code_grant_user_code_unique UNIQUE (user_code)
);
