// QueueScheduleRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { lastScheduledJobCompleted, type JobStatus } from "../../model/queue.js"
import {
  checkScheduleNames,
  QUEUE_SCHEDULES,
  type QueueScheduleRow,
  ScheduleLookupRow,
  scheduleStatusFromRow
} from "../../rows/queue/queueSchedule.js"
import { decodeRows, rowDecoder } from "../../rows/decode.js"
import { compareCodePoints } from "../../storage/common/filters.js"
import { QueueScheduleRepository } from "../../storage/queue/QueueScheduleRepository.js"
import type { Database } from "../Database.js"
import { rejectNul } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"

const decodeLookup = rowDecoder(ScheduleLookupRow, QUEUE_SCHEDULES, "schedule_name")

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  return QueueScheduleRepository.of({
    setup: (scheduleNames) =>
      Effect.gen(function* () {
        yield* checkScheduleNames(scheduleNames)
        yield* rejectNul(...scheduleNames)
        yield* store.write((db) => {
          let next: Database = db
          for (const name of scheduleNames) {
            const row: QueueScheduleRow = { schedule_name: name, last_scheduled_at: null, last_scheduled_job_id: null }
            const step = next.insertIgnoringConflict(QUEUE_SCHEDULES, row)
            if (Either.isLeft(step)) return Either.left(step.left)
            next = step.right[0]
          }
          return Either.right([undefined, next] as const)
        })
      }),

    list: () =>
      Effect.flatMap(
        store.read((db) =>
          [...db.rows<QueueScheduleRow>(QUEUE_SCHEDULES)]
            .sort((a, b) => compareCodePoints(a.schedule_name, b.schedule_name))
            .map((s) => ({
              schedule_name: s.schedule_name,
              last_scheduled_at: s.last_scheduled_at,
              last_scheduled_job_completed: Option.getOrNull(
                lastScheduledJobCompleted(
                  Option.flatMap(Option.fromNullable(s.last_scheduled_job_id), (id) =>
                    Option.map(db.get<{ readonly status: JobStatus }>("queue_jobs", id), (j) => j.status)
                  )
                )
              )
            }))
        ),
        (rows) => Effect.map(decodeRows(rows, decodeLookup), (decoded) => decoded.map(scheduleStatusFromRow))
      )
  })
})

export const layer: Layer.Layer<QueueScheduleRepository, never, MemoryStore> = Layer.effect(
  QueueScheduleRepository,
  make
)
