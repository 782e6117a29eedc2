// QueueWorkerRepository in memory: the same rows, guards and lost-job retries as PostgreSQL, with Clock as the database's clock.
import { Effect, Either, Layer, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import { generateUlid } from "../../model/Ulid.js"
import { QUEUE_JOBS } from "../../rows/queue/job.js"
import { QUEUE_SCHEDULES } from "../../rows/queue/queueSchedule.js"
import {
  LEADER_LEASE_MILLIS,
  type LostJob,
  newQueueWorkerRow,
  QUEUE_LEADER,
  QUEUE_WORKERS,
  QueueWorkerRow,
  workerOf
} from "../../rows/queue/worker.js"
import { DriverError, RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { deadWorkerCutoff, planLostJobs } from "../../storage/queue/lostJobs.js"
import { QueueWorkerRepository } from "../../storage/queue/QueueWorkerRepository.js"
import { requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

/** The key of the one lease row (`active` is its primary key here, always true). */
const LEASE_KEY = "true"

const isLive = (row: Row | undefined) => row !== undefined && row.shutdown_at === null

const runningJobsOf = (db: Database, workers: ReadonlySet<string>) =>
  db
    .rows(QUEUE_JOBS)
    .filter((j) => j.status === "running" && typeof j.started_by === "string" && workers.has(j.started_by))
    .map((j) => ({ jobId: j.queue_job_id as Ulid, worker: j.started_by as Ulid }))

/**
 * PostgreSQL's lose-jobs statement: each job of `lost` still running becomes lost and points to its new attempt
 * (inserted first, so the pointer's key holds), and the schedules whose last job it was move to that attempt.
 */
const loseJobs = (
  start: Database,
  lost: ReadonlyArray<LostJob>,
  at: Date
): Either.Either<readonly [ReadonlyArray<Ulid>, Database], DriverError> =>
  Either.gen(function* () {
    let db = start
    const ids: Array<Ulid> = []
    for (const job of lost) {
      const old = Option.getOrUndefined(db.get<Row>(QUEUE_JOBS, job.jobId))
      if (old === undefined || old.status !== "running") continue
      db = yield* db.insert(QUEUE_JOBS, {
        queue_job_id: job.retryId,
        queue_name: old.queue_name,
        payload: old.payload,
        metadata: old.metadata,
        status: "scheduled",
        created_at: at,
        started_at: null,
        started_by: null,
        completed_at: null,
        failed_at: null,
        failed_reason: null,
        attempt: (old.attempt as number) + 1,
        next_attempt_id: null,
        scheduled_at: at,
        schedule_name: old.schedule_name
      })
      db = yield* db.update(QUEUE_JOBS, job.jobId, (r) => ({
        ...r,
        status: "lost",
        failed_at: at,
        failed_reason: job.reason,
        next_attempt_id: job.retryId
      }))
      const [, repointed] = yield* db.updateWhere(
        QUEUE_SCHEDULES,
        (s) => s.last_scheduled_job_id === job.jobId,
        (s) => ({ ...s, last_scheduled_at: at, last_scheduled_job_id: job.retryId })
      )
      db = repointed
      ids.push(job.jobId)
    }
    return [ids, db] as const
  })

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const workers = memoryTable(store, { table: QUEUE_WORKERS, idColumn: "queue_worker_id", row: QueueWorkerRow })

  return QueueWorkerRepository.of({
    register: () =>
      Effect.gen(function* () {
        const at = yield* now
        const row = newQueueWorkerRow(yield* generateUlid, at)
        yield* workers.insert(row)
        return workerOf(row.queue_worker_id)
      }),

    heartbeat: (worker) =>
      Effect.flatMap(now, (at) =>
        workers.updateGuarded(
          worker.id,
          (r) => r.shutdown_at === null,
          (r) => ({ ...r, last_seen_at: at })
        )
      ),

    // The running jobs are read before the write to draw their new ids, and only a live worker's are (PostgreSQL
    // draws none when the stamp fails); the write loses only those still running, as the statement's guard does.
    shutdown: (worker) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* requireUlid(worker.id)
        const running = yield* store.read((db) =>
          isLive(Option.getOrUndefined(db.get<Row>(QUEUE_WORKERS, worker.id)))
            ? Option.some(runningJobsOf(db, new Set([worker.id])))
            : Option.none()
        )
        if (Option.isNone(running)) return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
        const lost = yield* planLostJobs(running.value, false)
        return yield* store.write((start) =>
          Either.gen(function* () {
            if (!isLive(Option.getOrUndefined(start.get<Row>(QUEUE_WORKERS, worker.id)))) {
              return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
            }
            const stamped = yield* start.update(QUEUE_WORKERS, worker.id, (r) => ({ ...r, shutdown_at: at }))
            // no channel to notify in memory: the lease simply goes
            const [, released] = yield* stamped.deleteWhere(QUEUE_LEADER, (l) => l.queue_worker_id === worker.id)
            return yield* loseJobs(released, lost, at)
          })
        )
      }),

    shutdownDeadWorkers: (threshold) =>
      Effect.gen(function* () {
        const at = yield* now
        const cutoff = yield* deadWorkerCutoff(at, threshold)
        const isDead = (r: Row) => r.shutdown_at === null && (r.last_seen_at as Date).getTime() < cutoff.getTime()
        const running = yield* store.read((db) =>
          runningJobsOf(
            db,
            new Set(
              db
                .rows(QUEUE_WORKERS)
                .filter(isDead)
                .map((r) => r.queue_worker_id as string)
            )
          )
        )
        const lost = yield* planLostJobs(running, true)
        return yield* store.write((start) =>
          Either.gen(function* () {
            const dead = start
              .rows(QUEUE_WORKERS)
              .filter(isDead)
              .map((r) => r.queue_worker_id as Ulid)
            const [, stamped] = yield* start.updateWhere(QUEUE_WORKERS, isDead, (r) => ({ ...r, shutdown_at: at }))
            const deadSet = new Set<string>(dead)
            const stillTheirs = lost.filter((l) => {
              const job = Option.getOrUndefined(stamped.get<Row>(QUEUE_JOBS, l.jobId))
              return job !== undefined && typeof job.started_by === "string" && deadSet.has(job.started_by)
            })
            const [lostJobs, next] = yield* loseJobs(stamped, stillTheirs, at)
            return [{ workers: dead.map(workerOf), lostJobs }, next] as const
          })
        )
      }),

    removeLeaderLeaseIfExpired: () =>
      Effect.flatMap(now, (at) =>
        Effect.asVoid(
          store.write((db) =>
            Either.map(
              db.deleteWhere(QUEUE_LEADER, (l) => (l.expires_at as Date).getTime() < at.getTime()),
              ([, next]) => [undefined, next] as const
            )
          )
        )
      ),

    tryGetLeaderLease: (worker) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* requireUlid(worker.id)
        const expiresAt = new Date(at.getTime() + LEADER_LEASE_MILLIS)
        return yield* store.write((db): Either.Either<readonly [boolean, Database], DriverError> => {
          const lease = Option.getOrUndefined(db.get<Row>(QUEUE_LEADER, LEASE_KEY))
          if (lease === undefined) {
            // a worker that is not stored fails the lease's foreign key, as in PostgreSQL
            return Either.map(
              db.insert(QUEUE_LEADER, {
                active: true,
                elected_at: at,
                expires_at: expiresAt,
                queue_worker_id: worker.id
              }),
              (next) => [true, next] as const
            )
          }
          if (lease.queue_worker_id !== worker.id) return Either.right([false, db] as const)
          return Either.map(
            db.update(QUEUE_LEADER, LEASE_KEY, (l) => ({ ...l, expires_at: expiresAt })),
            (next) => [true, next] as const
          )
        })
      })
  })
})

export const layer: Layer.Layer<QueueWorkerRepository, never, MemoryStore> = Layer.effect(QueueWorkerRepository, make)
