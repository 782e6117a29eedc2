// The port for personal sessions (the long-lived sessions behind personal access tokens): its filter, its shape, and the Tag both backends implement.
import { Context, Effect, type Option } from "effect"
import type {
  PersonalAccessToken,
  PersonalSession,
  PersonalSessionOwner,
  PersonalSessionStateFilter
} from "../../model/personal.js"
import type { User } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { ActivityRecord, Device, Scope } from "../../model/values.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkScope } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"

/**
 * Every criterion optional; a session matches when all set criteria hold (storage rule: Filters). The expiry
 * criteria look at the session's unrevoked token: a session without one has no expiry.
 */
export interface PersonalSessionFilter {
  /** The session is owned by this user. */
  readonly ownerUser?: Ulid
  /** The session is owned by this OAuth2 client. */
  readonly ownerOAuth2Client?: Ulid
  /** The session acts as this user (whoever owns it). */
  readonly actorUser?: Ulid
  /** The scope holds either of the device's two scope tokens; a device that cannot be encoded matches nothing. */
  readonly device?: Device
  /** `active`: `revokedAt` unset; `revoked`: set. */
  readonly state?: PersonalSessionStateFilter
  /** The session's scope holds every one of these tokens (containment; the empty scope matches every session). */
  readonly scope?: Scope
  /** Strict; a session never active matches neither bound. */
  readonly lastActiveBefore?: Date
  readonly lastActiveAfter?: Date
  /** Strict, on the unrevoked token's `expiresAt`: a session whose token never expires, or without one, matches neither. */
  readonly expiresBefore?: Date
  readonly expiresAfter?: Date
  /** `true`: the unrevoked token has an expiry; `false`: it has none, or there is no unrevoked token. */
  readonly expires?: boolean
}

/** Ready-made filters, as MAS offers builders; they compose by spreading (`{ ...forOwnerUser(id), ...activeOnly }`). */
export const PersonalSessionFilter = {
  all: {} as PersonalSessionFilter,
  activeOnly: { state: "active" } as PersonalSessionFilter,
  /** MAS calls it `finished_only`. */
  revokedOnly: { state: "revoked" } as PersonalSessionFilter,
  forOwnerUser: (ownerUser: Ulid): PersonalSessionFilter => ({ ownerUser }),
  forOwnerOAuth2Client: (ownerOAuth2Client: Ulid): PersonalSessionFilter => ({ ownerOAuth2Client }),
  forActorUser: (actorUser: Ulid): PersonalSessionFilter => ({ actorUser }),
  forDevice: (device: Device): PersonalSessionFilter => ({ device }),
  withScope: (scope: Scope): PersonalSessionFilter => ({ scope }),
  withLastActiveBefore: (lastActiveBefore: Date): PersonalSessionFilter => ({ lastActiveBefore }),
  withLastActiveAfter: (lastActiveAfter: Date): PersonalSessionFilter => ({ lastActiveAfter }),
  withExpiresBefore: (expiresBefore: Date): PersonalSessionFilter => ({ expiresBefore }),
  withExpiresAfter: (expiresAfter: Date): PersonalSessionFilter => ({ expiresAfter }),
  withExpires: (expires: boolean): PersonalSessionFilter => ({ expires })
}

/** What both backends check before list, count and revokeBulk read or write anything. */
export const checkPersonalSessionFilter = (filter: PersonalSessionFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.all(
    [
      checkFilterIds({
        ownerUser: filter.ownerUser,
        ownerOAuth2Client: filter.ownerOAuth2Client,
        actorUser: filter.actorUser
      }),
      filter.scope === undefined ? Effect.void : checkScope("filter criterion scope", filter.scope)
    ],
    { discard: true }
  )

export interface PersonalSessionRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<PersonalSession>, DatabaseError>
  /**
   * A new valid session owned by `owner` (a user or an OAuth2 client) acting as `actorUser`; owner and actor are
   * independent (an administrator may own a session acting as another user). An owner or actor that is not stored
   * is a DriverError (23503); a malformed owner or actor id, a scope holding a token that is not a scope token, or a
   * name holding an unpaired surrogate is an InvalidOperationError; a name holding NUL is a DriverError (22021).
   * Nothing is written when it fails.
   */
  readonly add: (
    owner: PersonalSessionOwner,
    actorUser: User,
    humanName: string,
    scope: Scope
  ) => Effect.Effect<PersonalSession, DatabaseError>
  /**
   * Valid → Revoked at now, and every unrevoked token of the session revoked at the same instant, in one statement
   * (so on both backends, inside a unit of work or not, both happen or neither). A session passed in revoked is an
   * InvalidOperationError (InvalidTransition) and writes nothing; a stored row revoked meanwhile (a stale entity) or
   * missing is a RowsAffectedError and revokes no token: the write is guarded by `revoked_at IS NULL`.
   */
  readonly revoke: (session: PersonalSession) => Effect.Effect<PersonalSession, DatabaseError>
  /**
   * Stamps `revokedAt = now` on every matching session (revoked ones too, unless the filter says `state: "active"`,
   * as in MAS) and returns how many; their tokens are left as they are, as in MAS. A malformed id or scope token in
   * the filter is an InvalidOperationError (nothing stamped).
   */
  readonly revokeBulk: (filter: PersonalSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * The matching sessions in id order (the cursor is the session id), each with its unrevoked token if it has one.
   * A malformed id or scope token in the filter, or a cursor that is not a ULID, is an InvalidOperationError.
   */
  readonly list: (
    filter: PersonalSessionFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<readonly [PersonalSession, Option.Option<PersonalAccessToken>]>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: PersonalSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Storage rule "Batched activity": ids must be distinct and exist, else RowsAffectedError; a malformed entry is an
   * InvalidOperationError (see `checkActivity` in storage/common/limits.ts), nothing written.
   */
  readonly recordBatchActivity: (activity: ReadonlyArray<ActivityRecord>) => Effect.Effect<void, DatabaseError>
}

export class PersonalSessionRepository extends Context.Tag("storage/PersonalSessionRepository")<
  PersonalSessionRepository,
  PersonalSessionRepositoryShape
>() {}
