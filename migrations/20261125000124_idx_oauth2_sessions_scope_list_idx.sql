-- no-transaction
-- Scope and device filters (array containment).
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_sessions_scope_list_idx
    ON oauth2_sessions USING GIN (scope_list);
