-- no-transaction
-- SSO logins fulfilled by a browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_sso_logins_user_session_id_fk
    ON compat_sso_logins (user_session_id);
