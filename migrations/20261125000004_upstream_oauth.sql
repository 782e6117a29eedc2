-- Upstream OAuth 2.0 family: external identity providers, links to local users, authorization sessions.

-- Configured upstream providers. Enumerations are stored as their text; ui_order sorts allEnabled().
CREATE TABLE upstream_oauth_providers (
    upstream_oauth_provider_id UUID NOT NULL PRIMARY KEY,
    issuer TEXT,
    human_name TEXT,
    brand_name TEXT,
    discovery_mode TEXT NOT NULL DEFAULT 'oidc'
        CHECK (discovery_mode IN ('oidc', 'insecure', 'disabled')),
    pkce_mode TEXT NOT NULL DEFAULT 'auto' CHECK (pkce_mode IN ('auto', 's256', 'disabled')),
    jwks_uri_override TEXT,
    authorization_endpoint_override TEXT,
    token_endpoint_override TEXT,
    userinfo_endpoint_override TEXT,
    scope_list TEXT[] NOT NULL,
    fetch_userinfo BOOLEAN NOT NULL DEFAULT FALSE,
    userinfo_signed_response_alg TEXT,
    client_id TEXT NOT NULL,
    encrypted_client_secret TEXT,
    token_endpoint_signing_alg TEXT,
    token_endpoint_auth_method TEXT NOT NULL CHECK (token_endpoint_auth_method IN
        ('none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt',
         'sign_in_with_apple')),
    id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256',
    response_mode TEXT CHECK (response_mode IN ('query', 'form_post')),
    created_at TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ,
    claims_imports JSONB NOT NULL DEFAULT '{}',
    -- extra authorization-request parameters, a JSON array of [name, value] pairs
    additional_parameters JSONB NOT NULL DEFAULT '[]',
    forward_login_hint BOOLEAN NOT NULL DEFAULT FALSE,
    on_backchannel_logout TEXT NOT NULL DEFAULT 'do_nothing'
        CHECK (on_backchannel_logout IN ('do_nothing', 'logout_browser_only', 'logout_all')),
    registration_token_required BOOLEAN NOT NULL DEFAULT FALSE,
    ui_order INTEGER NOT NULL DEFAULT 0
);

-- Links between an upstream account (provider, subject) and a local user (none until associated).
CREATE TABLE upstream_oauth_links (
    upstream_oauth_link_id UUID NOT NULL PRIMARY KEY,
    upstream_oauth_provider_id UUID NOT NULL
        REFERENCES upstream_oauth_providers (upstream_oauth_provider_id),
    user_id UUID REFERENCES users (user_id),
    subject TEXT NOT NULL,
    human_account_name TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT upstream_oauth_links_provider_subject_unique UNIQUE (upstream_oauth_provider_id, subject)
);

-- Authorization attempts against an upstream provider. State = (upstream_oauth_link_id, completed_at,
-- consumed_at, unlinked_at). Deleted with their link; a gone browser session is cleared (then orphaned).
CREATE TABLE upstream_oauth_authorization_sessions (
    upstream_oauth_authorization_session_id UUID NOT NULL PRIMARY KEY,
    upstream_oauth_provider_id UUID NOT NULL
        REFERENCES upstream_oauth_providers (upstream_oauth_provider_id),
    upstream_oauth_link_id UUID
        REFERENCES upstream_oauth_links (upstream_oauth_link_id) ON DELETE CASCADE,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    -- the OAuth "state" parameter
    state TEXT NOT NULL,
    code_challenge_verifier TEXT,
    nonce TEXT,
    id_token TEXT,
    id_token_claims JSONB,
    extra_callback_parameters JSONB,
    userinfo JSONB,
    created_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    consumed_at TIMESTAMPTZ,
    unlinked_at TIMESTAMPTZ,
    CONSTRAINT upstream_oauth_authorization_sessions_state_unique UNIQUE (state)
);

-- The user family refers to upstream sessions; a deleted upstream session leaves those rows in place.
ALTER TABLE user_session_authentications
    ADD CONSTRAINT user_session_authentications_upstream_session_fkey
    FOREIGN KEY (upstream_oauth_authorization_session_id)
    REFERENCES upstream_oauth_authorization_sessions (upstream_oauth_authorization_session_id)
    ON DELETE SET NULL;

ALTER TABLE user_registrations
    ADD CONSTRAINT user_registrations_upstream_session_fkey
    FOREIGN KEY (upstream_oauth_authorization_session_id)
    REFERENCES upstream_oauth_authorization_sessions (upstream_oauth_authorization_session_id)
    ON DELETE SET NULL;
