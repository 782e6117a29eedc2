// The port for accepted terms of service (domain.md §3.1 UserTermsRepository): its shape and the Tag both backends implement.
import { Context, type Effect } from "effect"
import type { User } from "../../model/user.js"
import type { Url } from "../../model/values.js"
import type { DatabaseError } from "../common/errors.js"

export interface UserTermsRepositoryShape {
  /** Records that `user` accepted `termsUrl`; accepting the same URL again is a silent no-op (the unit of work stays usable). */
  readonly acceptTerms: (user: User, termsUrl: Url) => Effect.Effect<void, DatabaseError>
}

export class UserTermsRepository extends Context.Tag("storage/UserTermsRepository")<
  UserTermsRepository,
  UserTermsRepositoryShape
>() {}
