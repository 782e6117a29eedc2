// Counting and bulk-finishing the sessions a repository filter selects, as the session repositories run them.
import type { SqlClient } from "@effect/sql"
import type { Fragment, Statement } from "@effect/sql/Statement"
import { Effect } from "effect"
import { now } from "../../storage/common/time.js"
import type { DynamicQuery } from "../query.js"
import { countRows } from "./count.js"
import { executorOf } from "./execute.js"

interface FilteredOptions<F, E> {
  /** The filter refused before any statement is built. */
  readonly check: (filter: F) => Effect.Effect<void, E>
  readonly query: DynamicQuery
  readonly fragment: (sql: SqlClient.SqlClient, filter: F) => Fragment
}

/** `count(filter)`: the filter checked, then `SELECT COUNT(*) FROM from WHERE <filter>`. */
export const countFilteredWith =
  <F, E>(sql: SqlClient.SqlClient, options: FilteredOptions<F, E> & { readonly from: () => Fragment }) =>
  (filter: F) =>
    Effect.zipRight(
      options.check(filter),
      Effect.suspend(() =>
        options.query.run(countRows(sql, { from: options.from(), filter: options.fragment(sql, filter) }))
      )
    )

/** `finishBulk(filter)`: the filter checked, then `update` at now over the rows it selects; the number touched. */
export const finishBulkWith =
  <F, E>(
    sql: SqlClient.SqlClient,
    options: FilteredOptions<F, E> & { readonly update: (at: Date, where: Fragment) => Statement<unknown> }
  ) =>
  (filter: F) =>
    options.query.run(
      Effect.gen(function* () {
        yield* options.check(filter)
        const at = yield* now
        return yield* executorOf(sql).statementRowCount(options.update(at, options.fragment(sql, filter)))
      })
    )
