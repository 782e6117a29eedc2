-- no-transaction
-- Foreign key to the access token.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_refresh_tokens_oauth2_access_token_id_fk
    ON oauth2_refresh_tokens (oauth2_access_token_id);
