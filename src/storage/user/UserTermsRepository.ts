// The port for accepted terms of service: its shape and the Tag both backends implement.
import { Context, type Effect } from "effect"
import type { User } from "../../model/user.js"
import type { Url } from "../../model/values.js"
import type { DatabaseError } from "../common/errors.js"

export interface UserTermsRepositoryShape {
  /**
   * Records that `user` accepted `termsUrl`, stored in its WHATWG form (`new URL(termsUrl).href`, see `normaliseUrl`),
   * so spellings of one URL (host case, an empty path) are one acceptance. Accepting the same URL again is a silent no-op
   * (the unit of work stays usable); text that is not an absolute URL is an InvalidOperationError and writes nothing.
   */
  readonly acceptTerms: (user: User, termsUrl: Url) => Effect.Effect<void, DatabaseError>
}

export class UserTermsRepository extends Context.Tag("storage/UserTermsRepository")<
  UserTermsRepository,
  UserTermsRepositoryShape
>() {}
