// One service that gives every repository and the unit of work (MAS's RepositoryAccess): what application code depends on.
import { Context, Effect } from "effect"
import { BrowserSessionRepository, type BrowserSessionRepositoryShape } from "./user/BrowserSessionRepository.js"
import type { DriverError } from "./common/errors.js"
import { UserEmailRepository, type UserEmailRepositoryShape } from "./user/UserEmailRepository.js"
import { UserPasswordRepository, type UserPasswordRepositoryShape } from "./user/UserPasswordRepository.js"
import { UserRecoveryRepository, type UserRecoveryRepositoryShape } from "./user/UserRecoveryRepository.js"
import { UserRegistrationRepository, type UserRegistrationRepositoryShape } from "./user/UserRegistrationRepository.js"
import {
  UserRegistrationTokenRepository,
  type UserRegistrationTokenRepositoryShape
} from "./user/UserRegistrationTokenRepository.js"
import { UserRepository, type UserRepositoryShape } from "./user/UserRepository.js"
import { UserTermsRepository, type UserTermsRepositoryShape } from "./user/UserTermsRepository.js"

/** Runs an effect as one unit of work (see `RepositoryAccessShape.transaction`). */
export type UnitOfWorkRunner = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DriverError, R>

export interface RepositoryAccessShape {
  readonly users: UserRepositoryShape
  readonly userEmails: UserEmailRepositoryShape
  readonly userPasswords: UserPasswordRepositoryShape
  readonly userRecovery: UserRecoveryRepositoryShape
  readonly userRegistrations: UserRegistrationRepositoryShape
  readonly userRegistrationTokens: UserRegistrationTokenRepositoryShape
  readonly userTerms: UserTermsRepositoryShape
  readonly browserSessions: BrowserSessionRepositoryShape
  /**
   * Runs `effect` as one unit of work: every repository call inside it is bound to one transaction,
   * committed when it succeeds (MAS's `save`) and rolled back when it fails or is interrupted
   * (MAS's `cancel`). A driver error caught inside still dooms the unit: it then fails with a
   * DriverError instead of committing. Nested calls are savepoints.
   */
  readonly transaction: UnitOfWorkRunner
}

export class RepositoryAccess extends Context.Tag("storage/RepositoryAccess")<RepositoryAccess, RepositoryAccessShape>() {}

/** Gathers the repositories of the environment and the backend's unit of work: the one constructor both backends use. */
export const makeRepositoryAccess = (transaction: UnitOfWorkRunner) =>
  Effect.gen(function* () {
    return RepositoryAccess.of({
      users: yield* UserRepository,
      userEmails: yield* UserEmailRepository,
      userPasswords: yield* UserPasswordRepository,
      userRecovery: yield* UserRecoveryRepository,
      userRegistrations: yield* UserRegistrationRepository,
      userRegistrationTokens: yield* UserRegistrationTokenRepository,
      userTerms: yield* UserTermsRepository,
      browserSessions: yield* BrowserSessionRepository,
      transaction
    })
  })
