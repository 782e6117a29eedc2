-- no-transaction
-- Foreign key to the browser session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_authorization_grants_user_session_id_fk
    ON oauth2_authorization_grants (user_session_id);
