// Stored rows of `queue_schedules`, shared by both backends: the row, the schedule lookup (with its last job's status) and the ScheduleStatus mapping.
import { Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { ScheduleStatus } from "../../model/queue.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { InvalidOperationError } from "../../storage/common/errors.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { Effect } from "effect"
import { storedEntity } from "../common.js"

const storedScheduleStatus = storedEntity(ScheduleStatus)

export const QUEUE_SCHEDULES = "queue_schedules"

/** `queue_schedules`: a schedule and the job it scheduled last (cleared when that job is cleaned up). */
export const QueueScheduleRow = Schema.Struct({
  schedule_name: Schema.String,
  last_scheduled_at: Schema.NullOr(Timestamp),
  last_scheduled_job_id: Schema.NullOr(UlidFromUuid)
})
export type QueueScheduleRow = typeof QueueScheduleRow.Type

/** A schedule with whether its last job is done: null without a last job. */
export const ScheduleLookupRow = Schema.Struct({
  schedule_name: Schema.String,
  last_scheduled_at: Schema.NullOr(Timestamp),
  last_scheduled_job_completed: Schema.NullOr(Schema.Boolean)
})
export type ScheduleLookupRow = typeof ScheduleLookupRow.Type

export const scheduleStatusFromRow = (row: ScheduleLookupRow): ScheduleStatus =>
  storedScheduleStatus({
    scheduleName: row.schedule_name,
    lastScheduledAt: Option.fromNullable(row.last_scheduled_at),
    lastScheduledJobCompleted: Option.fromNullable(row.last_scheduled_job_completed)
  })

/** What both backends refuse in `setup` before writing: an empty name or one with an unpaired surrogate. */
export const checkScheduleNames = (names: ReadonlyArray<string>): Effect.Effect<void, InvalidOperationError> =>
  Effect.forEach(
    names,
    (name, i) =>
      name.length === 0
        ? Effect.fail(new InvalidOperationError({ cause: Option.some(`schedule name ${i} is empty`) }))
        : checkWellFormed({ [`schedule name ${i}`]: name }),
    { discard: true }
  )
