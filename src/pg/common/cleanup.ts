// Batched cleanups in PostgreSQL: the one result row a timestamp-keyed cleanup statement returns, and its reading.
import { Effect, Option, Schema } from "effect"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { toSafeCount } from "./count.js"

/**
 * `SELECT COUNT(*) AS count, MAX(key) AS last FROM deleted`: what a timestamp-keyed cleanup statement ends with.
 * COUNT(*) is a bigint: node-postgres gives decimal text unless a parser was installed.
 */
export const TimestampCleanupRow = Schema.Struct({
  count: Schema.Union(Schema.String, Schema.Number, Schema.BigIntFromSelf),
  last: Schema.NullOr(Schema.DateFromSelf)
})
export type TimestampCleanupRow = typeof TimestampCleanupRow.Type

/** The statement's one row as a CleanupResult (no row: nothing matched). */
export const timestampCleanupResult = (rows: ReadonlyArray<TimestampCleanupRow>) =>
  Effect.map(toSafeCount(rows[0]?.count ?? 0), (n): CleanupResult<Date> =>
    CleanupResult.make(n, Option.fromNullable(rows[0]?.last))
  )
