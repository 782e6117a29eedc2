-- no-transaction
-- Access tokens of a compat session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_access_tokens_compat_session_id_fk
    ON compat_access_tokens (compat_session_id);
