-- User family: accounts, emails, passwords, browser sessions, recovery, registrations, tokens, terms.
-- Ids are ULIDs stored as uuid (same 16 bytes), so primary-key order is creation order.
-- Enumerations are text columns with CHECK constraints throughout this schema.

-- Accounts; the username is unique with its exact case (case-insensitive lookups use an expression index).
CREATE TABLE users (
    user_id UUID NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    locked_at TIMESTAMPTZ,
    deactivated_at TIMESTAMPTZ,
    can_request_admin BOOLEAN NOT NULL DEFAULT FALSE,
    is_guest BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT users_username_unique UNIQUE (username)
);

-- Third-party ids (e.g. phone numbers imported from Synapse) that this service does not support.
CREATE TABLE user_unsupported_third_party_ids (
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    medium TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, medium, address)
);

-- Email addresses of users; one row per (user, exact address).
CREATE TABLE user_emails (
    user_email_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id),
    email TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_emails_user_id_email_unique UNIQUE (user_id, email)
);

-- Append-only password history; the active password is the user's newest row.
CREATE TABLE user_passwords (
    user_password_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id),
    hashed_password TEXT NOT NULL,
    -- hashing-scheme version, a 16-bit unsigned number
    version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 65535),
    upgraded_from_id UUID REFERENCES user_passwords (user_password_id),
    created_at TIMESTAMPTZ NOT NULL
);

-- Browser (web login) sessions.
CREATE TABLE user_sessions (
    user_session_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id),
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    user_agent TEXT,
    last_active_at TIMESTAMPTZ,
    last_active_ip INET
);

-- Authentications performed within a browser session: by password, by upstream provider, or neither (unknown).
-- The method columns are cleared, not cascaded, when their target goes, so the row reads as "unknown".
-- The FK on upstream_oauth_authorization_session_id is added by the upstream OAuth migration.
CREATE TABLE user_session_authentications (
    user_session_authentication_id UUID NOT NULL PRIMARY KEY,
    user_session_id UUID NOT NULL REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    user_password_id UUID REFERENCES user_passwords (user_password_id) ON DELETE SET NULL,
    upstream_oauth_authorization_session_id UUID
);

-- Password-recovery sessions, started from an email address.
CREATE TABLE user_recovery_sessions (
    user_recovery_session_id UUID NOT NULL PRIMARY KEY,
    email TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    ip_address INET,
    locale TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ
);

-- Recovery tickets sent to one address of a recovery session; they go with their session or their address.
CREATE TABLE user_recovery_tickets (
    user_recovery_ticket_id UUID NOT NULL PRIMARY KEY,
    user_recovery_session_id UUID NOT NULL
        REFERENCES user_recovery_sessions (user_recovery_session_id) ON DELETE CASCADE,
    user_email_id UUID NOT NULL REFERENCES user_emails (user_email_id) ON DELETE CASCADE,
    ticket TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_recovery_tickets_ticket_unique UNIQUE (ticket)
);

-- Invitation tokens that allow registration.
CREATE TABLE user_registration_tokens (
    user_registration_token_id UUID NOT NULL PRIMARY KEY,
    token TEXT NOT NULL,
    usage_limit INTEGER,
    times_used INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT user_registration_tokens_token_unique UNIQUE (token)
);

-- Registrations being built step by step.
-- email_authentication_id gets its FK below (the two tables reference each other);
-- upstream_oauth_authorization_session_id gets its FK in the upstream OAuth migration.
CREATE TABLE user_registrations (
    user_registration_id UUID NOT NULL PRIMARY KEY,
    ip_address INET,
    user_agent TEXT,
    post_auth_action JSONB,
    username TEXT NOT NULL,
    display_name TEXT,
    terms_url TEXT,
    email_authentication_id UUID,
    user_registration_token_id UUID
        REFERENCES user_registration_tokens (user_registration_token_id) ON DELETE SET NULL,
    upstream_oauth_authorization_session_id UUID,
    hashed_password TEXT,
    hashed_password_version INTEGER,
    created_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
);

-- Email-code authentications, for a browser session or for a registration (deleted with the registration).
CREATE TABLE user_email_authentications (
    user_email_authentication_id UUID NOT NULL PRIMARY KEY,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE SET NULL,
    user_registration_id UUID REFERENCES user_registrations (user_registration_id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
);

ALTER TABLE user_registrations
    ADD CONSTRAINT user_registrations_email_authentication_id_fkey
    FOREIGN KEY (email_authentication_id)
    REFERENCES user_email_authentications (user_email_authentication_id) ON DELETE SET NULL;

-- Codes sent for an email authentication (several if re-sent); unique per (authentication, code).
CREATE TABLE user_email_authentication_codes (
    user_email_authentication_code_id UUID NOT NULL PRIMARY KEY,
    user_email_authentication_id UUID NOT NULL
        REFERENCES user_email_authentications (user_email_authentication_id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_email_authentication_codes_auth_id_code_unique
        UNIQUE (user_email_authentication_id, code)
);

-- Terms of service accepted by users; one row per (user, terms URL).
CREATE TABLE user_terms (
    user_terms_id UUID NOT NULL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (user_id),
    terms_url TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT user_terms_user_id_terms_url_unique UNIQUE (user_id, terms_url)
);
