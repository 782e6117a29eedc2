// Typed jobs: a job type names its queue and its payload schema; scheduling encodes the payload and carries the
// current span's context as the job's metadata, and the matching handler decodes it.
import { Effect, Option, ParseResult, Schema } from "effect"
import type { Job } from "../model/queue.js"
import type { Json } from "../model/values.js"
import { type DatabaseError, InvalidOperationError } from "../storage/common/errors.js"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { JobFailure, jobHandler, type JobHandler } from "./JobHandler.js"

/** A kind of job: the queue it goes to and the schema of its payload (encoded to JSON). */
export interface JobType<A, I extends Json> {
  readonly queue: string
  readonly payload: Schema.Schema<A, I>
}

export const jobType = <A, I extends Json>(queue: string, payload: Schema.Schema<A, I>): JobType<A, I> => ({
  queue,
  payload
})

/**
 * The metadata of a job scheduled now: the current span's trace id, span id and sampled flag (trace flags 1 or 0),
 * so the worker's span of the job links back to where it was scheduled; `{}` outside any span (read as "" and 0).
 */
const spanMetadata: Effect.Effect<Json> = Effect.map(Effect.option(Effect.currentSpan), (span) =>
  Option.match(span, {
    onNone: () => ({}),
    onSome: (s) => ({ trace_id: s.traceId, span_id: s.spanId, trace_flags: s.sampled ? 1 : 0 })
  })
)

const encodePayload = <A, I extends Json>(type: JobType<A, I>, value: A): Effect.Effect<I, InvalidOperationError> =>
  Schema.encode(type.payload)(value).pipe(
    Effect.mapError(
      (error) =>
        new InvalidOperationError({
          cause: Option.some(`payload of a ${type.queue} job: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
        })
    )
  )

/**
 * Schedules a job of `type` to run as soon as a worker takes it. A value the payload schema cannot encode is an
 * InvalidOperationError (nothing written); otherwise as `QueueJobRepository.schedule`.
 */
export const scheduleJob = <A, I extends Json>(
  type: JobType<A, I>,
  value: A
): Effect.Effect<void, DatabaseError, RepositoryAccess> =>
  Effect.gen(function* () {
    const { queueJobs } = yield* RepositoryAccess
    const payload = yield* encodePayload(type, value)
    yield* queueJobs.schedule(type.queue, payload, yield* spanMetadata)
  })

/** As `scheduleJob`, to run at or after `scheduledAt` (as `QueueJobRepository.scheduleLater`, no schedule name). */
export const scheduleJobLater = <A, I extends Json>(
  type: JobType<A, I>,
  value: A,
  scheduledAt: Date
): Effect.Effect<void, DatabaseError, RepositoryAccess> =>
  Effect.gen(function* () {
    const { queueJobs } = yield* RepositoryAccess
    const payload = yield* encodePayload(type, value)
    yield* queueJobs.scheduleLater(type.queue, payload, yield* spanMetadata, scheduledAt, Option.none())
  })

/**
 * The handler of a job type: the payload decoded with the type's schema (a payload that does not decode fails the
 * job without retry: another attempt would read the same payload), then `run`.
 */
export const typedJobHandler = <A, I extends Json, R>(
  type: JobType<A, I>,
  run: (value: A, job: Job) => Effect.Effect<void, JobFailure, R>,
  options: { readonly timeout?: Parameters<typeof jobHandler>[0]["timeout"]; readonly transactional?: boolean } = {}
): JobHandler<R> =>
  jobHandler({
    ...options,
    queue: type.queue,
    run: (job) =>
      Schema.decodeUnknown(type.payload)(job.payload).pipe(
        Effect.mapError((error) =>
          JobFailure.fail(`payload does not decode: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
        ),
        Effect.flatMap((value) => run(value, job))
      )
  })
