// RepositoryAccess in memory: every repository over one fresh MemoryStore, units of work that roll back to a snapshot.
import { Effect, Layer } from "effect"
import {
  makeRepositoryAccess,
  mergeRepositoryLayers,
  RepositoryAccess,
  type RepositoryLayers
} from "../storage/RepositoryAccess.js"
import * as AppSessionRepositoryMemory from "./appSession/AppSessionRepositoryMemory.js"
import * as CompatAccessTokenRepositoryMemory from "./compat/CompatAccessTokenRepositoryMemory.js"
import * as CompatRefreshTokenRepositoryMemory from "./compat/CompatRefreshTokenRepositoryMemory.js"
import * as CompatSessionRepositoryMemory from "./compat/CompatSessionRepositoryMemory.js"
import * as CompatSsoLoginRepositoryMemory from "./compat/CompatSsoLoginRepositoryMemory.js"
import * as OAuth2AccessTokenRepositoryMemory from "./oauth2/OAuth2AccessTokenRepositoryMemory.js"
import * as OAuth2AuthorizationGrantRepositoryMemory from "./oauth2/OAuth2AuthorizationGrantRepositoryMemory.js"
import * as OAuth2ClientRepositoryMemory from "./oauth2/OAuth2ClientRepositoryMemory.js"
import * as OAuth2DeviceCodeGrantRepositoryMemory from "./oauth2/OAuth2DeviceCodeGrantRepositoryMemory.js"
import * as OAuth2RefreshTokenRepositoryMemory from "./oauth2/OAuth2RefreshTokenRepositoryMemory.js"
import * as OAuth2SessionRepositoryMemory from "./oauth2/OAuth2SessionRepositoryMemory.js"
import * as PersonalAccessTokenRepositoryMemory from "./personal/PersonalAccessTokenRepositoryMemory.js"
import * as PersonalSessionRepositoryMemory from "./personal/PersonalSessionRepositoryMemory.js"
import * as PolicyDataRepositoryMemory from "./policy/PolicyDataRepositoryMemory.js"
import * as QueueScheduleRepositoryMemory from "./queue/QueueScheduleRepositoryMemory.js"
import * as QueueJobRepositoryMemory from "./queue/QueueJobRepositoryMemory.js"
import * as QueueWorkerRepositoryMemory from "./queue/QueueWorkerRepositoryMemory.js"
import * as UpstreamOAuthLinkRepositoryMemory from "./upstream/UpstreamOAuthLinkRepositoryMemory.js"
import * as UpstreamOAuthProviderRepositoryMemory from "./upstream/UpstreamOAuthProviderRepositoryMemory.js"
import * as UpstreamOAuthSessionRepositoryMemory from "./upstream/UpstreamOAuthSessionRepositoryMemory.js"
import * as BrowserSessionRepositoryMemory from "./user/BrowserSessionRepositoryMemory.js"
import * as MemoryStore from "./MemoryStore.js"
import * as UserEmailRepositoryMemory from "./user/UserEmailRepositoryMemory.js"
import * as UserPasswordRepositoryMemory from "./user/UserPasswordRepositoryMemory.js"
import * as UserRecoveryRepositoryMemory from "./user/UserRecoveryRepositoryMemory.js"
import * as UserRegistrationRepositoryMemory from "./user/UserRegistrationRepositoryMemory.js"
import * as UserRegistrationTokenRepositoryMemory from "./user/UserRegistrationTokenRepositoryMemory.js"
import * as UserRepositoryMemory from "./user/UserRepositoryMemory.js"
import * as UserTermsRepositoryMemory from "./user/UserTermsRepositoryMemory.js"

/** One layer per repository of the registry (src/storage/RepositoryAccess.ts); a missing one does not compile. */
const layers: RepositoryLayers<MemoryStore.MemoryStore> = {
  users: UserRepositoryMemory.layer,
  userEmails: UserEmailRepositoryMemory.layer,
  userPasswords: UserPasswordRepositoryMemory.layer,
  userRecovery: UserRecoveryRepositoryMemory.layer,
  userRegistrations: UserRegistrationRepositoryMemory.layer,
  userRegistrationTokens: UserRegistrationTokenRepositoryMemory.layer,
  userTerms: UserTermsRepositoryMemory.layer,
  browserSessions: BrowserSessionRepositoryMemory.layer,
  oauth2AccessTokens: OAuth2AccessTokenRepositoryMemory.layer,
  oauth2AuthorizationGrants: OAuth2AuthorizationGrantRepositoryMemory.layer,
  oauth2Clients: OAuth2ClientRepositoryMemory.layer,
  oauth2DeviceCodeGrants: OAuth2DeviceCodeGrantRepositoryMemory.layer,
  oauth2RefreshTokens: OAuth2RefreshTokenRepositoryMemory.layer,
  oauth2Sessions: OAuth2SessionRepositoryMemory.layer,
  compatAccessTokens: CompatAccessTokenRepositoryMemory.layer,
  compatRefreshTokens: CompatRefreshTokenRepositoryMemory.layer,
  compatSessions: CompatSessionRepositoryMemory.layer,
  compatSsoLogins: CompatSsoLoginRepositoryMemory.layer,
  upstreamOAuthProviders: UpstreamOAuthProviderRepositoryMemory.layer,
  upstreamOAuthLinks: UpstreamOAuthLinkRepositoryMemory.layer,
  upstreamOAuthSessions: UpstreamOAuthSessionRepositoryMemory.layer,
  personalSessions: PersonalSessionRepositoryMemory.layer,
  personalAccessTokens: PersonalAccessTokenRepositoryMemory.layer,
  appSessions: AppSessionRepositoryMemory.layer,
  policyData: PolicyDataRepositoryMemory.layer,
  queueSchedules: QueueScheduleRepositoryMemory.layer,
  queueJobs: QueueJobRepositoryMemory.layer,
  queueWorkers: QueueWorkerRepositoryMemory.layer
}

const access = Layer.effect(
  RepositoryAccess,
  Effect.flatMap(MemoryStore.MemoryStore, (store) => makeRepositoryAccess(store.transaction))
)

/** Every repository and RepositoryAccess over a fresh, empty in-memory database. */
export const layer = Layer.provideMerge(access, mergeRepositoryLayers(layers)).pipe(
  Layer.provideMerge(MemoryStore.layer)
)
