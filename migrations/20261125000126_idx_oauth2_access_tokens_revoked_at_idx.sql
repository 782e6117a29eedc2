-- no-transaction
-- Cleanup of revoked access tokens (key revoked_at).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_access_tokens_revoked_at_idx
    ON oauth2_access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
