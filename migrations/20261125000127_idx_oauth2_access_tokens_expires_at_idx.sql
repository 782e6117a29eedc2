-- no-transaction
-- Cleanup of expired access tokens (key expires_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_access_tokens_expires_at_idx
    ON oauth2_access_tokens (expires_at) WHERE expires_at IS NOT NULL;
