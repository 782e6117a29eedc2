// QueueScheduleRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import {
  checkScheduleNames,
  QUEUE_SCHEDULES,
  QueueScheduleRow,
  ScheduleLookupRow,
  scheduleStatusFromRow
} from "../../rows/queue/queueSchedule.js"
import { QueueScheduleRepository } from "../../storage/queue/QueueScheduleRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const q = repositoryQueries({
  prefix: "queueSchedule",
  table: QUEUE_SCHEDULES,
  idColumn: "schedule_name",
  row: QueueScheduleRow
})

const statements = q.statements({
  // One statement for every name; existing schedules (and repeated names) are left alone.
  setup: {
    text:
      `INSERT INTO queue_schedules (schedule_name) SELECT * FROM UNNEST($1::text[]) AS t (schedule_name) ` +
      `ON CONFLICT (schedule_name) DO NOTHING`,
    params: Schema.Tuple(Schema.Array(Schema.String)),
    row: NoRows
  },
  // The flag is NULL without a last job (none, or cleaned up: the key is set to NULL); COLLATE "C" as memory sorts.
  list: {
    text:
      `SELECT queue_schedules.schedule_name, queue_schedules.last_scheduled_at, ` +
      `queue_jobs.status IN ('completed', 'failed') AS last_scheduled_job_completed ` +
      `FROM queue_schedules LEFT JOIN queue_jobs ON queue_jobs.queue_job_id = queue_schedules.last_scheduled_job_id ` +
      `ORDER BY queue_schedules.schedule_name COLLATE "C"`,
    params: Schema.Tuple(),
    row: ScheduleLookupRow
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return QueueScheduleRepository.of({
    setup: (scheduleNames) =>
      Effect.zipRight(checkScheduleNames(scheduleNames), Effect.asVoid(db.setup.affected([...scheduleNames]))),
    list: () => Effect.map(db.list.all(), (rows) => rows.map(scheduleStatusFromRow))
  })
})

export const layer: Layer.Layer<QueueScheduleRepository, never, SqlClient.SqlClient> = Layer.effect(
  QueueScheduleRepository,
  Effect.map(make, traced("queueSchedule"))
)
