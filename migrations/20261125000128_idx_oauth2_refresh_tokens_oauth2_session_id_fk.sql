-- no-transaction
-- Refresh tokens of a session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_refresh_tokens_oauth2_session_id_fk
    ON oauth2_refresh_tokens (oauth2_session_id);
