-- no-transaction
-- Personal sessions acting as a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_sessions_actor_user_id_fk
    ON personal_sessions (actor_user_id);
