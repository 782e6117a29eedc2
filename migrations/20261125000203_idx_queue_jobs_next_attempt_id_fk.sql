-- no-transaction
-- Foreign key to the retry of a job.
CREATE INDEX CONCURRENTLY IF NOT EXISTS queue_jobs_next_attempt_id_fk
    ON queue_jobs (next_attempt_id);
