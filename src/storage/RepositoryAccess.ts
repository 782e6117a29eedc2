// One service that gives every repository and the unit of work (MAS's RepositoryAccess): what application code depends on.
import { Context, Effect, Layer } from "effect"
import { AppSessionRepository } from "./appSession/AppSessionRepository.js"
import type { DriverError } from "./common/errors.js"
import { CompatAccessTokenRepository } from "./compat/CompatAccessTokenRepository.js"
import { CompatRefreshTokenRepository } from "./compat/CompatRefreshTokenRepository.js"
import { CompatSessionRepository } from "./compat/CompatSessionRepository.js"
import { CompatSsoLoginRepository } from "./compat/CompatSsoLoginRepository.js"
import { OAuth2AccessTokenRepository } from "./oauth2/OAuth2AccessTokenRepository.js"
import { OAuth2AuthorizationGrantRepository } from "./oauth2/OAuth2AuthorizationGrantRepository.js"
import { OAuth2ClientRepository } from "./oauth2/OAuth2ClientRepository.js"
import { OAuth2DeviceCodeGrantRepository } from "./oauth2/OAuth2DeviceCodeGrantRepository.js"
import { OAuth2RefreshTokenRepository } from "./oauth2/OAuth2RefreshTokenRepository.js"
import { OAuth2SessionRepository } from "./oauth2/OAuth2SessionRepository.js"
import { PersonalAccessTokenRepository } from "./personal/PersonalAccessTokenRepository.js"
import { PersonalSessionRepository } from "./personal/PersonalSessionRepository.js"
import { PolicyDataRepository } from "./policy/PolicyDataRepository.js"
import { QueueScheduleRepository } from "./queue/QueueScheduleRepository.js"
import { QueueJobRepository } from "./queue/QueueJobRepository.js"
import { QueueWorkerRepository } from "./queue/QueueWorkerRepository.js"
import { UpstreamOAuthLinkRepository } from "./upstream/UpstreamOAuthLinkRepository.js"
import { UpstreamOAuthProviderRepository } from "./upstream/UpstreamOAuthProviderRepository.js"
import { UpstreamOAuthSessionRepository } from "./upstream/UpstreamOAuthSessionRepository.js"
import { BrowserSessionRepository } from "./user/BrowserSessionRepository.js"
import { UserEmailRepository } from "./user/UserEmailRepository.js"
import { UserPasswordRepository } from "./user/UserPasswordRepository.js"
import { UserRecoveryRepository } from "./user/UserRecoveryRepository.js"
import { UserRegistrationRepository } from "./user/UserRegistrationRepository.js"
import { UserRegistrationTokenRepository } from "./user/UserRegistrationTokenRepository.js"
import { UserRepository } from "./user/UserRepository.js"
import { UserTermsRepository } from "./user/UserTermsRepository.js"

/** Runs an effect as one unit of work (see `RepositoryAccessShape.transaction`). */
export type UnitOfWorkRunner = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DriverError, R>

/**
 * The one table of repositories: the accessor name on RepositoryAccess and the repository's Tag. Everything else is
 * derived from it: the RepositoryAccess shape, the tables of layers each backend must fill, the test support's types.
 */
export const repositoryTags = {
  users: UserRepository,
  userEmails: UserEmailRepository,
  userPasswords: UserPasswordRepository,
  userRecovery: UserRecoveryRepository,
  userRegistrations: UserRegistrationRepository,
  userRegistrationTokens: UserRegistrationTokenRepository,
  userTerms: UserTermsRepository,
  browserSessions: BrowserSessionRepository,
  oauth2AccessTokens: OAuth2AccessTokenRepository,
  oauth2AuthorizationGrants: OAuth2AuthorizationGrantRepository,
  oauth2Clients: OAuth2ClientRepository,
  oauth2DeviceCodeGrants: OAuth2DeviceCodeGrantRepository,
  oauth2RefreshTokens: OAuth2RefreshTokenRepository,
  oauth2Sessions: OAuth2SessionRepository,
  compatAccessTokens: CompatAccessTokenRepository,
  compatRefreshTokens: CompatRefreshTokenRepository,
  compatSessions: CompatSessionRepository,
  compatSsoLogins: CompatSsoLoginRepository,
  upstreamOAuthProviders: UpstreamOAuthProviderRepository,
  upstreamOAuthLinks: UpstreamOAuthLinkRepository,
  upstreamOAuthSessions: UpstreamOAuthSessionRepository,
  personalSessions: PersonalSessionRepository,
  personalAccessTokens: PersonalAccessTokenRepository,
  appSessions: AppSessionRepository,
  policyData: PolicyDataRepository,
  queueSchedules: QueueScheduleRepository,
  queueJobs: QueueJobRepository,
  queueWorkers: QueueWorkerRepository
} as const

type RepositoryTagTable = typeof repositoryTags

/** The service of every repository, by accessor. */
export type Repositories = { readonly [K in keyof RepositoryTagTable]: Context.Tag.Service<RepositoryTagTable[K]> }

/** The union of every repository's Tag identifier: what a backend's layers together provide. */
export type AnyRepository = Context.Tag.Identifier<RepositoryTagTable[keyof RepositoryTagTable]>

/**
 * A backend's table of layers, one per repository, each needing `R`: a backend that lacks a repository, or gives
 * one the layer of another, does not compile.
 */
export type RepositoryLayers<R> = {
  readonly [K in keyof RepositoryTagTable]: Layer.Layer<Context.Tag.Identifier<RepositoryTagTable[K]>, never, R>
}

/** Every layer of a backend's table merged into one. */
export const mergeRepositoryLayers = <R>(layers: RepositoryLayers<R>): Layer.Layer<AnyRepository, never, R> => {
  const [first, ...rest] = Object.values(layers) as ReadonlyArray<Layer.Layer<AnyRepository, never, R>>
  return Layer.mergeAll(first!, ...rest)
}

export interface RepositoryAccessShape extends Repositories {
  /**
   * Runs `effect` as one unit of work: every repository call inside it is bound to one transaction,
   * committed when it succeeds (MAS's `save`) and rolled back when it fails or is interrupted
   * (MAS's `cancel`). A driver error caught inside still dooms the unit: it then fails with a
   * DriverError instead of committing. Nested calls are savepoints.
   */
  readonly transaction: UnitOfWorkRunner
}

export class RepositoryAccess extends Context.Tag("storage/RepositoryAccess")<
  RepositoryAccess,
  RepositoryAccessShape
>() {}

/** Gathers the repositories of the environment and the backend's unit of work: the one constructor both backends use. */
export const makeRepositoryAccess = (transaction: UnitOfWorkRunner) =>
  Effect.map(Effect.all(repositoryTags), (repositories) => RepositoryAccess.of({ ...repositories, transaction }))
