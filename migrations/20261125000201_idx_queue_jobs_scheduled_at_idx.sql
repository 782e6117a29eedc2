-- no-transaction
-- Moving due scheduled jobs to available.
CREATE INDEX CONCURRENTLY IF NOT EXISTS queue_jobs_scheduled_at_idx
    ON queue_jobs (scheduled_at) WHERE status = 'scheduled';
