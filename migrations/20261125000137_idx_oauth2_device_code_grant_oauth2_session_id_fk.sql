-- no-transaction
-- Foreign key to the OAuth2 session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_device_code_grant_oauth2_session_id_fk
    ON oauth2_device_code_grant (oauth2_session_id);
