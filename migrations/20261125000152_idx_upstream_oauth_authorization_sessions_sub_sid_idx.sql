-- no-transaction
-- Filters on the sub / sid claims of the ID token.
CREATE INDEX CONCURRENTLY IF NOT EXISTS upstream_oauth_authorization_sessions_sub_sid_idx
    ON upstream_oauth_authorization_sessions ((id_token_claims ->> 'sub'), (id_token_claims ->> 'sid'));
