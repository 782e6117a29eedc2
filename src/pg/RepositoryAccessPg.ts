// RepositoryAccess on PostgreSQL: every repository on one SqlClient, units of work as SQL transactions.
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Option } from "effect"
import type { DriverError } from "../storage/common/errors.js"
import { fromSqlError } from "./common/errors.js"
import { runUnitOfWork } from "../storage/common/UnitOfWork.js"
import {
  makeRepositoryAccess,
  mergeRepositoryLayers,
  RepositoryAccess,
  type RepositoryLayers
} from "../storage/RepositoryAccess.js"
import * as BrowserSessionRepositoryPg from "./user/BrowserSessionRepositoryPg.js"
import * as UserEmailRepositoryPg from "./user/UserEmailRepositoryPg.js"
import * as UserPasswordRepositoryPg from "./user/UserPasswordRepositoryPg.js"
import * as UserRecoveryRepositoryPg from "./user/UserRecoveryRepositoryPg.js"
import * as UserRegistrationRepositoryPg from "./user/UserRegistrationRepositoryPg.js"
import * as UserRegistrationTokenRepositoryPg from "./user/UserRegistrationTokenRepositoryPg.js"
import * as UserRepositoryPg from "./user/UserRepositoryPg.js"
import * as UserTermsRepositoryPg from "./user/UserTermsRepositoryPg.js"

/** One layer per repository of the registry (src/storage/RepositoryAccess.ts); a missing one does not compile. */
const layers: RepositoryLayers<SqlClient.SqlClient> = {
  users: UserRepositoryPg.layer,
  userEmails: UserEmailRepositoryPg.layer,
  userPasswords: UserPasswordRepositoryPg.layer,
  userRecovery: UserRecoveryRepositoryPg.layer,
  userRegistrations: UserRegistrationRepositoryPg.layer,
  userRegistrationTokens: UserRegistrationTokenRepositoryPg.layer,
  userTerms: UserTermsRepositoryPg.layer,
  browserSessions: BrowserSessionRepositoryPg.layer
}

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
