-- no-transaction
-- Reserving available jobs of some queues, oldest first.
CREATE INDEX CONCURRENTLY IF NOT EXISTS queue_jobs_status_queue_name_id_idx
    ON queue_jobs (status, queue_name, queue_job_id);
