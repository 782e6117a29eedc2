-- no-transaction
-- Cleanup of consumed refresh tokens (key consumed_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_refresh_tokens_consumed_at_idx
    ON oauth2_refresh_tokens (consumed_at) WHERE consumed_at IS NOT NULL;
