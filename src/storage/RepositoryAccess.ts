// One service that gives every repository and the unit of work (MAS's RepositoryAccess): what application code depends on.
import { Context, type Effect } from "effect"
import type { DriverError } from "./common/errors.js"
import type { UserRepositoryShape } from "./UserRepository.js"
import type { UserRegistrationRepositoryShape } from "./UserRegistrationRepository.js"
import type { UserTermsRepositoryShape } from "./UserTermsRepository.js"
import type { BrowserSessionRepositoryShape } from "./BrowserSessionRepository.js"
import type { UserRegistrationTokenRepositoryShape } from "./UserRegistrationTokenRepository.js"
import type { UserPasswordRepositoryShape } from "./UserPasswordRepository.js"
import type { UserRecoveryRepositoryShape } from "./UserRecoveryRepository.js"
import type { UserEmailRepositoryShape } from "./UserEmailRepository.js"

export interface RepositoryAccessShape {
  readonly users: UserRepositoryShape
  readonly userRegistrations: UserRegistrationRepositoryShape
  readonly userTerms: UserTermsRepositoryShape
  readonly browserSessions: BrowserSessionRepositoryShape
  readonly userRegistrationTokens: UserRegistrationTokenRepositoryShape
  readonly userPasswords: UserPasswordRepositoryShape
  readonly userRecovery: UserRecoveryRepositoryShape
  readonly userEmails: UserEmailRepositoryShape
  /**
   * Runs `effect` as one unit of work: every repository call inside it is bound to one transaction,
   * committed when it succeeds (MAS's `save`) and rolled back when it fails or is interrupted
   * (MAS's `cancel`). A driver error caught inside still dooms the unit: it then fails with a
   * DriverError instead of committing. Nested calls are savepoints.
   */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DriverError, R>
}

export class RepositoryAccess extends Context.Tag("storage/RepositoryAccess")<RepositoryAccess, RepositoryAccessShape>() {}
