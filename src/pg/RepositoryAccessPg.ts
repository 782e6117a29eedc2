// RepositoryAccess on PostgreSQL: every repository on one SqlClient, units of work as SQL transactions.
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Option } from "effect"
import type { DriverError } from "../storage/common/errors.js"
import { fromSqlError } from "./common/errors.js"
import { runUnitOfWork } from "../storage/common/UnitOfWork.js"
import { makeRepositoryAccess, mergeRepositoryLayers, RepositoryAccess } from "../storage/RepositoryAccess.js"
import { layers } from "./repositories.js"

const access = Layer.effect(
  RepositoryAccess,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // @effect/sql binds every statement of the fiber to the transaction's connection.
    const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      runUnitOfWork<A, E, R, DriverError, never>(effect, <X, Y, Z>(inner: Effect.Effect<X, Y, Z>) =>
        Effect.mapError(sql.withTransaction(inner), (e): Y | DriverError =>
          e instanceof SqlError ? fromSqlError(e) : e
        ).pipe(
          // @effect/sql turns a failed COMMIT or ROLLBACK into a defect (e.g. the server ended the connection):
          // for callers it is a driver failure like any other, so it stays a typed DriverError.
          Effect.catchSomeDefect((defect) =>
            defect instanceof SqlError ? Option.some(Effect.fail(fromSqlError(defect))) : Option.none()
          )
        )
      )
    return yield* makeRepositoryAccess(transaction)
  })
)

/** Every repository and RepositoryAccess, on the SqlClient of the environment. */
export const layer = Layer.provideMerge(access, mergeRepositoryLayers(layers))
