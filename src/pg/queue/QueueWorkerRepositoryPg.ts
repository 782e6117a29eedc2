// QueueWorkerRepository on PostgreSQL: the worker registry, the leader lease on the database's clock, and the jobs lost by shutdowns.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"
import { QUEUE_JOBS } from "../../rows/queue/job.js"
import {
  JobIdRow,
  newQueueWorkerRow,
  QUEUE_LEADER,
  QUEUE_WORKERS,
  QueueWorkerRow,
  type LostJob,
  WorkerIdRow,
  workerOf
} from "../../rows/queue/worker.js"
import { type DatabaseError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { deadWorkerCutoff, planLostJobs } from "../../storage/queue/lostJobs.js"
import { QueueWorkerRepository } from "../../storage/queue/QueueWorkerRepository.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { atomically } from "../common/atomic.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const q = repositoryQueries({
  prefix: "queueWorker",
  table: QUEUE_WORKERS,
  idColumn: "queue_worker_id",
  row: QueueWorkerRow
})

const RunningJobRow = Schema.Struct({ queue_job_id: UlidFromUuid, started_by: UlidFromUuid })

const statements = q.statements({
  register: {
    text: `INSERT INTO queue_workers (queue_worker_id, registered_at, last_seen_at) VALUES ($1, $2, $2)`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // Guarded: a worker shut down (by itself or as dead) must stop, as its jobs may have gone to others.
  heartbeat: {
    text: `UPDATE queue_workers SET last_seen_at = $2 WHERE queue_worker_id = $1 AND shutdown_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // Guarded too: a second shutdown would re-stamp the time and lose the jobs of nobody.
  shutdown: {
    text: `UPDATE queue_workers SET shutdown_at = $2 WHERE queue_worker_id = $1 AND shutdown_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  releaseLease: {
    text: `DELETE FROM queue_leader WHERE queue_worker_id = $1`,
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  },
  // Delivered when the unit of work commits, so followers never hear of a stepdown that was rolled back. The payload
  // (the worker's id) is what makes it heard at all through @effect/sql-pg's listen, which drops empty payloads.
  notifyStepdown: {
    text: `SELECT pg_notify('queue_leader_stepdown', $1)`,
    params: Schema.Tuple(Schema.String),
    row: NoRows
  },
  shutdownDead: {
    text:
      `UPDATE queue_workers SET shutdown_at = $1 WHERE shutdown_at IS NULL AND last_seen_at < $2 ` +
      `RETURNING queue_worker_id`,
    params: Schema.Tuple(Schema.DateFromSelf, Schema.DateFromSelf),
    row: WorkerIdRow
  },
  // Locked, so that no job finishes between this read and the statement that loses it.
  runningJobs: {
    text:
      `SELECT queue_job_id, started_by AS "started_by!" FROM queue_jobs WHERE status = 'running' AND started_by = ANY($1::uuid[]) ` +
      `ORDER BY queue_job_id FOR UPDATE`,
    params: Schema.Tuple(Schema.Array(UlidFromUuid)),
    row: RunningJobRow,
    table: QUEUE_JOBS,
    idColumn: "queue_job_id"
  },
  // One statement per batch: each lost job gets its new attempt (as a retry makes it, scheduled at once), the schedules
  // whose last job it was move to the attempt, and the lost row points to it. Its parts share one snapshot and the
  // foreign keys are checked when it ends, when the new attempts exist.
  loseJobs: {
    text: [
      "WITH batch AS (SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS b(job_id, retry_id, reason)),",
      "lost AS (UPDATE queue_jobs SET status = 'lost', failed_at = $4, failed_reason = batch.reason,",
      "next_attempt_id = batch.retry_id FROM batch",
      "WHERE queue_jobs.queue_job_id = batch.job_id AND queue_jobs.status = 'running'",
      "RETURNING queue_jobs.queue_job_id, batch.retry_id, queue_jobs.queue_name, queue_jobs.payload,",
      "queue_jobs.metadata, queue_jobs.attempt, queue_jobs.schedule_name),",
      "retried AS (INSERT INTO queue_jobs (queue_job_id, queue_name, payload, metadata, created_at, attempt,",
      "scheduled_at, schedule_name, status)",
      "SELECT retry_id, queue_name, payload, metadata, $4, attempt + 1, $4, schedule_name, 'scheduled' FROM lost),",
      "repointed AS (UPDATE queue_schedules SET last_scheduled_at = $4, last_scheduled_job_id = lost.retry_id",
      "FROM lost WHERE queue_schedules.last_scheduled_job_id = lost.queue_job_id)",
      "SELECT queue_job_id FROM lost ORDER BY queue_job_id"
    ].join(" "),
    params: Schema.Tuple(
      Schema.Array(UlidFromUuid),
      Schema.Array(UlidFromUuid),
      Schema.Array(Schema.String),
      Schema.DateFromSelf
    ),
    row: JobIdRow,
    table: QUEUE_JOBS,
    idColumn: "queue_job_id"
  },
  // The lease's expiry is on the database's clock, the one clock every worker shares.
  removeExpiredLease: {
    text: `DELETE FROM queue_leader WHERE expires_at < NOW()`,
    params: Schema.Tuple(),
    row: NoRows
  },
  // One row at most (unique `active`): a conflict extends the lease only for its holder, so one row is affected iff
  // the worker is the leader. The conflicting row stays locked until the unit of work ends.
  tryGetLease: {
    text:
      `INSERT INTO queue_leader (elected_at, expires_at, queue_worker_id) VALUES ($1, NOW() + INTERVAL '5 seconds', $2) ` +
      `ON CONFLICT (active) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE queue_leader.queue_worker_id = $2`,
    params: Schema.Tuple(Schema.DateFromSelf, UlidFromUuid),
    row: NoRows,
    table: QUEUE_LEADER
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)
  const atomic = atomically(sql)

  /** The running jobs of `workers` become lost, each with its new attempt; the lost ids, in id order. */
  const loseJobsOf = (
    workers: ReadonlyArray<Ulid>,
    at: Date,
    dead: boolean
  ): Effect.Effect<ReadonlyArray<Ulid>, DatabaseError> =>
    Effect.gen(function* () {
      if (workers.length === 0) return []
      const running = yield* db.runningJobs.all(workers)
      if (running.length === 0) return []
      const lost: ReadonlyArray<LostJob> = yield* planLostJobs(
        running.map((r) => ({ jobId: r.queue_job_id, worker: r.started_by })),
        dead
      )
      const rows = yield* db.loseJobs.all(
        lost.map((l) => l.jobId),
        lost.map((l) => l.retryId),
        lost.map((l) => l.reason),
        at
      )
      return rows.map((r) => r.queue_job_id)
    })

  return QueueWorkerRepository.of({
    register: () =>
      Effect.gen(function* () {
        const at = yield* now
        const row = newQueueWorkerRow(yield* generateUlid, at)
        yield* db.register.affectedOne(row.queue_worker_id, at)
        return workerOf(row.queue_worker_id)
      }),

    heartbeat: (worker) => Effect.flatMap(now, (at) => db.heartbeat.affectedOne(worker.id, at)),

    shutdown: (worker) =>
      Effect.gen(function* () {
        const at = yield* now
        return yield* atomic(
          Effect.gen(function* () {
            yield* db.shutdown.affectedOne(worker.id, at)
            if ((yield* db.releaseLease.affected(worker.id)) > 0) yield* db.notifyStepdown.affected(worker.id)
            return yield* loseJobsOf([worker.id], at, false)
          })
        )
      }),

    shutdownDeadWorkers: (threshold) =>
      Effect.gen(function* () {
        const at = yield* now
        const cutoff = yield* deadWorkerCutoff(at, threshold)
        return yield* atomic(
          Effect.gen(function* () {
            const ids = (yield* db.shutdownDead.all(at, cutoff)).map((r) => r.queue_worker_id).sort()
            const lostJobs = yield* loseJobsOf(ids, at, true)
            return { workers: ids.map(workerOf), lostJobs }
          })
        )
      }),

    removeLeaderLeaseIfExpired: () => Effect.asVoid(db.removeExpiredLease.affected()),

    tryGetLeaderLease: (worker) =>
      Effect.flatMap(now, (at) => Effect.map(db.tryGetLease.affected(at, worker.id), (n) => n === 1))
  })
})

export const layer: Layer.Layer<QueueWorkerRepository, never, SqlClient.SqlClient> = Layer.effect(
  QueueWorkerRepository,
  Effect.map(make, traced("queueWorker"))
)
