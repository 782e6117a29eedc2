-- no-transaction
-- Foreign key to the OAuth2 session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_authorization_grants_oauth2_session_id_fk
    ON oauth2_authorization_grants (oauth2_session_id);
