-- no-transaction
-- The newest password of a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_passwords_user_id_fk
    ON user_passwords (user_id);
