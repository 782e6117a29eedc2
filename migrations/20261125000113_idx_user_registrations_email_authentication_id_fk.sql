-- no-transaction
-- Foreign key to the email authentication.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_registrations_email_authentication_id_fk
    ON user_registrations (email_authentication_id);
