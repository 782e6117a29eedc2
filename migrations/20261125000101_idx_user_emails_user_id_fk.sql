-- no-transaction
-- Emails of a user (all, filters on user).
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_emails_user_id_fk
    ON user_emails (user_id);
