-- no-transaction
-- Cleanup of finished OAuth2 sessions (key finished_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_finished_at_idx
    ON oauth2_sessions (finished_at) WHERE finished_at IS NOT NULL;
