// The PostgreSQL repositories, one line each: the layer the registry asks for and the queries it sends.
import type { SqlClient } from "@effect/sql"
import type { RepositoryLayers } from "../storage/RepositoryAccess.js"
import type { AnyQuery } from "./query.js"
import * as AppSessionRepositoryPg from "./appSession/AppSessionRepositoryPg.js"
import * as CompatAccessTokenRepositoryPg from "./compat/CompatAccessTokenRepositoryPg.js"
import * as CompatRefreshTokenRepositoryPg from "./compat/CompatRefreshTokenRepositoryPg.js"
import * as CompatSessionRepositoryPg from "./compat/CompatSessionRepositoryPg.js"
import * as CompatSsoLoginRepositoryPg from "./compat/CompatSsoLoginRepositoryPg.js"
import * as OAuth2AccessTokenRepositoryPg from "./oauth2/OAuth2AccessTokenRepositoryPg.js"
import * as OAuth2AuthorizationGrantRepositoryPg from "./oauth2/OAuth2AuthorizationGrantRepositoryPg.js"
import * as OAuth2ClientRepositoryPg from "./oauth2/OAuth2ClientRepositoryPg.js"
import * as OAuth2DeviceCodeGrantRepositoryPg from "./oauth2/OAuth2DeviceCodeGrantRepositoryPg.js"
import * as OAuth2RefreshTokenRepositoryPg from "./oauth2/OAuth2RefreshTokenRepositoryPg.js"
import * as OAuth2SessionRepositoryPg from "./oauth2/OAuth2SessionRepositoryPg.js"
import * as PersonalAccessTokenRepositoryPg from "./personal/PersonalAccessTokenRepositoryPg.js"
import * as PersonalSessionRepositoryPg from "./personal/PersonalSessionRepositoryPg.js"
import * as PolicyDataRepositoryPg from "./policy/PolicyDataRepositoryPg.js"
import * as QueueScheduleRepositoryPg from "./queue/QueueScheduleRepositoryPg.js"
import * as QueueJobRepositoryPg from "./queue/QueueJobRepositoryPg.js"
import * as QueueWorkerRepositoryPg from "./queue/QueueWorkerRepositoryPg.js"
import * as UpstreamOAuthLinkRepositoryPg from "./upstream/UpstreamOAuthLinkRepositoryPg.js"
import * as UpstreamOAuthProviderRepositoryPg from "./upstream/UpstreamOAuthProviderRepositoryPg.js"
import * as UpstreamOAuthSessionRepositoryPg from "./upstream/UpstreamOAuthSessionRepositoryPg.js"
import * as BrowserSessionRepositoryPg from "./user/BrowserSessionRepositoryPg.js"
import * as UserEmailRepositoryPg from "./user/UserEmailRepositoryPg.js"
import * as UserPasswordRepositoryPg from "./user/UserPasswordRepositoryPg.js"
import * as UserRecoveryRepositoryPg from "./user/UserRecoveryRepositoryPg.js"
import * as UserRegistrationRepositoryPg from "./user/UserRegistrationRepositoryPg.js"
import * as UserRegistrationTokenRepositoryPg from "./user/UserRegistrationTokenRepositoryPg.js"
import * as UserRepositoryPg from "./user/UserRepositoryPg.js"
import * as UserTermsRepositoryPg from "./user/UserTermsRepositoryPg.js"

type Layers = RepositoryLayers<SqlClient.SqlClient>

/** One module per repository of the registry (src/storage/RepositoryAccess.ts): a missing one does not compile. */
export const repositoryModules = {
  users: UserRepositoryPg,
  userEmails: UserEmailRepositoryPg,
  userPasswords: UserPasswordRepositoryPg,
  userRecovery: UserRecoveryRepositoryPg,
  userRegistrations: UserRegistrationRepositoryPg,
  userRegistrationTokens: UserRegistrationTokenRepositoryPg,
  userTerms: UserTermsRepositoryPg,
  browserSessions: BrowserSessionRepositoryPg,
  oauth2AccessTokens: OAuth2AccessTokenRepositoryPg,
  oauth2AuthorizationGrants: OAuth2AuthorizationGrantRepositoryPg,
  oauth2Clients: OAuth2ClientRepositoryPg,
  oauth2DeviceCodeGrants: OAuth2DeviceCodeGrantRepositoryPg,
  oauth2RefreshTokens: OAuth2RefreshTokenRepositoryPg,
  oauth2Sessions: OAuth2SessionRepositoryPg,
  compatAccessTokens: CompatAccessTokenRepositoryPg,
  compatRefreshTokens: CompatRefreshTokenRepositoryPg,
  compatSessions: CompatSessionRepositoryPg,
  compatSsoLogins: CompatSsoLoginRepositoryPg,
  upstreamOAuthProviders: UpstreamOAuthProviderRepositoryPg,
  upstreamOAuthLinks: UpstreamOAuthLinkRepositoryPg,
  upstreamOAuthSessions: UpstreamOAuthSessionRepositoryPg,
  personalSessions: PersonalSessionRepositoryPg,
  personalAccessTokens: PersonalAccessTokenRepositoryPg,
  appSessions: AppSessionRepositoryPg,
  policyData: PolicyDataRepositoryPg,
  queueSchedules: QueueScheduleRepositoryPg,
  queueJobs: QueueJobRepositoryPg,
  queueWorkers: QueueWorkerRepositoryPg
} satisfies { readonly [K in keyof Layers]: { readonly layer: Layers[K]; readonly queries: ReadonlyArray<AnyQuery> } }

/** The layers of the table, for RepositoryAccessPg. */
export const layers = Object.fromEntries(
  Object.entries(repositoryModules).map(([key, module]) => [key, module.layer])
) as unknown as Layers
