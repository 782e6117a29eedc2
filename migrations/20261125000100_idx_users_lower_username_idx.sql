-- no-transaction
-- Case-insensitive username lookups (findByUsername, exists).
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_lower_username_idx
    ON users (LOWER(username));
