// Batched cleanups in PostgreSQL: the ULID-keyed statement, the one result row a timestamp-keyed statement returns, and
// the run of a timestamp-keyed cleanup method.
import { Effect, Option, Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import type { DriverError, InconsistencyError, InvalidOperationError } from "../../storage/common/errors.js"
import { checkCleanupLimit } from "../../storage/common/limits.js"
import type { BoundQuery } from "../query.js"
import { toSafeCount } from "./count.js"

/** `since` (NULL: from the start), `until` and the limit of a ULID-keyed cleanup statement. */
export const UlidCleanupParams = Schema.Tuple(Schema.NullOr(UlidFromUuid), UlidFromUuid, Schema.Int)

/**
 * Storage rule "Cleanups", ULID key: deletes the rows of `table` with `$1 < idColumn <= $2` (no lower bound when `$1`
 * is NULL) and `where` (a further condition of the selection, if given), in id order, at most `$3`, returning their
 * ids (read with `CleanupResult.fromKeys`).
 */
export const ulidCleanupText = (table: string, idColumn: string, where?: string): string =>
  [
    "WITH to_delete AS (",
    `SELECT ${idColumn} FROM ${table}`,
    `WHERE ($1::uuid IS NULL OR ${idColumn} > $1::uuid) AND ${idColumn} <= $2` +
      (where === undefined ? "" : ` AND ${where}`),
    `ORDER BY ${idColumn}`,
    "LIMIT $3",
    ")",
    `DELETE FROM ${table} USING to_delete`,
    `WHERE ${table}.${idColumn} = to_delete.${idColumn}`,
    `RETURNING ${table}.${idColumn}`
  ].join(" ")

/**
 * The end of a timestamp-keyed cleanup statement, after its `WITH to_delete AS (SELECT idColumn …` selection: the
 * DELETE of the selected rows and the one result row (`count`, greatest `key`).
 */
export const deleteSelectedText = (table: string, idColumn: string, key: string): ReadonlyArray<string> => [
  "), deleted AS (",
  `DELETE FROM ${table} USING to_delete`,
  `WHERE ${table}.${idColumn} = to_delete.${idColumn}`,
  `RETURNING ${table}.${key}`,
  ")",
  `SELECT COUNT(*) AS count, MAX(deleted.${key}) AS last FROM deleted`
]

/**
 * Storage rule "Cleanups", timestamp key: deletes the rows of `table` with `$1 <= key < $2` (no lower bound when `$1`
 * is NULL; rows whose key is NULL never), locked, in key order then id, at most `$3`, ending with the one result row.
 */
export const timestampCleanupText = (table: string, idColumn: string, key: string): string =>
  [
    "WITH to_delete AS (",
    `SELECT ${idColumn} FROM ${table}`,
    `WHERE ${key} IS NOT NULL`,
    `AND ($1::timestamptz IS NULL OR ${key} >= $1)`,
    `AND ${key} < $2`,
    `ORDER BY ${key} ASC, ${idColumn} ASC`,
    "LIMIT $3",
    "FOR UPDATE",
    ...deleteSelectedText(table, idColumn, key)
  ].join(" ")

/** `since` (NULL: from the start), `until` and the limit of a timestamp-keyed cleanup statement. */
export const TimestampCleanupParams = Schema.Tuple(
  Schema.NullOr(Schema.DateFromSelf),
  Schema.DateFromSelf,
  Schema.NonNegativeInt
)

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

/** A timestamp-keyed cleanup method over its statement: the limit checked before anything is sent, the one row read. */
export const timestampCleanup =
  (statement: Pick<BoundQuery<typeof TimestampCleanupParams.Type, TimestampCleanupRow>, "all">) =>
  (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ): Effect.Effect<CleanupResult<Date>, DriverError | InconsistencyError | InvalidOperationError> =>
    Effect.gen(function* () {
      yield* checkCleanupLimit(limit)
      return yield* timestampCleanupResult(yield* statement.all(Option.getOrNull(since), until, limit))
    })
