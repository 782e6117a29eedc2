-- no-transaction
-- Refresh tokens of a compat session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_refresh_tokens_compat_session_id_fk
    ON compat_refresh_tokens (compat_session_id);
