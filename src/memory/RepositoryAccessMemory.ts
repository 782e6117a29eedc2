// RepositoryAccess in memory: every repository over one fresh MemoryStore, units of work that roll back to a snapshot.
import { Effect, Layer } from "effect"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { UserRepository } from "../storage/UserRepository.js"
import { BrowserSessionRepository } from "../storage/BrowserSessionRepository.js"
import * as BrowserSessionRepositoryMemory from "./BrowserSessionRepositoryMemory.js"
import { UserRegistrationTokenRepository } from "../storage/UserRegistrationTokenRepository.js"
import { UserPasswordRepository } from "../storage/UserPasswordRepository.js"
import { UserRecoveryRepository } from "../storage/UserRecoveryRepository.js"
import { UserEmailRepository } from "../storage/UserEmailRepository.js"
import * as MemoryStore from "./MemoryStore.js"
import * as UserRepositoryMemory from "./UserRepositoryMemory.js"
import { UserRegistrationRepository } from "../storage/UserRegistrationRepository.js"
import { UserTermsRepository } from "../storage/UserTermsRepository.js"
import * as UserRegistrationRepositoryMemory from "./UserRegistrationRepositoryMemory.js"
import * as UserTermsRepositoryMemory from "./UserTermsRepositoryMemory.js"
import * as UserRegistrationTokenRepositoryMemory from "./UserRegistrationTokenRepositoryMemory.js"
import * as UserPasswordRepositoryMemory from "./UserPasswordRepositoryMemory.js"
import * as UserRecoveryRepositoryMemory from "./UserRecoveryRepositoryMemory.js"
import * as UserEmailRepositoryMemory from "./UserEmailRepositoryMemory.js"

const repositories = Layer.mergeAll(UserRepositoryMemory.layer, UserRegistrationRepositoryMemory.layer, UserTermsRepositoryMemory.layer, BrowserSessionRepositoryMemory.layer, UserRegistrationTokenRepositoryMemory.layer, UserPasswordRepositoryMemory.layer, UserRecoveryRepositoryMemory.layer, UserEmailRepositoryMemory.layer)

const access = Layer.effect(
  RepositoryAccess,
  Effect.gen(function* () {
    const store = yield* MemoryStore.MemoryStore
    return RepositoryAccess.of({
      users: yield* UserRepository,
      userRegistrations: yield* UserRegistrationRepository,
      userTerms: yield* UserTermsRepository,
      browserSessions: yield* BrowserSessionRepository,
      userRegistrationTokens: yield* UserRegistrationTokenRepository,
      userPasswords: yield* UserPasswordRepository,
      userRecovery: yield* UserRecoveryRepository,
      userEmails: yield* UserEmailRepository,
      transaction: store.transaction
    })
  })
)

/** Every repository and RepositoryAccess over a fresh, empty in-memory database. */
export const layer = Layer.provideMerge(access, repositories).pipe(Layer.provideMerge(MemoryStore.layer))
