-- no-transaction
-- Cleanup of revoked refresh tokens (key revoked_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_refresh_tokens_revoked_at_idx
    ON oauth2_refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
