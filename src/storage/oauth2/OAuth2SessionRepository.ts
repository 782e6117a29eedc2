// The port for OAuth 2.0 sessions (one per client login): its filter, its shape, and the Tag both backends implement.
import { Context, Effect, Option } from "effect"
import type { Client, ClientKind } from "../../model/oauth2/client.js"
import type { OAuth2Session, SessionStateFilter } from "../../model/oauth2/session.js"
import type { BrowserSession, User } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import { ActivityRecord, type CleanupResult, type Device, type Scope } from "../../model/values.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkScope } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"
import { type BrowserSessionFilter, checkBrowserSessionFilter } from "../user/BrowserSessionRepository.js"

/** Every criterion optional; a session matches when all set criteria hold (storage rule: Filters). */
export interface OAuth2SessionFilter {
  readonly user?: Ulid
  /** `true`: the session has a user; `false`: it has none (client credentials). */
  readonly anyUser?: boolean
  readonly browserSession?: Ulid
  /** The session was started by one of the browser sessions this filter selects (none matches a session without one). */
  readonly browserSessionFilter?: BrowserSessionFilter
  /** The scope holds either of the device's two scope tokens; a device that cannot be encoded matches nothing. */
  readonly device?: Device
  readonly client?: Ulid
  /** The session's client is one of these (an empty list matches nothing). Independent of `client`: both must hold. */
  readonly clients?: ReadonlyArray<Ulid>
  /** The client's `isStatic`. */
  readonly clientKind?: ClientKind
  /** `active`: `finishedAt` unset; `finished`: set. */
  readonly state?: SessionStateFilter
  /** The session's scope holds every one of these tokens (containment; the empty scope matches every session). */
  readonly scope?: Scope
  /** Strict; a session never active matches neither bound. */
  readonly lastActiveBefore?: Date
  readonly lastActiveAfter?: Date
  /** Compare the id with the ULID bounds of the instant (strict at millisecond resolution). */
  readonly createdBefore?: Date
  readonly createdAfter?: Date
}

/** Ready-made filters, as MAS offers builders; they compose by spreading (`{ ...forUser(id), ...activeOnly }`). */
export const OAuth2SessionFilter = {
  all: {} as OAuth2SessionFilter,
  activeOnly: { state: "active" } as OAuth2SessionFilter,
  finishedOnly: { state: "finished" } as OAuth2SessionFilter,
  forAnyUser: { anyUser: true } as OAuth2SessionFilter,
  forNoUser: { anyUser: false } as OAuth2SessionFilter,
  onlyStaticClients: { clientKind: "static" } as OAuth2SessionFilter,
  onlyDynamicClients: { clientKind: "dynamic" } as OAuth2SessionFilter,
  forUser: (user: Ulid): OAuth2SessionFilter => ({ user }),
  forBrowserSession: (browserSession: Ulid): OAuth2SessionFilter => ({ browserSession }),
  forBrowserSessions: (browserSessionFilter: BrowserSessionFilter): OAuth2SessionFilter => ({ browserSessionFilter }),
  forClient: (client: Ulid): OAuth2SessionFilter => ({ client }),
  forClients: (clients: ReadonlyArray<Ulid>): OAuth2SessionFilter => ({ clients }),
  forDevice: (device: Device): OAuth2SessionFilter => ({ device }),
  withScope: (scope: Scope): OAuth2SessionFilter => ({ scope })
}

