-- no-transaction
-- Case-insensitive email lookups and filters.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_emails_lower_email_idx
    ON user_emails (LOWER(email));
