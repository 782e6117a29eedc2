// Session activity in PostgreSQL, the same for every kind of session: the batched-activity update and its run, and the
// cleanup that clears the IPs of inactive sessions.
import { Effect, Option, Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"
import { checkActivity } from "../../storage/common/limits.js"
import { type ActivityRecord, IpAddressFromSelf, sortActivity } from "../../model/values.js"
import {
  type DriverError,
  expectRowsAffected,
  type InvalidOperationError,
  type RowsAffectedError
} from "../../storage/common/errors.js"
import type { BoundQuery } from "../query.js"

/** The ids, instants and IPs of a batch, one array each, in the order of `batchActivityText`'s parameters. */
export const BatchActivityParams = Schema.Tuple(
  Schema.Array(UlidFromUuid),
  Schema.Array(Schema.DateFromSelf),
  Schema.Array(Schema.NullOr(IpAddressFromSelf))
)

/**
 * Storage rule "Batched activity" on `table` (keyed by `idColumn`): GREATEST ignores NULL, so a session never active
 * takes the given instant, and COALESCE keeps the stored IP when none is given; the id-ordered input is the lock order.
 * An id given twice keeps its first entry (DISTINCT ON over the input order): UPDATE … FROM would otherwise take an
 * unpredictable one of the joined rows, and memory takes the first.
 */
export const batchActivityText = (table: string, idColumn: string): string =>
  `UPDATE ${table} SET last_active_at = GREATEST(t.last_active_at, ${table}.last_active_at), ` +
  `last_active_ip = COALESCE(t.last_active_ip, ${table}.last_active_ip) ` +
  `FROM (SELECT DISTINCT ON (u.${idColumn}) u.${idColumn}, u.last_active_at, u.last_active_ip ` +
  `FROM UNNEST($1::uuid[], $2::timestamptz[], $3::inet[]) WITH ORDINALITY ` +
  `AS u(${idColumn}, last_active_at, last_active_ip, position) ` +
  `ORDER BY u.${idColumn}, u.position) AS t ` +
  `WHERE ${table}.${idColumn} = t.${idColumn}`

/** Runs a `batchActivityText` statement: nothing for an empty batch, else every id must name exactly one row. */
export const recordBatchActivity = (
  statement: Pick<BoundQuery<typeof BatchActivityParams.Type, unknown>, "affected">,
  activity: ReadonlyArray<ActivityRecord>
): Effect.Effect<void, DriverError | InvalidOperationError | RowsAffectedError> =>
  Effect.gen(function* () {
    yield* checkActivity(activity)
    if (activity.length === 0) return
    const sorted = sortActivity(activity)
    const updated = yield* statement.affected(
      sorted.map(([id]) => id),
      sorted.map(([, at]) => at),
      sorted.map(([, , ip]) => Option.getOrNull(ip))
    )
    yield* expectRowsAffected(sorted.length)(updated)
  })

/**
 * Storage rule "Cleanups", key `last_active_at` (`$1 <= last_active_at < $2`, at most `$3`, ties in id order): clears
 * `last_active_ip` where it is still set, ending with the timestamp cleanup's one row.
 */
export const clearInactiveIpsText = (table: string, idColumn: string): string =>
  [
    "WITH to_update AS (",
    `SELECT ${table}.${idColumn} FROM ${table}`,
    `WHERE ${table}.last_active_ip IS NOT NULL`,
    `AND ${table}.last_active_at IS NOT NULL`,
    `AND ($1::timestamptz IS NULL OR ${table}.last_active_at >= $1)`,
    `AND ${table}.last_active_at < $2`,
    `ORDER BY ${table}.last_active_at ASC, ${table}.${idColumn} ASC`,
    "LIMIT $3",
    `FOR UPDATE OF ${table}`,
    "), updated AS (",
    `UPDATE ${table} SET last_active_ip = NULL FROM to_update`,
    `WHERE ${table}.${idColumn} = to_update.${idColumn}`,
    `RETURNING ${table}.last_active_at`,
    ")",
    "SELECT COUNT(*) AS count, MAX(updated.last_active_at) AS last FROM updated"
  ].join(" ")
