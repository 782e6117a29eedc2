-- no-transaction
-- Access tokens of a session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_access_tokens_oauth2_session_id_fk
    ON oauth2_access_tokens (oauth2_session_id);
