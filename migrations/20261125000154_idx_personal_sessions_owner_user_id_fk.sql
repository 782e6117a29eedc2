-- no-transaction
-- Personal sessions owned by a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_sessions_owner_user_id_fk
    ON personal_sessions (owner_user_id);
