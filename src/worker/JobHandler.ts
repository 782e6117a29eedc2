// What a worker runs for one queue: the handler, its time budget, and whether its writes commit with the completion.
import { Duration, type Effect, Schema } from "effect"
import type { Job } from "../model/queue.js"
import type { DatabaseError } from "../storage/common/errors.js"

/**
 * Why a job did not complete. A retryable failure is attempted again later (with back-off, up to the worker's
 * `maxAttempts`); any other one leaves the job failed.
 */
export class JobFailure extends Schema.TaggedError<JobFailure>()("JobFailure", {
  reason: Schema.String,
  retryable: Schema.Boolean
}) {
  override get message(): string {
    return `${this.reason} (${this.retryable ? "will retry" : "not retrying"})`
  }

  static retry(reason: string): JobFailure {
    return new JobFailure({ reason, retryable: true })
  }

  static fail(reason: string): JobFailure {
    return new JobFailure({ reason, retryable: false })
  }

  /** A storage failure inside a handler: worth another attempt (a lost connection, a serialization failure). */
  static fromDatabaseError(error: DatabaseError): JobFailure {
    return JobFailure.retry(`${error._tag}: ${error.message}`)
  }
}

export interface JobHandler<R = never> {
  readonly queue: string
  readonly run: (job: Job) => Effect.Effect<void, JobFailure, R>
  /** Past it the handler is interrupted, and that is a retryable failure. */
  readonly timeout: Duration.Duration
  /**
   * Transactional handlers run in the unit of work that marks their job completed, so their writes commit exactly
   * when the completion does: if the job was taken from this worker meanwhile (declared dead, the job lost and
   * retried elsewhere) the guarded completion is refused and the writes roll back. Handlers that commit on their own
   * (batched cleanups) are not transactional: they run outside, and the completion gets its own unit of work.
   */
  readonly transactional: boolean
}

/** The default time budget of a handler. */
export const defaultJobTimeout = Duration.minutes(10)

/** A handler, transactional unless told otherwise, with the default timeout unless given one. */
export const jobHandler = <R>(options: {
  readonly queue: string
  readonly run: (job: Job) => Effect.Effect<void, JobFailure, R>
  readonly timeout?: Duration.DurationInput | undefined
  readonly transactional?: boolean | undefined
}): JobHandler<R> => ({
  queue: options.queue,
  run: options.run,
  timeout: options.timeout === undefined ? defaultJobTimeout : Duration.decode(options.timeout),
  transactional: options.transactional ?? true
})
