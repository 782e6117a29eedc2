-- no-transaction
-- Activity filters and inactive-IP cleanup on compat sessions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_sessions_last_active_at_idx
    ON compat_sessions (last_active_at);
