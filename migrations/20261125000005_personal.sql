-- Personal tokens family: long-lived sessions behind personal access tokens.

-- Personal sessions, owned by exactly one of a user or an OAuth2 client, acting as actor_user_id.
CREATE TABLE personal_sessions (
    personal_session_id UUID NOT NULL PRIMARY KEY,
    owner_user_id UUID REFERENCES users (user_id),
    owner_oauth2_client_id UUID REFERENCES oauth2_clients (oauth2_client_id),
    actor_user_id UUID NOT NULL REFERENCES users (user_id),
    human_name TEXT NOT NULL,
    scope_list TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_active_at TIMESTAMPTZ,
    last_active_ip INET,
    CONSTRAINT personal_sessions_exactly_one_owner
        CHECK ((owner_user_id IS NULL) <> (owner_oauth2_client_id IS NULL))
);

-- Personal access tokens, stored only as the SHA-256 digest of the token text.
CREATE TABLE personal_access_tokens (
    personal_access_token_id UUID NOT NULL PRIMARY KEY,
    personal_session_id UUID NOT NULL REFERENCES personal_sessions (personal_session_id),
    access_token_sha256 BYTEA NOT NULL CHECK (octet_length(access_token_sha256) = 32),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT personal_access_tokens_access_token_sha256_unique UNIQUE (access_token_sha256)
);

-- A session has at most one unrevoked token: adding a second one is a constraint violation.
CREATE UNIQUE INDEX personal_access_tokens_one_active_per_session
    ON personal_access_tokens (personal_session_id)
    WHERE revoked_at IS NULL;
