// Exact row counts in PostgreSQL: COUNT(*) is a bigint, and only safe integers are returned.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Either, Option } from "effect"
import { type DriverError, InvalidOperationError } from "../../storage/common/errors.js"
import { mapSqlError } from "./errors.js"
import { executorOf } from "./execute.js"

/**
 * A count as node-postgres returns it (int8 arrives as decimal text unless a type parser changed
 * it) → a safe integer. Anything beyond `Number.MAX_SAFE_INTEGER`, negative or not an integer is
 * an `InvalidOperationError` rather than a rounded number.
 */
export const toSafeCount = (value: unknown): Either.Either<number, InvalidOperationError> => {
  let big: bigint | undefined
  if (typeof value === "bigint") big = value
  else if (typeof value === "number" && Number.isInteger(value)) big = BigInt(value)
  else if (typeof value === "string" && /^-?\d+$/.test(value)) big = BigInt(value)
  if (big === undefined || big < 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    return Either.left(
      new InvalidOperationError({ cause: Option.some(`Count ${String(value)} is not a non-negative safe integer`) })
    )
  }
  return Either.right(Number(big))
}

export interface CountOptions {
  /** What follows `FROM` (a table, or joins). */
  readonly from: Fragment
  /** The repository filter's condition. Omitted = every row. */
  readonly filter?: Fragment | undefined
}

/** `SELECT COUNT(*) FROM from WHERE filter`, as a safe integer. */
export const countRows = (
  sql: SqlClient.SqlClient,
  options: CountOptions
): Effect.Effect<number, DriverError | InvalidOperationError> =>
  Effect.gen(function* () {
    const where = options.filter === undefined ? sql`` : sql` WHERE ${options.filter}`
    const rows = yield* mapSqlError(
      executorOf(sql).statementRows(sql<{ count: unknown }>`SELECT COUNT(*) AS count FROM ${options.from}${where}`)
    )
    return yield* toSafeCount(rows[0]?.count)
  })
