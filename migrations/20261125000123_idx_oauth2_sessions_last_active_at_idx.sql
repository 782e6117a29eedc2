-- no-transaction
-- Activity filters and inactive-IP cleanup on OAuth2 sessions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_last_active_at_idx
    ON oauth2_sessions (last_active_at);
