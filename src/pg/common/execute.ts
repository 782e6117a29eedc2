// Where every repository statement runs: as an @effect/sql statement when traced, else straight on the connection that statement would use.
import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, type Scope } from "effect"
import { isTraced } from "./tracing.js"

/**
 * How the repositories send SQL. Traced, a statement runs as @effect/sql runs it, in its `sql.execute` span that
 * carries the text. Untraced (nobody would read that span), it runs on the same connection without the span and
 * the per-statement scope; a declared text also skips the compile, as it has no fragments.
 */
export interface Executor {
  /** The rows of a declared text, its parameters already encoded. */
  readonly rows: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<object>, SqlError>
  /** The number of rows a declared text touched (for writes without RETURNING). */
  readonly rowCount: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<number, SqlError>
  /** The rows of a statement assembled from fragments. */
  readonly statementRows: <A extends object>(
    statement: Statement.Statement<A>
  ) => Effect.Effect<ReadonlyArray<A>, SqlError>
  /** The number of rows a statement assembled from fragments touched. */
  readonly statementRowCount: (statement: Statement.Statement<unknown>) => Effect.Effect<number, SqlError>
}

/**
 * The connection a statement of `sql` runs on, found as @effect/sql finds it: the fiber's transaction connection when
 * it has one, else the client's pool connection. @effect/sql-pg's pool connection is one object for the client's
 * life (each statement on it takes a pooled connection and gives it back), so it is looked up once, outside any
 * transaction, through the client's own acquirer (which its statements carry), and reused without a scope per call.
 * `undefined` for a client that is not @effect/sql-pg's: its statements always go through @effect/sql.
 */
const connectionOf = (sql: SqlClient.SqlClient): Effect.Effect<Connection, SqlError> | undefined => {
  const acquirer: unknown = (sql.unsafe("") as unknown as { readonly acquirer?: unknown }).acquirer
  if (!(PgClient.TypeId in sql) || !Effect.isEffect(acquirer)) return undefined
  let pool: Connection | undefined
  const poolConnection = Effect.suspend(() =>
    pool === undefined
      ? Effect.tap(Effect.scoped(acquirer as Effect.Effect<Connection, SqlError, Scope.Scope>), (c) => {
          pool = c
        })
      : Effect.succeed(pool)
  )
  return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
    Option.isSome(transaction) ? Effect.succeed(transaction.value[0]) : poolConnection
  )
}

/** pg's result of a write: its `rowCount` (null for statements that report none). */
const rowCountOf = (result: unknown): number => Number((result as { rowCount?: number | null }).rowCount ?? 0)

const make = (sql: SqlClient.SqlClient): Executor => {
  const connection = connectionOf(sql)
  const unsafe = (text: string, params: ReadonlyArray<unknown>) => sql.unsafe<object>(text, params as Array<unknown>)
  if (connection === undefined) {
    return {
      rows: unsafe,
      rowCount: (text, params) => Effect.map(unsafe(text, params).raw, rowCountOf),
      statementRows: (statement) => statement,
      statementRowCount: (statement) => Effect.map(statement.raw, rowCountOf)
    }
  }
  const either = <A>(traced: () => Effect.Effect<A, SqlError>, direct: (c: Connection) => Effect.Effect<A, SqlError>) =>
    Effect.withFiberRuntime<A, SqlError>((fiber) => (isTraced(fiber) ? traced() : Effect.flatMap(connection, direct)))
  return {
    rows: (text, params) =>
      either(
        () => unsafe(text, params),
        (c) => c.execute(text, params, undefined)
      ),
    rowCount: (text, params) =>
      Effect.map(
        either(
          () => unsafe(text, params).raw,
          (c) => c.executeRaw(text, params)
        ),
        rowCountOf
      ),
    statementRows: <A extends object>(statement: Statement.Statement<A>) =>
      either(
        () => statement,
        (c) => {
          const [text, params] = statement.compile()
          return c.execute(text, params, undefined) as Effect.Effect<ReadonlyArray<A>, SqlError>
        }
      ),
    statementRowCount: (statement) =>
      Effect.map(
        either(
          () => statement.raw,
          (c) => {
            const [text, params] = statement.compile(true)
            return c.executeRaw(text, params)
          }
        ),
        rowCountOf
      )
  }
}

const executors = new WeakMap<SqlClient.SqlClient, Executor>()

/** The executor of a client, made once per client. */
export const executorOf = (sql: SqlClient.SqlClient): Executor => {
  let executor = executors.get(sql)
  if (executor === undefined) {
    executor = make(sql)
    executors.set(sql, executor)
  }
  return executor
}
