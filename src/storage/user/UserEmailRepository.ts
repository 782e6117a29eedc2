// The port for users' email addresses and email-code authentications: shape, filter and Tag.
import { Context, type Duration, Effect, type Option } from "effect"
import type { UpstreamOAuthAuthorizationSession } from "../../model/upstream.js"
import type {
  BrowserSession,
  User,
  UserEmail,
  UserEmailAuthentication,
  UserEmailAuthenticationCode,
  UserRegistration
} from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"

/** Every criterion optional; an address matches when all set criteria hold (storage rule: Filters). */
export interface UserEmailFilter {
  /** The owner's id. */
  readonly user?: Ulid
  /** Case-insensitive equality (both sides lowercased as PostgreSQL's LOWER does). */
  readonly email?: string
}

/** Ready-made filters, as MAS offers builders. */
export const UserEmailFilter = {
  all: {} as UserEmailFilter,
  forUser: (user: Ulid): UserEmailFilter => ({ user }),
  forEmail: (email: string): UserEmailFilter => ({ email })
}

/** What both backends check before list, count and removeBulk read or write anything (see `checkFilterIds` and `checkWellFormed`). */
export const checkUserEmailFilter = (filter: UserEmailFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.zipRight(checkFilterIds({ user: filter.user }), checkWellFormed({ email: filter.email }))

export interface UserEmailRepositoryShape {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UserEmail>, DatabaseError>
  /** The user's address equal to `email` ignoring case; among several the oldest exact-case one, else the oldest. */
  readonly find: (user: User, email: string) => Effect.Effect<Option.Option<UserEmail>, DatabaseError>
  /** The one address equal to `email` ignoring case, across users; none when zero or several match. */
  readonly findByEmail: (email: string) => Effect.Effect<Option.Option<UserEmail>, DatabaseError>
  /** The user's addresses ordered by email (code-point order, the same on both backends), then by id. */
  readonly all: (user: User) => Effect.Effect<ReadonlyArray<UserEmail>, DatabaseError>
  readonly list: (filter: UserEmailFilter, pagination: Pagination) => Effect.Effect<Page<UserEmail>, DatabaseError>
  readonly count: (filter: UserEmailFilter) => Effect.Effect<number, DatabaseError>
  /** No uniqueness, as in MAS: the same address twice for a user is a second row (the unit of work stays usable). */
  readonly add: (user: User, email: string) => Effect.Effect<UserEmail, DatabaseError>
  /** Deletes the address and its recovery tickets; RowsAffectedError unless exactly one address was deleted. */
  readonly remove: (userEmail: UserEmail) => Effect.Effect<void, DatabaseError>
  /**
   * Deletes every matching address (and their recovery tickets); returns how many addresses. A malformed id in
   * the filter is an InvalidOperationError (nothing deleted), as it is for list and count.
   */
  readonly removeBulk: (filter: UserEmailFilter) => Effect.Effect<number, DatabaseError>
  readonly addAuthenticationForSession: (
    email: string,
    session: BrowserSession
  ) => Effect.Effect<UserEmailAuthentication, DatabaseError>
  readonly addAuthenticationForRegistration: (
    email: string,
    registration: UserRegistration
  ) => Effect.Effect<UserEmailAuthentication, DatabaseError>
  /** `expiresAt = createdAt + duration`; a duplicate code for one authentication is a DriverError. */
  readonly addAuthenticationCode: (
    duration: Duration.Duration,
    authentication: UserEmailAuthentication,
    code: string
  ) => Effect.Effect<UserEmailAuthenticationCode, DatabaseError>
  readonly lookupAuthentication: (id: Ulid) => Effect.Effect<Option.Option<UserEmailAuthentication>, DatabaseError>
  /** The code of this authentication, compared exactly. */
  readonly findAuthenticationCode: (
    authentication: UserEmailAuthentication,
    code: string
  ) => Effect.Effect<Option.Option<UserEmailAuthenticationCode>, DatabaseError>
  /**
   * Completed authentication → InvalidOperationError (nothing written); otherwise a write guarded by
   * `completed_at IS NULL` (RowsAffectedError if the stored row is already completed or gone).
   * The code is the caller's proof and is not stored.
   */
  readonly completeAuthenticationWithCode: (
    authentication: UserEmailAuthentication,
    code: UserEmailAuthenticationCode
  ) => Effect.Effect<UserEmailAuthentication, DatabaseError>
  /** As `completeAuthenticationWithCode`, with an upstream session as the (unstored) proof. */
  readonly completeAuthenticationWithUpstream: (
    authentication: UserEmailAuthentication,
    upstreamSession: UpstreamOAuthAuthorizationSession
  ) => Effect.Effect<UserEmailAuthentication, DatabaseError>
  /** Deletes at most `limit` authentications with `since < id <= until` (any state) with their codes (storage rule: Cleanups). */
  readonly cleanupAuthentications: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class UserEmailRepository extends Context.Tag("storage/UserEmailRepository")<
  UserEmailRepository,
  UserEmailRepositoryShape
>() {}
