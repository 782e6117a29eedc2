// The PostgreSQL repositories, one line each: the layer the registry asks for and the queries it sends.
import type { SqlClient } from "@effect/sql"
import type { RepositoryLayers } from "../storage/RepositoryAccess.js"
import type { AnyQuery } from "./query.js"
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
  browserSessions: BrowserSessionRepositoryPg
} satisfies { readonly [K in keyof Layers]: { readonly layer: Layers[K]; readonly queries: ReadonlyArray<AnyQuery> } }

/** The layers of the table, for RepositoryAccessPg. */
export const layers = Object.fromEntries(
  Object.entries(repositoryModules).map(([key, module]) => [key, module.layer])
) as unknown as Layers
