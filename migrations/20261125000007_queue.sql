-- Queue family: background-job workers, leader lease, jobs and recurring schedules.

-- Registered workers, with their liveness times.
CREATE TABLE queue_workers (
    queue_worker_id UUID NOT NULL PRIMARY KEY,
    registered_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    shutdown_at TIMESTAMPTZ
);

-- The leader lease: at most one row (active is always TRUE and unique). Unlogged: a lease does not
-- need to survive a crash.
CREATE UNLOGGED TABLE queue_leader (
    active BOOLEAN NOT NULL DEFAULT TRUE,
    elected_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    queue_worker_id UUID NOT NULL REFERENCES queue_workers (queue_worker_id),
    CONSTRAINT queue_leader_active_unique UNIQUE (active),
    CONSTRAINT queue_leader_active CHECK (active IS TRUE)
);

-- Recurring-job schedules and the job each one scheduled last (cleared when that job is cleaned up).
-- last_scheduled_job_id gets its FK after queue_jobs exists.
CREATE TABLE queue_schedules (
    schedule_name TEXT NOT NULL PRIMARY KEY,
    last_scheduled_at TIMESTAMPTZ,
    last_scheduled_job_id UUID
);

-- The job queue. Status is text with a CHECK (MAS uses a Postgres enum type here).
CREATE TABLE queue_jobs (
    queue_job_id UUID NOT NULL PRIMARY KEY,
    queue_name TEXT NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    metadata JSONB NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'running', 'completed', 'failed', 'scheduled', 'lost')),
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    started_by UUID REFERENCES queue_workers (queue_worker_id),
    completed_at TIMESTAMPTZ,
    failed_at TIMESTAMPTZ,
    failed_reason TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    -- the retry of this job; cleared when the retry is cleaned up
    next_attempt_id UUID REFERENCES queue_jobs (queue_job_id) ON DELETE SET NULL,
    scheduled_at TIMESTAMPTZ,
    schedule_name TEXT REFERENCES queue_schedules (schedule_name)
);

ALTER TABLE queue_schedules
    ADD CONSTRAINT queue_schedules_last_scheduled_job_id_fkey
    FOREIGN KEY (last_scheduled_job_id) REFERENCES queue_jobs (queue_job_id) ON DELETE SET NULL;

-- Wakes workers when a job becomes available; identical payloads are coalesced by Postgres.
CREATE FUNCTION queue_job_notify() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status = 'available' THEN
        PERFORM pg_notify('queue_available', json_build_object('queue', NEW.queue_name)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER queue_job_notify_trigger
    AFTER INSERT OR UPDATE OF status ON queue_jobs
    FOR EACH ROW
    EXECUTE FUNCTION queue_job_notify();
