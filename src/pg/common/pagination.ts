// Keyset pagination in PostgreSQL: the WHERE/ORDER BY/LIMIT pieces and a runner returning a Page.
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import type * as Statement from "@effect/sql/Statement"
import { Effect, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import type { DriverError, InvalidOperationError } from "../../storage/common/errors.js"
import { mapSqlError } from "./errors.js"
import { executorOf } from "./execute.js"
import { Page, type Pagination } from "../../storage/common/Pagination.js"
import { cursorToUuid } from "./uuid.js"

export interface KeysetClauses {
  /** `id > $after` and/or `id < $before` (cursors sent as uuid text); empty when neither is set. */
  readonly conditions: ReadonlyArray<Fragment>
  /** `id ASC` going forward, `id DESC` going backward. */
  readonly orderBy: Fragment
  /** `count + 1`, as a bound parameter. */
  readonly limit: Fragment
}

const column = (sql: Statement.Constructor, idColumn: string | Fragment): Fragment =>
  typeof idColumn === "string" ? sql`${sql(idColumn)}` : idColumn

/**
 * The keyset pieces for a uuid primary-key column (a name, possibly qualified as `"t.id"`, or a
 * fragment). Fails only when a cursor is not ULID text, which a `Ulid` value never is.
 */
export const keysetClauses = (
  sql: Statement.Constructor,
  idColumn: string | Fragment,
  pagination: Pagination
): Effect.Effect<KeysetClauses, InvalidOperationError> =>
  Effect.gen(function* () {
    const id = column(sql, idColumn)
    const conditions: Array<Fragment> = []
    if (Option.isSome(pagination.after)) conditions.push(sql`${id} > ${yield* cursorToUuid(pagination.after.value)}`)
    if (Option.isSome(pagination.before)) conditions.push(sql`${id} < ${yield* cursorToUuid(pagination.before.value)}`)
    const orderBy = pagination.direction === "forward" ? sql`${id} ASC` : sql`${id} DESC`
    return { conditions, orderBy, limit: sql`${pagination.limit}` }
  })

export interface ListPageOptions<Row> {
  /** `SELECT … FROM …` (joins allowed), without WHERE/ORDER BY/LIMIT. */
  readonly select: Fragment
  /** The repository filter's condition; AND-ed with the keyset conditions. Omitted = every row. */
  readonly filter?: Fragment | undefined
  /** The uuid primary key the rows are ordered by (name or fragment). */
  readonly idColumn: string | Fragment
  readonly pagination: Pagination
  /** The row's id as a ULID cursor (the row's uuid converted back). */
  readonly cursorOf: (row: Row) => Ulid
}

/**
 * Runs `select WHERE filter AND keyset ORDER BY id LIMIT count + 1` and builds the page with
 * `Page.process`. Rows come back raw: decode them with `page.tryMap`.
 */
export const listPage = <Row extends object>(
  sql: SqlClient.SqlClient,
  options: ListPageOptions<Row>
): Effect.Effect<Page<Row>, DriverError | InvalidOperationError> =>
  Effect.gen(function* () {
    const keyset = yield* keysetClauses(sql, options.idColumn, options.pagination)
    // The filter is parenthesised: sql.and adds no parentheses around a lone clause or its members.
    const conditions =
      options.filter === undefined ? keyset.conditions : [sql`(${options.filter})`, ...keyset.conditions]
    const rows = yield* mapSqlError(
      executorOf(sql).statementRows(
        sql<Row>`${options.select} WHERE ${sql.and(conditions)} ORDER BY ${keyset.orderBy} LIMIT ${keyset.limit}`
      )
    )
    return Page.process(rows, options.pagination, options.cursorOf)
  })
