-- no-transaction
-- Foreign key to the upgraded password.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_passwords_upgraded_from_id_fk
    ON user_passwords (upgraded_from_id);
