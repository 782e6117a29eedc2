-- no-transaction
-- Browser sessions of a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_sessions_user_id_fk
    ON user_sessions (user_id);
