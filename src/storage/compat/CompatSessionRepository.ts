// The port for compat sessions (logins through the legacy Matrix API): its filter, its shape, and the Tag both backends implement.
import { Context, Effect, type Option } from "effect"
import type {
  CompatSession,
  CompatSessionAuthType,
  CompatSessionStateFilter,
  CompatSsoLogin
} from "../../model/compat.js"
import type { BrowserSession, User } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { ActivityRecord, CleanupResult, Device } from "../../model/values.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"
import { type BrowserSessionFilter, checkBrowserSessionFilter } from "../user/BrowserSessionRepository.js"

/** Every criterion optional; a session matches when all set criteria hold (storage rule: Filters). */
export interface CompatSessionFilter {
  readonly user?: Ulid
  readonly browserSession?: Ulid
  /** The session was started from one of the browser sessions this filter selects (none matches a session without one). */
  readonly browserSessionFilter?: BrowserSessionFilter
  /** `active`: `finishedAt` unset; `finished`: set. */
  readonly state?: CompatSessionStateFilter
  /** `sso_login`: an SSO login was exchanged into the session; `unknown`: none was. */
  readonly authType?: CompatSessionAuthType
  /** The stored device id equals the device's id (a session without a device matches no device). */
  readonly device?: Device
  /** Strict; a session never active matches neither bound. */
  readonly lastActiveBefore?: Date
  readonly lastActiveAfter?: Date
  /** Compare the id with the ULID bounds of the instant (strict at millisecond resolution). */
  readonly createdBefore?: Date
  readonly createdAfter?: Date
}

/** Ready-made filters, as MAS offers builders; they compose by spreading (`{ ...forUser(id), ...activeOnly }`). */
export const CompatSessionFilter = {
  all: {} as CompatSessionFilter,
  activeOnly: { state: "active" } as CompatSessionFilter,
  finishedOnly: { state: "finished" } as CompatSessionFilter,
  ssoLoginOnly: { authType: "sso_login" } as CompatSessionFilter,
  unknownOnly: { authType: "unknown" } as CompatSessionFilter,
  forUser: (user: Ulid): CompatSessionFilter => ({ user }),
  forBrowserSession: (browserSession: Ulid): CompatSessionFilter => ({ browserSession }),
  forBrowserSessions: (browserSessionFilter: BrowserSessionFilter): CompatSessionFilter => ({ browserSessionFilter }),
  forDevice: (device: Device): CompatSessionFilter => ({ device })
}

/**
 * What both backends check before list, count and finishBulk read or write anything: malformed ids and a device id
 * holding an unpaired surrogate are InvalidOperationErrors. (A device id holding NUL reaches the statement, which
 * PostgreSQL refuses: a DriverError, 22021, in memory too.)
 */
export const checkCompatSessionFilter = (filter: CompatSessionFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.all(
    [
      checkFilterIds({ user: filter.user, browserSession: filter.browserSession }),
      checkWellFormed({ "filter criterion device": filter.device?.id }),
      filter.browserSessionFilter === undefined ? Effect.void : checkBrowserSessionFilter(filter.browserSessionFilter)
    ],
    { discard: true }
  )

export interface CompatSessionRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<CompatSession>, DatabaseError>
  /**
   * A new valid session of `user` on `device`, started from `browserSession` when given (not checked against the
   * user, as in MAS). Device ids are not unique: another session, live or finished, may hold the same one. A user or
   * browser session that is not stored is a DriverError (foreign key); text with an unpaired surrogate is an
   * InvalidOperationError, NUL a DriverError (22021). Nothing is written when it fails.
   */
  readonly add: (
    user: User,
    device: Device,
    browserSession: Option.Option<BrowserSession>,
    isSynapseAdmin: boolean,
    humanName: Option.Option<string>
  ) => Effect.Effect<CompatSession, DatabaseError>
  /**
   * Valid → Finished at now. A session passed in finished is an InvalidOperationError (InvalidTransition, nothing
   * written); a stored row already finished (or missing) is a RowsAffectedError: the statement is guarded.
   */
  readonly finish: (session: CompatSession) => Effect.Effect<CompatSession, DatabaseError>
  /**
   * Stamps `finishedAt = now` on every matching session (finished ones too, unless the filter says
   * `state: "active"`, as in MAS); returns how many. A bad filter is refused as `checkCompatSessionFilter` says.
   */
  readonly finishBulk: (filter: CompatSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * One keyset page of sessions (cursor: the session id), each paired with the SSO login exchanged into it (the
   * lowest id if several were). A login paired with a session that is not exchanged into it is an InconsistencyError
   * on `compat_sso_logins`. A bad filter or a cursor that is not a ULID is an InvalidOperationError.
   */
  readonly list: (
    filter: CompatSessionFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<readonly [CompatSession, Option.Option<CompatSsoLogin>]>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: CompatSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Storage rule "Batched activity": ids must be distinct and exist, else RowsAffectedError; a malformed entry is an
   * InvalidOperationError (see `checkActivity` in storage/common/limits.ts), nothing written.
   */
  readonly recordBatchActivity: (activity: ReadonlyArray<ActivityRecord>) => Effect.Effect<void, DatabaseError>
  /**
   * Overwrites `userAgent` (whatever the state; rows-affected 1, else RowsAffectedError). Text holding NUL is a
   * DriverError (22021), an unpaired surrogate an InvalidOperationError.
   */
  readonly recordUserAgent: (session: CompatSession, userAgent: string) => Effect.Effect<CompatSession, DatabaseError>
  /** Overwrites `humanName` (none clears it), with `recordUserAgent`'s rules. */
  readonly setHumanName: (
    session: CompatSession,
    humanName: Option.Option<string>
  ) => Effect.Effect<CompatSession, DatabaseError>
  /**
   * Storage rule "Cleanups", key `finishedAt` (`since <= finishedAt < until`, ties in id order): deletes finished
   * sessions with their refresh tokens, access tokens and the SSO logins exchanged into them, as MAS's statement
   * does. A limit that is not a non-negative safe integer is an InvalidOperationError.
   */
  readonly cleanupFinished: (
    since: Option.Option<Date>,
    until: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
  /** Storage rule "Cleanups", key `lastActiveAt` (`since <= lastActiveAt < threshold`): clears `lastActiveIp` where still set. */
  readonly cleanupInactiveIps: (
    since: Option.Option<Date>,
    threshold: Date,
    limit: number
  ) => Effect.Effect<CleanupResult<Date>, DatabaseError>
}

export class CompatSessionRepository extends Context.Tag("storage/CompatSessionRepository")<
  CompatSessionRepository,
  CompatSessionRepositoryShape
>() {}
