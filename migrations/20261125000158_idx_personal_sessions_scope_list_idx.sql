-- no-transaction
-- Scope and device filters (array containment).
CREATE INDEX CONCURRENTLY IF NOT EXISTS personal_sessions_scope_list_idx
    ON personal_sessions USING GIN (scope_list);
