// The port for recurring-job schedules: its shape and the Tag both backends implement.
import { Context, type Effect } from "effect"
import type { ScheduleStatus } from "../../model/queue.js"
import type { DatabaseError } from "../common/errors.js"

export interface QueueScheduleRepositoryShape {
  /**
   * Inserts the names not yet stored and leaves the existing ones (and their last job) untouched; repeated names are
   * one schedule. A name that is empty or holds an unpaired UTF-16 surrogate is an InvalidOperationError; NUL a
   * DriverError (22021). Nothing is written when it fails.
   */
  readonly setup: (scheduleNames: ReadonlyArray<string>) => Effect.Effect<void, DatabaseError>
  /**
   * Every schedule, by name, with when its last job was scheduled and whether that job is done (completed or failed;
   * none without a last job, or when the last job was cleaned up).
   */
  readonly list: () => Effect.Effect<ReadonlyArray<ScheduleStatus>, DatabaseError>
}

export class QueueScheduleRepository extends Context.Tag("storage/QueueScheduleRepository")<
  QueueScheduleRepository,
  QueueScheduleRepositoryShape
>() {}