/** What both backends check before list, count and finishBulk read or write anything. */
export const checkOAuth2SessionFilter = (filter: OAuth2SessionFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.all(
    [
      checkFilterIds({
        user: filter.user,
        browserSession: filter.browserSession,
        client: filter.client,
        clients: filter.clients
      }),
      filter.scope === undefined ? Effect.void : checkScope("filter criterion scope", filter.scope),
      filter.browserSessionFilter === undefined ? Effect.void : checkBrowserSessionFilter(filter.browserSessionFilter)
    ],
    { discard: true }
  )

export interface OAuth2SessionRepositoryShape {
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<OAuth2Session>, DatabaseError>
  /**
   * A new valid session of `client`, for `user` and started by `browserSession` when given (neither is checked
   * against the other, as in MAS). A client, user or browser session that is not stored is a DriverError (foreign
   * key); a scope holding a token that is not a scope token is an InvalidOperationError (nothing written).
   */
  readonly add: (
    client: Client,
    user: Option.Option<User>,
    browserSession: Option.Option<BrowserSession>,
    scope: Scope
  ) => Effect.Effect<OAuth2Session, DatabaseError>
  /** `add(client, some(browserSession.user), some(browserSession), scope)`. */
  readonly addFromBrowserSession: (
    client: Client,
    browserSession: BrowserSession,
    scope: Scope
  ) => Effect.Effect<OAuth2Session, DatabaseError>
  /** `add(client, none, none, scope)`: a session without a user (client credentials grant). */
  readonly addFromClientCredentials: (client: Client, scope: Scope) => Effect.Effect<OAuth2Session, DatabaseError>
  /**
   * Valid → Finished at now. A session passed in finished is an InvalidOperationError (InvalidTransition, nothing
   * written); a stored row already finished (or missing) is a RowsAffectedError: the statement is guarded.
   */
  readonly finish: (session: OAuth2Session) => Effect.Effect<OAuth2Session, DatabaseError>
  /**
   * Stamps `finishedAt = now` on every matching session (finished ones too, unless the filter says
   * `state: "active"`, as in MAS); returns how many. A malformed id or scope token in the filter is an
   * InvalidOperationError (nothing stamped).
   */
  readonly finishBulk: (filter: OAuth2SessionFilter) => Effect.Effect<number, DatabaseError>
  /** A malformed id or scope token in the filter, or a cursor that is not a ULID, is an InvalidOperationError. */
  readonly list: (
    filter: OAuth2SessionFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<OAuth2Session>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: OAuth2SessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Storage rule "Batched activity": ids must be distinct and exist, else RowsAffectedError; a malformed entry is an
   * InvalidOperationError (see `checkActivity` in storage/common/limits.ts), nothing written.
   */
  readonly recordBatchActivity: (activity: ReadonlyArray<ActivityRecord>) => Effect.Effect<void, DatabaseError>
  /**
   * Overwrites `userAgent` (whatever the state; rows-affected 1, else RowsAffectedError). Text holding NUL is a
   * DriverError (22021), an unpaired surrogate an InvalidOperationError.
   */
  readonly recordUserAgent: (session: OAuth2Session, userAgent: string) => Effect.Effect<OAuth2Session, DatabaseError>
  /** Overwrites `humanName` (none clears it), with `recordUserAgent`'s rules. */
  readonly setHumanName: (
    session: OAuth2Session,
    humanName: Option.Option<string>
  ) => Effect.Effect<OAuth2Session, DatabaseError>
  /**
   * Storage rule "Cleanups", key `finishedAt` (`since <= finishedAt < until`): deletes finished sessions with their
   * access and refresh tokens and the authorization and device-code grants exchanged into them. A limit that is
   * not a non-negative safe integer is an InvalidOperationError.
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

/** What a backend implements: every method but the two defined through `add`. */
export type OAuth2SessionRepositoryCore = Omit<
  OAuth2SessionRepositoryShape,
  "addFromBrowserSession" | "addFromClientCredentials"
>

/** The whole shape from a backend's core: the two methods defined through `add` are written here, once for both. */
export const oAuth2SessionWithDerivedMethods = (core: OAuth2SessionRepositoryCore): OAuth2SessionRepositoryShape => ({
  ...core,
  addFromBrowserSession: (client, browserSession, scope) =>
    core.add(client, Option.some(browserSession.user), Option.some(browserSession), scope),
  addFromClientCredentials: (client, scope) => core.add(client, Option.none(), Option.none(), scope)
})

export class OAuth2SessionRepository extends Context.Tag("storage/OAuth2SessionRepository")<
  OAuth2SessionRepository,
  OAuth2SessionRepositoryShape
>() {}
