// RepositoryAccess on PostgreSQL: every repository on one SqlClient, units of work as SQL transactions.
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { SqlError } from "@effect/sql/SqlError"
import { type DriverError, fromSqlError } from "../storage/common/errors.js"
import { runUnitOfWork } from "../storage/common/UnitOfWork.js"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { UserRepository } from "../storage/UserRepository.js"
import * as UserRepositoryPg from "./UserRepositoryPg.js"

const repositories = Layer.mergeAll(UserRepositoryPg.layer)

const access = Layer.effect(
  RepositoryAccess,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return RepositoryAccess.of({
      users: yield* UserRepository,
      // @effect/sql binds every statement of the fiber to the transaction's connection.
      transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        runUnitOfWork<A, E, R, DriverError, never>(effect, <X, Y, Z>(inner: Effect.Effect<X, Y, Z>) =>
          Effect.mapError(sql.withTransaction(inner), (e): Y | DriverError => (e instanceof SqlError ? fromSqlError(e) : e))
        )
    })
  })
)

/** Every repository and RepositoryAccess, on the SqlClient of the environment. */
export const layer = Layer.provideMerge(access, repositories)
