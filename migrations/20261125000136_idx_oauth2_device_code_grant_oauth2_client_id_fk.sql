-- no-transaction
-- Device-code grants of a client.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_device_code_grant_oauth2_client_id_fk
    ON oauth2_device_code_grant (oauth2_client_id);
