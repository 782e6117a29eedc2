-- no-transaction
-- OAuth2 sessions of a client.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_oauth2_client_id_fk
    ON oauth2_sessions (oauth2_client_id);
