-- no-transaction
-- Authorization sessions consumed by a browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS upstream_oauth_authorization_sessions_user_session_fk
    ON upstream_oauth_authorization_sessions (user_session_id);
