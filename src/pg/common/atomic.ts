// Several statements of one method as one atomic write: in the caller's unit of work when there is one, else in a transaction of their own.
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { DriverError } from "../../storage/common/errors.js"
import { fromSqlError } from "./errors.js"

/**
 * Runs `effect` so that its statements commit together. Inside a unit of work they already do (and a failure dooms
 * the unit), so nothing is added: no savepoint, no span. Outside one, they run in their own transaction, whose BEGIN
 * or COMMIT failing is a DriverError like any statement's.
 */
export const atomically =
  (sql: SqlClient.SqlClient) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DriverError, R> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
      Option.isSome(transaction)
        ? effect
        : Effect.mapError(sql.withTransaction(effect), (e): E | DriverError =>
            e instanceof SqlError ? fromSqlError(e) : e
          ).pipe(
            // a failed COMMIT or ROLLBACK is a defect in @effect/sql: for callers it is a driver failure
            Effect.catchSomeDefect((defect) =>
              defect instanceof SqlError ? Option.some(Effect.fail(fromSqlError(defect))) : Option.none()
            )
          )
    )
