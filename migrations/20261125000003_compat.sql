-- Compat family: sessions, SSO logins and tokens of the legacy Matrix client-server login API.

-- Sessions created by the legacy login API; device ids are not unique across sessions.
-- Browser-session cleanup skips referenced browser sessions, so user_session_id does not cascade.
CREATE TABLE compat_sessions (
    compat_session_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id),
    device_id TEXT,
    human_name TEXT,
    user_session_id UUID REFERENCES user_sessions (user_session_id),
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    is_synapse_admin BOOLEAN NOT NULL DEFAULT FALSE,
    user_agent TEXT,
    last_active_at TIMESTAMPTZ,
    last_active_ip INET
);

-- Single-sign-on login tokens: fulfilled by a browser session, then exchanged into a compat session;
-- deleted with either.
CREATE TABLE compat_sso_logins (
    compat_sso_login_id UUID NOT NULL PRIMARY KEY,
    redirect_uri TEXT NOT NULL,
    login_token TEXT NOT NULL,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    compat_session_id UUID REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    fulfilled_at TIMESTAMPTZ,
    exchanged_at TIMESTAMPTZ,
    CONSTRAINT compat_sso_logins_login_token_unique UNIQUE (login_token)
);

-- Legacy access tokens; deleted with their session.
CREATE TABLE compat_access_tokens (
    compat_access_token_id UUID NOT NULL PRIMARY KEY,
    compat_session_id UUID NOT NULL REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    access_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    CONSTRAINT compat_access_tokens_access_token_unique UNIQUE (access_token)
);

-- Legacy refresh tokens; deleted with their session or their access token.
CREATE TABLE compat_refresh_tokens (
    compat_refresh_token_id UUID NOT NULL PRIMARY KEY,
    compat_session_id UUID NOT NULL REFERENCES compat_sessions (compat_session_id) ON DELETE CASCADE,
    compat_access_token_id UUID NOT NULL
        REFERENCES compat_access_tokens (compat_access_token_id) ON DELETE CASCADE,
    refresh_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ,
    CONSTRAINT compat_refresh_tokens_refresh_token_unique UNIQUE (refresh_token)
);
