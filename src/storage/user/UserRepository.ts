// The port for user accounts: its shape, its filter, and the Tag both backends implement.
import { Context, Effect, type Option } from "effect"
import type { User, UserState } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"

/** Every criterion optional; a user matches when all set criteria hold (storage rule: Filters). */
export interface UserFilter {
  /** `active`: neither locked nor deactivated; `locked` / `deactivated`: that timestamp set (both may hold). */
  readonly state?: UserState
  readonly canRequestAdmin?: boolean
  readonly isGuest?: boolean
  /** Case-insensitive substring of the username, taken literally. */
  readonly search?: string
  /** Has an unfinished OAuth2 session with one of these clients. */
  readonly activeOAuth2SessionForAnyOfClients?: ReadonlyArray<Ulid>
  readonly hasActiveOAuth2Session?: boolean
  readonly hasActiveCompatSession?: boolean
}

/** Ready-made filters, as MAS offers builders. */
export const UserFilter = {
  all: {} as UserFilter,
  active: { state: "active" } as UserFilter,
  locked: { state: "locked" } as UserFilter,
  deactivated: { state: "deactivated" } as UserFilter,
  matchingSearch: (search: string): UserFilter => ({ search })
}

/** What both backends check before list and count read anything (see `checkFilterIds` and `checkWellFormed`). */
export const checkUserFilter = (filter: UserFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.zipRight(
    checkFilterIds({ activeOAuth2SessionForAnyOfClients: filter.activeOAuth2SessionForAnyOfClients }),
    checkWellFormed({ search: filter.search })
  )

export interface UserRepositoryShape {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<User>, DatabaseError>
  /** Case-insensitive; among several case variants, the exact-case one (or none). */
  readonly findByUsername: (username: string) => Effect.Effect<Option.Option<User>, DatabaseError>
  /** A duplicate (exact case) is a RowsAffectedError and leaves the unit of work usable. */
  readonly add: (username: string) => Effect.Effect<User, DatabaseError>
  readonly exists: (username: string) => Effect.Effect<boolean, DatabaseError>
  readonly lock: (user: User) => Effect.Effect<User, DatabaseError>
  readonly unlock: (user: User) => Effect.Effect<User, DatabaseError>
  /**
   * A user already deactivated is returned unchanged (no write); otherwise stamps `deactivatedAt = now` only where the
   * stored row is not deactivated (as MAS): a stale entity whose row is deactivated is a RowsAffectedError, and the
   * stored instant stays.
   */
  readonly deactivate: (user: User) => Effect.Effect<User, DatabaseError>
  readonly reactivate: (user: User) => Effect.Effect<User, DatabaseError>
  readonly deleteUnsupportedThreepids: (user: User) => Effect.Effect<number, DatabaseError>
  readonly setCanRequestAdmin: (user: User, canRequestAdmin: boolean) => Effect.Effect<User, DatabaseError>
  /** A malformed id in the filter is an InvalidOperationError (nothing read); the same for count. */
  readonly list: (filter: UserFilter, pagination: Pagination) => Effect.Effect<Page<User>, DatabaseError>
  readonly count: (filter: UserFilter) => Effect.Effect<number, DatabaseError>
  /** A lock on this user held until the unit of work ends (PostgreSQL: a transaction advisory lock). */
  readonly acquireLockForSync: (user: User) => Effect.Effect<void, DatabaseError>
}

export class UserRepository extends Context.Tag("storage/UserRepository")<UserRepository, UserRepositoryShape>() {}
