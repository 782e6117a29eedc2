// Stored rows of `queue_jobs`, shared by both backends: the `metadata` document (snake_case keys, every member
// defaulting), the check a new job's documents pass before they are stored, the row Schema and the mapping to Job.
import { Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { initialJobStatus, Job, JobMetadata, JobStatus } from "../../model/queue.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { type Json, isJsonObject } from "../../model/values.js"
import { InvalidOperationError } from "../../storage/common/errors.js"
import { checkJsonArgument, checkWellFormed, MIN_TIMESTAMPTZ } from "../../storage/common/limits.js"
import { expiryAfter } from "../../storage/common/time.js"
import { storedEntity } from "../common.js"

export const QUEUE_JOBS = "queue_jobs"

// A member that is absent reads as its zero value; one that is present must have the right type (null included).
const StoredJobMetadata = Schema.Struct({
  traceId: Schema.optionalWith(Schema.String, { exact: true, default: () => "" }).pipe(Schema.fromKey("trace_id")),
  spanId: Schema.optionalWith(Schema.String, { exact: true, default: () => "" }).pipe(Schema.fromKey("span_id")),
  traceFlags: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 255)), { exact: true, default: () => 0 }).pipe(
    Schema.fromKey("trace_flags")
  )
})

/** Stored `metadata` JSON ⇄ JobMetadata: a JSON object, unknown members ignored, missing ones "" / "" / 0. */
export const JobMetadataFromJson = Schema.compose(StoredJobMetadata, JobMetadata)

const decodeMetadata = Schema.decodeUnknownEither(JobMetadataFromJson)

/** `metadata` (jsonb): a document JobMetadataFromJson reads, else an inconsistency on that column. */
export const JobMetadataColumn = Schema.Unknown.pipe(
  Schema.filter((u) => isJsonObject(u) && Either.isRight(decodeMetadata(u)), {
    message: () => "Expected job metadata: a JSON object with string trace_id and span_id and trace_flags 0–255"
  })
)

/** `queue_jobs`: every column, as both backends store it. */
export const QueueJobRow = Schema.Struct({
  queue_job_id: UlidFromUuid,
  queue_name: Schema.String,
  payload: Schema.Unknown,
  metadata: JobMetadataColumn,
  status: JobStatus,
  created_at: Timestamp,
  started_at: Schema.NullOr(Timestamp),
  started_by: Schema.NullOr(UlidFromUuid),
  completed_at: Schema.NullOr(Timestamp),
  failed_at: Schema.NullOr(Timestamp),
  failed_reason: Schema.NullOr(Schema.String),
  attempt: Schema.Int,
  next_attempt_id: Schema.NullOr(UlidFromUuid),
  scheduled_at: Schema.NullOr(Timestamp),
  schedule_name: Schema.NullOr(Schema.String)
})
export type QueueJobRow = typeof QueueJobRow.Type

/** What `reserve` reads of a job: the columns a Job is made of. A negative attempt is an inconsistency. */
export const ReservedJobRow = Schema.Struct({
  queue_job_id: UlidFromUuid,
  queue_name: Schema.String,
  payload: Schema.Unknown,
  metadata: JobMetadataColumn,
  attempt: Schema.NonNegativeInt
})
export type ReservedJobRow = typeof ReservedJobRow.Type

const storedJob = storedEntity(Job)

/** A reserved row as the Job handed to a worker (the row was validated, so the metadata decodes). */
export const jobFromRow = (row: ReservedJobRow): Job =>
  storedJob({
    id: row.queue_job_id,
    queueName: row.queue_name,
    payload: row.payload as Json,
    metadata: Either.getOrThrow(decodeMetadata(row.metadata)),
    attempt: row.attempt
  })

const invalid = (message: string) => new InvalidOperationError({ cause: Option.some(message) })

/**
 * The arguments of a new job, checked before anything is sent or written, the same way on both backends: a queue
 * name that is empty or holds an unpaired surrogate, a payload or metadata that is not JSON (or holds such text), and
 * metadata that `reserve` could not read back are InvalidOperationErrors. NUL is left to the write (22021 in the
 * name, 22P05 inside a document, as PostgreSQL refuses it).
 */
export const checkNewJob = (
  queueName: string,
  payload: Json,
  metadata: Json
): Effect.Effect<void, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkWellFormed({ queueName })
    if (queueName.length === 0) return yield* Effect.fail(invalid("queueName is empty"))
    yield* checkJsonArgument("payload", payload)
    yield* checkJsonArgument("metadata", metadata)
    if (!isJsonObject(metadata)) return yield* Effect.fail(invalid("metadata is not a JSON object"))
    const decoded = decodeMetadata(metadata)
    if (Either.isLeft(decoded)) {
      return yield* Effect.fail(
        invalid(`metadata is not job metadata: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
      )
    }
  })

/** The row of a new job: `available` at once, or `scheduled` for `scheduledAt` (of schedule `scheduleName`). */
export const newJobRow = (options: {
  readonly id: Ulid
  readonly queueName: string
  readonly payload: Json
  readonly metadata: Json
  readonly createdAt: Date
  readonly later: Option.Option<{ readonly scheduledAt: Date; readonly scheduleName: string | null }>
}): QueueJobRow => ({
  queue_job_id: options.id,
  queue_name: options.queueName,
  payload: options.payload,
  metadata: options.metadata,
  status: initialJobStatus(Option.isSome(options.later)),
  created_at: options.createdAt,
  started_at: null,
  started_by: null,
  completed_at: null,
  failed_at: null,
  failed_reason: null,
  attempt: 0,
  next_attempt_id: null,
  scheduled_at: Option.match(options.later, { onNone: () => null, onSome: (l) => l.scheduledAt }),
  schedule_name: Option.match(options.later, { onNone: () => null, onSome: (l) => l.scheduleName })
})

/** A `scheduledAt` PostgreSQL's timestamptz cannot hold (an invalid Date, before 4714 BC) is an InvalidOperationError. */
export const checkScheduledAt = (scheduledAt: Date): Effect.Effect<void, InvalidOperationError> =>
  scheduledAt instanceof Date && scheduledAt.getTime() >= MIN_TIMESTAMPTZ
    ? Effect.void
    : Effect.fail(invalid(`scheduledAt must be a valid Date from 4714-11-24 BC on, got ${String(scheduledAt)}`))

/**
 * When a retry made at `now` runs: `now + delay`, refused when that is no representable instant (an infinite delay).
 * Effect's Duration cannot be negative (its constructors clamp at zero), so no other delay is refused.
 */
export const retryAt = (now: Date, delay: Duration.Duration): Effect.Effect<Date, InvalidOperationError> =>
  expiryAfter(now, delay)
