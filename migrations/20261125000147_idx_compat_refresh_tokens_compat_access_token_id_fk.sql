-- no-transaction
-- Foreign key to the access token.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_refresh_tokens_compat_access_token_id_fk
    ON compat_refresh_tokens (compat_access_token_id);
