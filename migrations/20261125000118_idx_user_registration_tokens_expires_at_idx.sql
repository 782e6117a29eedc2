-- no-transaction
-- Expiry filters on registration tokens.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_registration_tokens_expires_at_idx
    ON user_registration_tokens (expires_at);
