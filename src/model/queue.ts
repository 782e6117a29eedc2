// Queue entities: jobs, their status machine, workers and recurring-job schedules.
import { Either, Option, Schema } from "effect"
import { Count, OptionalTimestamp } from "./common.js"
import { invalidTransition, type InvalidTransition } from "./errors.js"
import { Ulid } from "./Ulid.js"
import { Json } from "./values.js"

/** The stored status text of a job. `lost` is written when the worker running the job shuts down or is declared dead. */
export const JobStatus = Schema.Literal("available", "running", "completed", "failed", "scheduled", "lost")
export type JobStatus = typeof JobStatus.Type

/** The tracing context a job carries from where it was scheduled. */
export class JobMetadata extends Schema.Class<JobMetadata>("JobMetadata")({
  traceId: Schema.String,
  spanId: Schema.String,
  traceFlags: Schema.Int
}) {}

/** A job as handed to a worker. */
export class Job extends Schema.Class<Job>("Job")({
  id: Ulid,
  queueName: Schema.String,
  payload: Json,
  metadata: Schema.typeSchema(JobMetadata),
  attempt: Count
}) {}

export class Worker extends Schema.Class<Worker>("Worker")({
  id: Ulid
}) {}

export class ScheduleStatus extends Schema.Class<ScheduleStatus>("ScheduleStatus")({
  scheduleName: Schema.String,
  lastScheduledAt: OptionalTimestamp,
  lastScheduledJobCompleted: Schema.OptionFromSelf(Schema.Boolean)
}) {}

/** The schedule flag: none without a last job, else whether that job is completed or failed (i.e. done). */
export const lastScheduledJobCompleted = (lastJobStatus: Option.Option<JobStatus>): Option.Option<boolean> =>
  Option.map(lastJobStatus, (s) => s === "completed" || s === "failed")

/** The status moves the repository makes. `retry` does not move the failed job: it inserts a new one. */
export const JobTransition = Schema.Literal("scheduleAvailable", "reserve", "complete", "fail", "retry")
export type JobTransition = typeof JobTransition.Type

const JOB_TRANSITIONS: Record<JobTransition, readonly [from: JobStatus, to: JobStatus]> = {
  scheduleAvailable: ["scheduled", "available"],
  reserve: ["available", "running"],
  complete: ["running", "completed"],
  fail: ["running", "failed"],
  // The new attempt starts scheduled; the old row stays failed.
  retry: ["failed", "scheduled"]
}

/** The status after `transition` (for `retry`: the new job's status), or InvalidTransition. */
export const transitionJobStatus = (
  from: JobStatus,
  transition: JobTransition
): Either.Either<JobStatus, InvalidTransition> => {
  const [required, to] = JOB_TRANSITIONS[transition]
  return from === required ? Either.right(to) : invalidTransition("Job", from, transition)
}

/** The status a new job starts in: `schedule` → available, `scheduleLater` → scheduled. */
export const initialJobStatus = (later: boolean): JobStatus => (later ? "scheduled" : "available")
