-- no-transaction
-- Tickets of a recovery session.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_recovery_tickets_user_recovery_session_id_fk
    ON user_recovery_tickets (user_recovery_session_id);
