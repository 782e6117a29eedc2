// The port for the job queue: its shape and the Tag both backends implement.
import { Context, type Duration, type Effect, type Option } from "effect"
import type { Job, Worker } from "../../model/queue.js"
import type { Ulid } from "../../model/Ulid.js"
import type { Json } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError } from "../common/errors.js"

export interface QueueJobRepositoryShape {
  /**
   * A new job of `queueName`, available at once. `metadata` must be a JSON object whose `trace_id` and `span_id`, when
   * present, are strings and whose `trace_flags` is an integer 0–255 (missing ones read as "" and 0, as in MAS): what
   * `reserve` could not read is refused here, never there. A payload or metadata that is not JSON, text with an
   * unpaired UTF-16 surrogate or an empty queue name is an InvalidOperationError; NUL a DriverError (22021 in the
   * name, 22P05 inside a document). Nothing is written when it fails.
   */
  readonly schedule: (queueName: string, payload: Json, metadata: Json) => Effect.Effect<void, DatabaseError>
  /**
   * As `schedule`, but the job is `scheduled` until `scheduleAvailableJobs` runs at or after `scheduledAt`. With a
   * schedule name the job is also recorded as that schedule's last job, at `scheduledAt`; a schedule that does not
   * exist is a DriverError (23503, from the job's foreign key) and nothing is written.
   */
  readonly scheduleLater: (
    queueName: string,
    payload: Json,
    metadata: Json,
    scheduledAt: Date,
    scheduleName: Option.Option<string>
  ) => Effect.Effect<void, DatabaseError>
  /**
   * Takes up to `count` available jobs of `queues`, oldest (smallest id) first, and marks them running, started
   * `now` by `worker`. On PostgreSQL rows another unit of work has locked are skipped (`FOR UPDATE SKIP LOCKED`), so
   * concurrent workers never take the same job. No queues or `count = 0` reserve nothing; a `count` that is not a
   * non-negative safe integer is an InvalidOperationError.
   */
  readonly reserve: (
    worker: Worker,
    queues: ReadonlyArray<string>,
    count: number
  ) => Effect.Effect<ReadonlyArray<Job>, DatabaseError>
  /** Marks a running job completed at `now`; a job that is not running (or does not exist) is a RowsAffectedError. */
  readonly markAsCompleted: (id: Ulid) => Effect.Effect<void, DatabaseError>
  /**
   * Marks a running job failed at `now` with `reason`; a job that is not running (or does not exist) is a
   * RowsAffectedError. A reason with an unpaired surrogate is an InvalidOperationError, NUL a DriverError (22021).
   */
  readonly markAsFailed: (id: Ulid, reason: string) => Effect.Effect<void, DatabaseError>
  /**
   * Retries a failed (or lost) job: inserts a new job (attempt + 1; same queue, payload, metadata and schedule name),
   * `scheduled` at `now + delay`, repoints any schedule whose last job was the old one, and links the old job to it
   * (`nextAttemptId`). A job that is not failed or lost, does not exist, or was already retried is a
   * RowsAffectedError (a job is retried once, so no attempt runs twice); a delay that gives no representable instant
   * (infinite; Effect's Duration has no negative values) is an InvalidOperationError. Nothing is written when it
   * fails.
   */
  readonly retry: (id: Ulid, delay: Duration.Duration) => Effect.Effect<void, DatabaseError>
  /** Makes every scheduled job whose `scheduledAt <= now` available, and returns how many. */
  readonly scheduleAvailableJobs: () => Effect.Effect<number, DatabaseError>
  /**
   * Deletes up to `limit` finished jobs (completed, failed or lost) with `since < id <= until`, in id order (see the
   * storage rule: Cleanups). Schedules whose last job it deletes forget it; older attempts lose their link to it.
   */
  readonly cleanup: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class QueueJobRepository extends Context.Tag("storage/QueueJobRepository")<
  QueueJobRepository,
  QueueJobRepositoryShape
>() {}
