-- no-transaction
-- OAuth2 sessions of a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_user_id_fk
    ON oauth2_sessions (user_id);
