// The port for registrations built step by step: its shape and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { UpstreamOAuthAuthorizationSession } from "../../model/upstream.js"
import type { UserEmailAuthentication, UserRegistration, UserRegistrationToken } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { IpAddress, Json, Url } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError } from "../common/errors.js"

/**
 * Every setter and `complete` is guarded in the database: it applies only while the stored
 * registration is still pending, else it is a RowsAffectedError (expected 1, actual 0) and nothing
 * is written. Each returns the registration as stored after the write.
 */
export interface UserRegistrationRepositoryShape {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UserRegistration>, DatabaseError>
  /** A new pending registration with only these fields set. */
  readonly add: (
    username: string,
    ipAddress: Option.Option<IpAddress>,
    userAgent: Option.Option<string>,
    postAuthAction: Option.Option<Json>
  ) => Effect.Effect<UserRegistration, DatabaseError>
  readonly setDisplayName: (
    registration: UserRegistration,
    displayName: string
  ) => Effect.Effect<UserRegistration, DatabaseError>
  /** Stores the URL in its WHATWG form (`normaliseUrl`); text that is no absolute URL is an InvalidOperationError. */
  readonly setTermsUrl: (
    registration: UserRegistration,
    termsUrl: Url
  ) => Effect.Effect<UserRegistration, DatabaseError>
  /** Links the email authentication (a missing one is a foreign-key DriverError). */
  readonly setEmailAuthentication: (
    registration: UserRegistration,
    emailAuthentication: UserEmailAuthentication
  ) => Effect.Effect<UserRegistration, DatabaseError>
  /** `version` is the hashing-scheme version (0–65535); another number is an InvalidOperationError. */
  readonly setPassword: (
    registration: UserRegistration,
    hashedPassword: string,
    version: number
  ) => Effect.Effect<UserRegistration, DatabaseError>
  readonly setRegistrationToken: (
    registration: UserRegistration,
    token: UserRegistrationToken
  ) => Effect.Effect<UserRegistration, DatabaseError>
  readonly setUpstreamOAuthAuthorizationSession: (
    registration: UserRegistration,
    upstreamSession: UpstreamOAuthAuthorizationSession
  ) => Effect.Effect<UserRegistration, DatabaseError>
  /** Stamps `completedAt = now`. */
  readonly complete: (registration: UserRegistration) => Effect.Effect<UserRegistration, DatabaseError>
  /**
   * Deletes at most `limit` registrations with `since < id <= until` (completed or not), in id
   * order, with their email authentications (and those authentications' codes).
   */
  readonly cleanup: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class UserRegistrationRepository extends Context.Tag("storage/UserRegistrationRepository")<
  UserRegistrationRepository,
  UserRegistrationRepositoryShape
>() {}
