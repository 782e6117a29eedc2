// The port for registration invitation tokens: its shape, its filter, and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { UserRegistrationToken } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError } from "../common/errors.js"
import type { Page, Pagination } from "../common/Pagination.js"

/**
 * A token matches when all set criteria hold (storage rule: Filters). The criteria depend on time, so the instant
 * they are judged at is part of the filter. `isExpired` and `isValid` follow
 * `UserRegistrationToken.isExpired/isValid` exactly (expired once `now >= expiresAt`).
 */
export interface UserRegistrationTokenFilter {
  readonly now: Date
  /** `timesUsed > 0`. */
  readonly hasBeenUsed?: boolean
  readonly isRevoked?: boolean
  readonly isExpired?: boolean
  /** Not revoked, not expired, and under its usage limit if it has one. */
  readonly isValid?: boolean
}

/** Builders, as MAS offers them: `isValid(make(now), true)`. */
export const UserRegistrationTokenFilter = {
  /** Every token, judged at `now`. */
  make: (now: Date): UserRegistrationTokenFilter => ({ now }),
  hasBeenUsed: (filter: UserRegistrationTokenFilter, hasBeenUsed: boolean): UserRegistrationTokenFilter => ({
    ...filter,
    hasBeenUsed
  }),
  isRevoked: (filter: UserRegistrationTokenFilter, isRevoked: boolean): UserRegistrationTokenFilter => ({
    ...filter,
    isRevoked
  }),
  isExpired: (filter: UserRegistrationTokenFilter, isExpired: boolean): UserRegistrationTokenFilter => ({
    ...filter,
    isExpired
  }),
  isValid: (filter: UserRegistrationTokenFilter, isValid: boolean): UserRegistrationTokenFilter => ({
    ...filter,
    isValid
  })
}

export interface UserRegistrationTokenRepositoryShape {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UserRegistrationToken>, DatabaseError>
  /** Exact (case-sensitive) match on the unique token text. */
  readonly findByToken: (token: string) => Effect.Effect<Option.Option<UserRegistrationToken>, DatabaseError>
  /**
   * A new, unused, unrevoked token. A duplicate token text is a DriverError (unique violation); a
   * usage limit outside `0..2^31-1` or an invalid expiry Date is an InvalidOperationError.
   */
  readonly add: (
    token: string,
    usageLimit: Option.Option<number>,
    expiresAt: Option.Option<Date>
  ) => Effect.Effect<UserRegistrationToken, DatabaseError>
  /**
   * One more use, counted atomically by the database; `lastUsedAt` = now. A token passed in revoked
   * is an InvalidOperationError (InvalidTransition); a stored row that is revoked (or missing) is a
   * RowsAffectedError (the guard is in the statement); a counter that would pass 2^31-1 is an
   * InvalidOperationError. Validity (expiry, usage limit) is the caller's to check first.
   */
  readonly useToken: (token: UserRegistrationToken) => Effect.Effect<UserRegistrationToken, DatabaseError>
  /** Stamps `revokedAt` = now, whatever the current state (re-stamps a revoked token). */
  readonly revoke: (token: UserRegistrationToken) => Effect.Effect<UserRegistrationToken, DatabaseError>
  /** Clears `revokedAt`, whatever the current state. */
  readonly unrevoke: (token: UserRegistrationToken) => Effect.Effect<UserRegistrationToken, DatabaseError>
  readonly setExpiry: (
    token: UserRegistrationToken,
    expiresAt: Option.Option<Date>
  ) => Effect.Effect<UserRegistrationToken, DatabaseError>
  readonly setUsageLimit: (
    token: UserRegistrationToken,
    usageLimit: Option.Option<number>
  ) => Effect.Effect<UserRegistrationToken, DatabaseError>
  readonly list: (
    filter: UserRegistrationTokenFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<UserRegistrationToken>, DatabaseError>
  readonly count: (filter: UserRegistrationTokenFilter) => Effect.Effect<number, DatabaseError>
}

export class UserRegistrationTokenRepository extends Context.Tag("storage/UserRegistrationTokenRepository")<
  UserRegistrationTokenRepository,
  UserRegistrationTokenRepositoryShape
>() {}
