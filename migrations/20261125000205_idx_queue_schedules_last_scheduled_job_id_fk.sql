-- no-transaction
-- Foreign key to the last scheduled job.
CREATE INDEX CONCURRENTLY IF NOT EXISTS queue_schedules_last_scheduled_job_id_fk
    ON queue_schedules (last_scheduled_job_id);
