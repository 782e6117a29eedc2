-- no-transaction
-- The SSO login exchanged into a session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_sso_logins_compat_session_id_fk
    ON compat_sso_logins (compat_session_id);
