-- no-transaction
-- Filters on the sid claim alone.
CREATE INDEX CONCURRENTLY IF NOT EXISTS upstream_oauth_authorization_sessions_sid_idx
    ON upstream_oauth_authorization_sessions ((id_token_claims ->> 'sid'));
