-- no-transaction
-- Foreign key to the upstream session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_registrations_upstream_session_fk
    ON user_registrations (upstream_oauth_authorization_session_id);
