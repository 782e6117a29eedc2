// QueueJobRepository in memory: the same rows, guards and refusals as PostgreSQL, over the MemoryStore's tables (no
// notification: nothing listens in memory).
import { Effect, Either, Layer, Option, Schema } from "effect"
import type { JobStatus } from "../../model/queue.js"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import type { Json } from "../../model/values.js"
import { decodeRows, rowDecoder } from "../../rows/decode.js"
import {
  checkNewJob,
  checkScheduledAt,
  jobFromRow,
  newJobRow,
  QUEUE_JOBS,
  QueueJobRow,
  ReservedJobRow,
  retryAt,
  type QueueJobRow as Row
} from "../../rows/queue/job.js"
import { RowsAffectedError } from "../../storage/common/errors.js"
import { checkCount, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { QueueJobRepository } from "../../storage/queue/QueueJobRepository.js"
import type { Database } from "../Database.js"
import { ulidCleanup } from "../common/cleanup.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { checkJsonb } from "../user/UserRegistrationRepositoryMemory.js"

const table = QUEUE_JOBS
const SCHEDULES = "queue_schedules"

const FINISHED: ReadonlySet<JobStatus> = new Set(["completed", "failed", "lost"])
const RETRYABLE: ReadonlySet<JobStatus> = new Set(["failed", "lost"])

const noRow = () => new RowsAffectedError({ expected: 1, actual: 0 })

/** A private copy of a document, as a database holds its own. */
const copyOf = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json

const decodeReserved = rowDecoder(Schema.typeSchema(ReservedJobRow), table, "queue_job_id")

/** Records `jobId` as the last job of schedule `name`, at `at`; the schedule must exist (as the statement's affectedOne). */
const pointSchedule = (db: Database, name: string, at: Date, jobId: Ulid) =>
  Either.flatMap(
    db.updateWhere(
      SCHEDULES,
      (s) => s["schedule_name"] === name,
      (s) => ({ ...s, last_scheduled_at: at, last_scheduled_job_id: jobId })
    ),
    ([n, next]) => (n === 1 ? Either.right(next) : Either.left(new RowsAffectedError({ expected: 1, actual: n })))
  )

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const jobs = memoryTable(store, { table, idColumn: "queue_job_id", row: QueueJobRow })

  /** The insert of a new job, in the order PostgreSQL refuses it: text parameters, then the jsonb documents, then keys. */
  const insertJob = (db: Database, row: Row) =>
    Either.gen(function* () {
      yield* db.checkValues(row)
      yield* checkJsonb(row.payload as Json)
      yield* checkJsonb(row.metadata as Json)
      return yield* db.insert(table, row)
    })

  const addJob = (
    queueName: string,
    payload: Json,
    metadata: Json,
    later: Option.Option<{ readonly scheduledAt: Date; readonly scheduleName: string | null }>
  ) =>
    Effect.gen(function* () {
      const createdAt = yield* now
      const id = yield* generateUlid
      const row = newJobRow({ id, queueName, payload: copyOf(payload), metadata: copyOf(metadata), createdAt, later })
      const scheduleName = Option.flatMapNullable(later, (l) => l.scheduleName)
      // One write, as the one unit of work of PostgreSQL: the job and the schedule's pointer, or neither.
      yield* store.write((db) =>
        Either.gen(function* () {
          const inserted = yield* insertJob(db, row)
          const next = Option.isSome(scheduleName)
            ? yield* pointSchedule(inserted, scheduleName.value, row.scheduled_at!, id)
            : inserted
          return [undefined, next] as const
        })
      )
    })

  return QueueJobRepository.of({
    schedule: (queueName, payload, metadata) =>
      Effect.zipRight(checkNewJob(queueName, payload, metadata), addJob(queueName, payload, metadata, Option.none())),

    scheduleLater: (queueName, payload, metadata, scheduledAt, scheduleName) =>
      Effect.gen(function* () {
        yield* checkNewJob(queueName, payload, metadata)
        yield* checkScheduledAt(scheduledAt)
        yield* checkWellFormed({ scheduleName: Option.getOrNull(scheduleName) })
        yield* addJob(
          queueName,
          payload,
          metadata,
          Option.some({ scheduledAt, scheduleName: Option.getOrNull(scheduleName) })
        )
      }),

    reserve: (worker, queues, count) =>
      Effect.gen(function* () {
        const limit = yield* checkCount("reserve count", count)
        const at = yield* now
        yield* requireUlid(worker.id)
        yield* checkWellFormed(Object.fromEntries(queues.map((q, i) => [`queues[${i}]`, q])))
        yield* rejectNul(...queues)
        const wanted = new Set(queues)
        const taken = yield* store.write((db) =>
          Either.gen(function* () {
            // Rows are kept in primary-key order: oldest first.
            const batch = jobs
              .rows(db)
              .filter((r) => r.status === "available" && wanted.has(r.queue_name))
              .slice(0, limit)
            let next = db
            for (const r of batch) {
              next = yield* next.update(table, r.queue_job_id, (row) => ({
                ...row,
                status: "running",
                started_at: at,
                started_by: worker.id
              }))
            }
            return [batch.map((r) => next.get(table, r.queue_job_id).pipe(Option.getOrThrow)), next] as const
          })
        )
        const rows = yield* decodeRows(
          taken.map((r) => ({
            queue_job_id: r["queue_job_id"],
            queue_name: r["queue_name"],
            payload: r["payload"],
            metadata: r["metadata"],
            attempt: r["attempt"]
          })),
          decodeReserved
        )
        return rows.map(jobFromRow)
      }),

    markAsCompleted: (id) =>
      Effect.flatMap(now, (at) =>
        jobs.updateGuarded(
          id,
          (r) => r.status === "running",
          (r) => ({ ...r, status: "completed", completed_at: at })
        )
      ),

    markAsFailed: (id, reason) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* checkWellFormed({ reason })
        yield* requireUlid(id)
        // PostgreSQL refuses NUL while binding, whatever the row.
        yield* rejectNul(reason)
        yield* jobs.updateGuarded(
          id,
          (r) => r.status === "running",
          (r) => ({ ...r, status: "failed", failed_at: at, failed_reason: reason })
        )
      }),

    retry: (id, delay) =>
      Effect.gen(function* () {
        const at = yield* now
        const scheduledAt = yield* retryAt(at, delay)
        const newId = yield* generateUlid
        yield* requireUlid(id)
        // One write, as PostgreSQL's one unit of work: the new attempt, the schedules repointed and the old job's link.
        yield* store.write((db) =>
          Either.gen(function* () {
            const old = Option.getOrUndefined(db.get<Row>(table, id))
            // A job is retried once: a second retry finds its link set and inserts nothing.
            if (old === undefined || !RETRYABLE.has(old.status) || old.next_attempt_id !== null) {
              return yield* Either.left(noRow())
            }
            const attempt: Row = {
              ...newJobRow({
                id: newId,
                queueName: old.queue_name,
                payload: old.payload as Json,
                metadata: old.metadata as Json,
                createdAt: at,
                later: Option.some({ scheduledAt, scheduleName: old.schedule_name })
              }),
              attempt: old.attempt + 1
            }
            const inserted = yield* db.insert(table, attempt)
            const [, repointed] = yield* inserted.updateWhere(
              SCHEDULES,
              (s) => s["last_scheduled_job_id"] === id,
              (s) => ({ ...s, last_scheduled_at: scheduledAt, last_scheduled_job_id: newId })
            )
            const linked = yield* repointed.updateOne(table, id, (r) => ({ ...r, next_attempt_id: newId }))
            return [undefined, linked] as const
          })
        )
      }),

    scheduleAvailableJobs: () =>
      Effect.flatMap(now, (at) =>
        jobs.updateWhere(
          (r) => r.status === "scheduled" && r.scheduled_at !== null && r.scheduled_at.getTime() <= at.getTime(),
          (r) => ({ ...r, status: "available" })
        )
      ),

    // Deleting applies the ON DELETE rules: schedules forget the job, older attempts lose their link to it.
    cleanup: ulidCleanup(
      store,
      jobs,
      (r) => r.queue_job_id,
      () => (r) => FINISHED.has(r.status)
    )
  })
})

export const layer: Layer.Layer<QueueJobRepository, never, MemoryStore> = Layer.effect(QueueJobRepository, make)
