-- no-transaction
-- Tokens of a personal session, revoked or not.
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_access_tokens_personal_session_id_fk
    ON personal_access_tokens (personal_session_id);
