// QueueJobRepository on PostgreSQL: every statement is declared (and prepared); the trigger on queue_jobs notifies
// `queue_available` whenever a row becomes available.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { Json } from "../../model/values.js"
import {
  checkNewJob,
  checkScheduledAt,
  jobFromRow,
  QUEUE_JOBS,
  QueueJobRow,
  ReservedJobRow,
  retryAt
} from "../../rows/queue/job.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { checkCleanupLimit, checkCount, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { QueueJobRepository } from "../../storage/queue/QueueJobRepository.js"
import { atomically } from "../common/atomic.js"
import { ulidCleanupText, UlidCleanupParams } from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

// The documents go as JSON text and are cast: the driver would turn a JS array into a PostgreSQL array literal.
const JsonText = Schema.parseJson(Json)

const q = repositoryQueries({ prefix: "queueJob", table: QUEUE_JOBS, idColumn: "queue_job_id", row: QueueJobRow })

const statements = q.statements({
  schedule: {
    text:
      `INSERT INTO queue_jobs (queue_job_id, queue_name, payload, metadata, created_at) ` +
      `VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)`,
    params: Schema.Tuple(UlidFromUuid, Schema.String, JsonText, JsonText, Schema.DateFromSelf),
    row: NoRows
  },
  scheduleLater: {
    text:
      `INSERT INTO queue_jobs (queue_job_id, queue_name, payload, metadata, created_at, scheduled_at, schedule_name, status) ` +
      `VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, 'scheduled')`,
    params: Schema.Tuple(
      UlidFromUuid,
      Schema.String,
      JsonText,
      JsonText,
      Schema.DateFromSelf,
      Schema.DateFromSelf,
      Schema.NullOr(Schema.String)
    ),
    row: NoRows
  },
  pointSchedule: {
    text: `UPDATE queue_schedules SET last_scheduled_at = $2, last_scheduled_job_id = $3 WHERE schedule_name = $1`,
    params: Schema.Tuple(Schema.String, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  // Locked rows are skipped, so concurrent workers never take the same job; the outer SELECT gives them oldest first.
  reserve: {
    text: `WITH locked_jobs AS (
  SELECT queue_job_id FROM queue_jobs
  WHERE status = 'available' AND queue_name = ANY($1)
  ORDER BY queue_job_id ASC
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), reserved AS (
  UPDATE queue_jobs SET status = 'running', started_at = $3, started_by = $4
  FROM locked_jobs
  WHERE queue_jobs.queue_job_id = locked_jobs.queue_job_id
  RETURNING queue_jobs.queue_job_id, queue_jobs.queue_name, queue_jobs.payload, queue_jobs.metadata, queue_jobs.attempt
)
SELECT queue_job_id, queue_name, payload, metadata, attempt FROM reserved ORDER BY queue_job_id`,
    params: Schema.Tuple(Schema.Array(Schema.String), Schema.Int, Schema.DateFromSelf, UlidFromUuid),
    row: ReservedJobRow,
    idColumn: "queue_job_id"
  },
  markAsCompleted: {
    text: `UPDATE queue_jobs SET status = 'completed', completed_at = $2 WHERE queue_job_id = $1 AND status = 'running'`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  markAsFailed: {
    text:
      `UPDATE queue_jobs SET status = 'failed', failed_at = $2, failed_reason = $3 ` +
      `WHERE queue_job_id = $1 AND status = 'running'`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, Schema.String),
    row: NoRows
  },
  // The old row is locked, so two concurrent retries of one job cannot both insert: the second one waits, then finds
  // the link set and inserts nothing.
  retryInsert: {
    text: `INSERT INTO queue_jobs
  (queue_job_id, queue_name, payload, metadata, created_at, attempt, scheduled_at, schedule_name, status)
SELECT $1, queue_name, payload, metadata, $2, attempt + 1, $3, schedule_name, 'scheduled'
FROM queue_jobs
WHERE queue_job_id = $4 AND status IN ('failed', 'lost') AND next_attempt_id IS NULL
FOR UPDATE`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  retryRepointSchedules: {
    text: `UPDATE queue_schedules SET last_scheduled_at = $2, last_scheduled_job_id = $3 WHERE last_scheduled_job_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  retryLink: {
    text: `UPDATE queue_jobs SET next_attempt_id = $2 WHERE queue_job_id = $1`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid),
    row: NoRows
  },
  scheduleAvailableJobs: {
    text: `UPDATE queue_jobs SET status = 'available' WHERE status = 'scheduled' AND scheduled_at <= $1`,
    params: Schema.Tuple(Schema.DateFromSelf),
    row: NoRows
  },
  // Schedules and older attempts lose their pointers to the deleted jobs through ON DELETE SET NULL.
  cleanup: {
    text: ulidCleanupText(QUEUE_JOBS, "queue_job_id", "status IN ('completed', 'failed', 'lost')"),
    params: UlidCleanupParams,
    row: Schema.Struct({ queue_job_id: UlidFromUuid })
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)
  const atomic = atomically(sql)

  return QueueJobRepository.of({
    schedule: (queueName, payload, metadata) =>
      Effect.gen(function* () {
        yield* checkNewJob(queueName, payload, metadata)
        const createdAt = yield* now
        const id = yield* generateUlid
        yield* db.schedule.affectedOne(id, queueName, payload, metadata, createdAt)
      }),

    scheduleLater: (queueName, payload, metadata, scheduledAt, scheduleName) =>
      Effect.gen(function* () {
        yield* checkNewJob(queueName, payload, metadata)
        yield* checkScheduledAt(scheduledAt)
        yield* checkWellFormed({ scheduleName: Option.getOrNull(scheduleName) })
        const createdAt = yield* now
        const id = yield* generateUlid
        yield* atomic(
          Effect.gen(function* () {
            yield* db.scheduleLater.affectedOne(
              id,
              queueName,
              payload,
              metadata,
              createdAt,
              scheduledAt,
              Option.getOrNull(scheduleName)
            )
            if (Option.isSome(scheduleName)) yield* db.pointSchedule.affectedOne(scheduleName.value, scheduledAt, id)
          })
        )
      }),

    reserve: (worker, queues, count) =>
      Effect.gen(function* () {
        const limit = yield* checkCount("reserve count", count)
        const at = yield* now
        yield* checkWellFormed(Object.fromEntries(queues.map((name, i) => [`queues[${i}]`, name])))
        const rows = yield* db.reserve.all(queues, limit, at, worker.id)
        return rows.map(jobFromRow)
      }),

    markAsCompleted: (id) => Effect.flatMap(now, (at) => db.markAsCompleted.affectedOne(id, at)),

    markAsFailed: (id, reason) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* checkWellFormed({ reason })
        yield* db.markAsFailed.affectedOne(id, at, reason)
      }),

    retry: (id, delay) =>
      Effect.gen(function* () {
        const at = yield* now
        const scheduledAt = yield* retryAt(at, delay)
        const newId = yield* generateUlid
        yield* atomic(
          Effect.gen(function* () {
            yield* db.retryInsert.affectedOne(newId, at, scheduledAt, id)
            yield* db.retryRepointSchedules.affected(id, scheduledAt, newId)
            yield* db.retryLink.affectedOne(id, newId)
          })
        )
      }),

    scheduleAvailableJobs: () => Effect.flatMap(now, (at) => db.scheduleAvailableJobs.affected(at)),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanup.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.queue_job_id))
      })
  })
})

export const layer: Layer.Layer<QueueJobRepository, never, SqlClient.SqlClient> = Layer.effect(
  QueueJobRepository,
  Effect.map(make, traced("queueJob"))
)
