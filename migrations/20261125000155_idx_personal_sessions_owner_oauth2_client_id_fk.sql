-- no-transaction
-- Personal sessions owned by a client.
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_sessions_owner_oauth2_client_id_fk
    ON personal_sessions (owner_oauth2_client_id);
