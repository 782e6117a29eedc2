// RepositoryAccess on PostgreSQL: every repository on one SqlClient, units of work as SQL transactions.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { SqlError } from "@effect/sql/SqlError"
import { type DriverError, fromSqlError } from "../storage/common/errors.js"
import { runUnitOfWork } from "../storage/common/UnitOfWork.js"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { UserRepository } from "../storage/UserRepository.js"
import { BrowserSessionRepository } from "../storage/BrowserSessionRepository.js"
import * as BrowserSessionRepositoryPg from "./BrowserSessionRepositoryPg.js"
import { UserRegistrationTokenRepository } from "../storage/UserRegistrationTokenRepository.js"
import { UserPasswordRepository } from "../storage/UserPasswordRepository.js"
import { UserRecoveryRepository } from "../storage/UserRecoveryRepository.js"
import { UserEmailRepository } from "../storage/UserEmailRepository.js"
import * as UserRepositoryPg from "./UserRepositoryPg.js"
import { UserRegistrationRepository } from "../storage/UserRegistrationRepository.js"
import { UserTermsRepository } from "../storage/UserTermsRepository.js"
import * as UserRegistrationRepositoryPg from "./UserRegistrationRepositoryPg.js"
import * as UserTermsRepositoryPg from "./UserTermsRepositoryPg.js"
import * as UserRegistrationTokenRepositoryPg from "./UserRegistrationTokenRepositoryPg.js"
import * as UserPasswordRepositoryPg from "./UserPasswordRepositoryPg.js"
import * as UserRecoveryRepositoryPg from "./UserRecoveryRepositoryPg.js"
import * as UserEmailRepositoryPg from "./UserEmailRepositoryPg.js"

const repositories = Layer.mergeAll(UserRepositoryPg.layer, UserRegistrationRepositoryPg.layer, UserTermsRepositoryPg.layer, BrowserSessionRepositoryPg.layer, UserRegistrationTokenRepositoryPg.layer, UserPasswordRepositoryPg.layer, UserRecoveryRepositoryPg.layer, UserEmailRepositoryPg.layer)

const access = Layer.effect(
  RepositoryAccess,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return RepositoryAccess.of({
      users: yield* UserRepository,
      userRegistrations: yield* UserRegistrationRepository,
      userTerms: yield* UserTermsRepository,
      browserSessions: yield* BrowserSessionRepository,
      userRegistrationTokens: yield* UserRegistrationTokenRepository,
      userPasswords: yield* UserPasswordRepository,
      userRecovery: yield* UserRecoveryRepository,
      userEmails: yield* UserEmailRepository,
      // @effect/sql binds every statement of the fiber to the transaction's connection.
      transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        runUnitOfWork<A, E, R, DriverError, never>(effect, <X, Y, Z>(inner: Effect.Effect<X, Y, Z>) =>
          Effect.mapError(sql.withTransaction(inner), (e): Y | DriverError => (e instanceof SqlError ? fromSqlError(e) : e)).pipe(
            // @effect/sql turns a failed COMMIT or ROLLBACK into a defect (e.g. the server ended the connection):
            // for callers it is a driver failure like any other, so it stays a typed DriverError.
            Effect.catchSomeDefect((defect) =>
              defect instanceof SqlError ? Option.some(Effect.fail(fromSqlError(defect))) : Option.none()
            )
          )
        )
    })
  })
)

/** Every repository and RepositoryAccess, on the SqlClient of the environment. */
export const layer = Layer.provideMerge(access, repositories)
