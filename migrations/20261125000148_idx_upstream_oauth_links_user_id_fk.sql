-- no-transaction
-- Links of a user, and orphaned links (no user).
CREATE INDEX CONCURRENTLY IF NOT EXISTS upstream_oauth_links_user_id_fk
    ON upstream_oauth_links (user_id);
