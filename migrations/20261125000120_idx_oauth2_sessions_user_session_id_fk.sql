-- no-transaction
-- OAuth2 sessions of a browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_user_session_id_fk
    ON oauth2_sessions (user_session_id);
