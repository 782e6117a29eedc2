-- no-transaction
-- Activity filters on personal sessions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_sessions_last_active_at_idx
    ON personal_sessions (last_active_at);
