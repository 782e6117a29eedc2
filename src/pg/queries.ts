// Every query the PostgreSQL repositories send, as one explicit list: what `query prepare` describes and the offline check reads.
import type { AnyQuery } from "./query.js"
import * as BrowserSessionRepositoryPg from "./user/BrowserSessionRepositoryPg.js"
import * as UserEmailRepositoryPg from "./user/UserEmailRepositoryPg.js"
import * as UserPasswordRepositoryPg from "./user/UserPasswordRepositoryPg.js"
import * as UserRecoveryRepositoryPg from "./user/UserRecoveryRepositoryPg.js"
import * as UserRegistrationRepositoryPg from "./user/UserRegistrationRepositoryPg.js"
import * as UserRegistrationTokenRepositoryPg from "./user/UserRegistrationTokenRepositoryPg.js"
import * as UserRepositoryPg from "./user/UserRepositoryPg.js"
import * as UserTermsRepositoryPg from "./user/UserTermsRepositoryPg.js"

/** Sorted by name; a name declared twice would make the query cache ambiguous (a test checks there is none). */
export const declaredQueries: ReadonlyArray<AnyQuery> = [
  ...BrowserSessionRepositoryPg.queries,
  ...UserEmailRepositoryPg.queries,
  ...UserPasswordRepositoryPg.queries,
  ...UserRecoveryRepositoryPg.queries,
  ...UserRegistrationRepositoryPg.queries,
  ...UserRegistrationTokenRepositoryPg.queries,
  ...UserRepositoryPg.queries,
  ...UserTermsRepositoryPg.queries
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
