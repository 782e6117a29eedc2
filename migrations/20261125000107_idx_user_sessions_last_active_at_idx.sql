-- no-transaction
-- Activity filters and inactive-IP cleanup on browser sessions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_sessions_last_active_at_idx
    ON user_sessions (last_active_at);
