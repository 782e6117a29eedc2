-- no-transaction
-- Compat sessions of a browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_sessions_user_session_id_fk
    ON compat_sessions (user_session_id);
