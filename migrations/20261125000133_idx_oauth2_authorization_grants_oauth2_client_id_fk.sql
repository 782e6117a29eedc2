-- no-transaction
-- Grants of a client.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_authorization_grants_oauth2_client_id_fk
    ON oauth2_authorization_grants (oauth2_client_id);
