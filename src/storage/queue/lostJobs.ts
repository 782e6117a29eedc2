// What both backends compute before a shutdown writes: the dead-worker cutoff and the new attempts of the jobs lost.
import { Duration, Effect, Either, Option } from "effect"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { type LostJob, lostJobReason } from "../../rows/queue/worker.js"
import { InvalidOperationError } from "../common/errors.js"
import { MIN_TIMESTAMPTZ } from "../common/limits.js"

/**
 * `now − threshold`, refused (nothing written) when the threshold is infinite or negative, or when the instant is not
 * one a timestamptz holds (Effect clamps negative durations to zero, so only the others reach the check in practice).
 */
export const deadWorkerCutoff = (
  now: Date,
  threshold: Duration.Duration
): Either.Either<Date, InvalidOperationError> => {
  const millis = Duration.toMillis(threshold)
  const cutoff = now.getTime() - Math.floor(millis)
  return Number.isFinite(millis) &&
    millis >= 0 &&
    !Number.isNaN(new Date(cutoff).getTime()) &&
    cutoff >= MIN_TIMESTAMPTZ
    ? Either.right(new Date(cutoff))
    : Either.left(
        new InvalidOperationError({
          cause: Option.some(`dead-worker threshold ${Duration.format(threshold)} gives no valid cutoff instant`)
        })
      )
}

/**
 * One new attempt id per running job, drawn from Clock and Random in job-id order (so both backends draw the same
 * ids), with the reason naming the worker that was running it.
 */
export const planLostJobs = (
  running: ReadonlyArray<{ readonly jobId: Ulid; readonly worker: Ulid }>,
  dead: boolean
): Effect.Effect<ReadonlyArray<LostJob>> =>
  Effect.forEach(
    [...running].sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0)),
    (job) =>
      Effect.map(generateUlid, (retryId) => ({ jobId: job.jobId, retryId, reason: lostJobReason(job.worker, dead) }))
  )
