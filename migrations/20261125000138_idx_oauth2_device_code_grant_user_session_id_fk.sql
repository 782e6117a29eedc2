-- no-transaction
-- Foreign key to the browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_device_code_grant_user_session_id_fk
    ON oauth2_device_code_grant (user_session_id);
