// Session activity in memory, the same for every kind of session: batched activity and the clearing of inactive IPs,
// as the PostgreSQL statements make them.
import { Effect, Option } from "effect"
import { checkActivity } from "../../storage/common/limits.js"
import { type ActivityRecord, type IpAddress, sortActivity } from "../../model/values.js"
import {
  type DriverError,
  expectRowsAffected,
  type InvalidOperationError,
  type RowsAffectedError
} from "../../storage/common/errors.js"
import type { MemoryStoreShape } from "../MemoryStore.js"
import type { MemoryTable } from "../Table.js"
import { timestampCleanup } from "./cleanup.js"

/** The columns every session table keeps its activity in. */
interface ActivityColumns {
  readonly last_active_at: Date | null
  readonly last_active_ip: IpAddress | null
}

/** GREATEST ignores NULL, so a session never active takes the given instant; no IP keeps the stored one (COALESCE). */
const applyActivity = <Row extends ActivityColumns>(row: Row, [, at, ip]: ActivityRecord): Row => ({
  ...row,
  last_active_at: row.last_active_at !== null && row.last_active_at.getTime() > at.getTime() ? row.last_active_at : at,
  last_active_ip: Option.getOrElse(ip, () => row.last_active_ip)
})

/** Storage rule "Batched activity" on the sessions of `table`: the twin of the PostgreSQL batched-activity update. */
export const recordBatchActivity = <Row extends ActivityColumns>(
  table: MemoryTable<Row>,
  id: (row: Row) => string,
  activity: ReadonlyArray<ActivityRecord>
): Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError> =>
  Effect.gen(function* () {
    yield* checkActivity(activity)
    if (activity.length === 0) return
    const sorted = sortActivity(activity)
    // UPDATE … FROM touches a row once even when several input rows join it.
    const byId = new Map<string, ActivityRecord>()
    for (const record of sorted) if (!byId.has(record[0])) byId.set(record[0], record)
    // As in PostgreSQL, the rows that exist are updated even when the count then disappoints.
    const updated = yield* table.updateWhere(
      (row) => byId.has(id(row)),
      (row) => applyActivity(row, byId.get(id(row))!)
    )
    yield* expectRowsAffected(sorted.length)(updated)
  })

/** Storage rule "Cleanups", key `last_active_at`: clears `last_active_ip` where it is still set, as PostgreSQL's statement. */
export const clearInactiveIps = <Row extends ActivityColumns>(
  store: MemoryStoreShape,
  table: MemoryTable<Row>,
  id: (row: Row) => string
) =>
  timestampCleanup(store, table, {
    key: (r) => r.last_active_at,
    id,
    where: () => (r) => r.last_active_ip !== null,
    apply: (db, ids) =>
      db.updateWhere(
        table.name,
        (r) => ids.has(id(r as unknown as Row)),
        (r) => ({ ...r, last_active_ip: null })
      )
  })
