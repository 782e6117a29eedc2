-- no-transaction
-- Foreign key to the successor token.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_refresh_tokens_next_oauth2_refresh_token_id_fk
    ON oauth2_refresh_tokens (next_oauth2_refresh_token_id);
