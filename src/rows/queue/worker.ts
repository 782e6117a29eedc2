// Stored rows of `queue_workers` and `queue_leader`, shared by both backends, and the lost-job bookkeeping of shutdowns.
import { Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { Worker } from "../../model/queue.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const storedWorker = storedEntity(Worker)

export const QUEUE_WORKERS = "queue_workers"
export const QUEUE_LEADER = "queue_leader"

/** `queue_workers`: a worker is live until `shutdown_at` is set; no tuple of its columns is refused. */
export const QueueWorkerRow = Schema.Struct({
  queue_worker_id: UlidFromUuid,
  registered_at: Timestamp,
  last_seen_at: Timestamp,
  shutdown_at: Schema.NullOr(Timestamp)
})
export type QueueWorkerRow = typeof QueueWorkerRow.Type

/** The id of a worker a statement returns. */
export const WorkerIdRow = Schema.Struct({ queue_worker_id: UlidFromUuid })

/** The id of a job a statement returns. */
export const JobIdRow = Schema.Struct({ queue_job_id: UlidFromUuid })

/** `queue_leader`: the one lease row (`active` is always true). */
export const QueueLeaderRow = Schema.Struct({
  active: Schema.Literal(true),
  elected_at: Timestamp,
  expires_at: Timestamp,
  queue_worker_id: UlidFromUuid
})
export type QueueLeaderRow = typeof QueueLeaderRow.Type

export const workerOf = (id: Ulid): Worker => storedWorker({ id })

/** The row of a worker registered at `at`. */
export const newQueueWorkerRow = (id: Ulid, at: Date): QueueWorkerRow => ({
  queue_worker_id: id,
  registered_at: at,
  last_seen_at: at,
  shutdown_at: null
})

/** How long a lease lasts past the database's current time when it is taken or extended. */
export const LEADER_LEASE_MILLIS = 5_000

/** A running job of a worker being shut down: it becomes `lost`, and `retryId` is the new attempt inserted for it. */
export interface LostJob {
  readonly jobId: Ulid
  readonly retryId: Ulid
  readonly reason: string
}

/** The failure reason stored on a job lost because `worker` was shut down (by itself, or as dead). */
export const lostJobReason = (worker: Ulid, dead: boolean): string =>
  dead
    ? `lost: worker ${worker} was shut down as dead (no heartbeat within the threshold) while running this job`
    : `lost: worker ${worker} was shut down while running this job`
