// The port for browser (web login) sessions and their authentications.
import { Context, Effect, type Option } from "effect"
import type { UpstreamOAuthAuthorizationSession } from "../../model/upstream.js"
import type { Authentication, BrowserSession, BrowserSessionState, Password, User } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { ActivityRecord, CleanupResult } from "../../model/values.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import { checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"

/**
 * The criteria of UpstreamOAuthSessionRepository's filter, needed here for
 * `linkedToUpstreamSessions`. The upstream port should re-export this one rather than declare a twin.
 */
export interface LinkedUpstreamSessionFilter {
  readonly provider?: Ulid
  /** Equals `id_token_claims ->> 'sub'` (the claim as text). */
  readonly subClaim?: string
  /** Equals `id_token_claims ->> 'sid'` (the claim as text). */
  readonly sidClaim?: string
}

/** Every criterion optional; a session matches when all set criteria hold (storage rule: Filters). */
export interface BrowserSessionFilter {
  readonly user?: Ulid
  /**
   * `active`: `finishedAt` unset; `finished`: set (as MAS's filter). The user's state is not looked at, unlike the
   * entity's `isActive`: the unfinished sessions of a locked or deactivated user are `active` here, so that they can be
   * listed and finished.
   */
  readonly state?: BrowserSessionState
  /** Strict; a session never active matches neither bound. */
  readonly lastActiveBefore?: Date
  readonly lastActiveAfter?: Date
  /** Compare the id with the ULID bounds of the instant (strict at millisecond resolution). */
  readonly createdBefore?: Date
  readonly createdAfter?: Date
  /** The session consumed an upstream authorization session selected by this filter. */
  readonly linkedToUpstreamSessions?: LinkedUpstreamSessionFilter
}

/** Ready-made filters, as MAS offers builders. */
export const BrowserSessionFilter = {
  all: {} as BrowserSessionFilter,
  activeOnly: { state: "active" } as BrowserSessionFilter,
  finishedOnly: { state: "finished" } as BrowserSessionFilter,
  forUser: (user: Ulid): BrowserSessionFilter => ({ user })
}

/** What both backends check before list, count and finishBulk read or write anything (see `checkFilterIds` and `checkWellFormed`). */
export const checkBrowserSessionFilter = (filter: BrowserSessionFilter): Effect.Effect<void, InvalidOperationError> =>
  Effect.zipRight(
    checkFilterIds({
      user: filter.user,
      "linkedToUpstreamSessions.provider": filter.linkedToUpstreamSessions?.provider
    }),
    checkWellFormed({
      "linkedToUpstreamSessions.subClaim": filter.linkedToUpstreamSessions?.subClaim,
      "linkedToUpstreamSessions.sidClaim": filter.linkedToUpstreamSessions?.sidClaim
    })
  )

export interface BrowserSessionRepositoryShape {
  /** The session with its user (joined). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<BrowserSession>, DatabaseError>
  readonly add: (user: User, userAgent: Option.Option<string>) => Effect.Effect<BrowserSession, DatabaseError>
  /** Stamps `finishedAt = now`; an already finished session is re-stamped (as in MAS). */
  readonly finish: (session: BrowserSession) => Effect.Effect<BrowserSession, DatabaseError>
  /**
   * Stamps every matching session (finished ones too, unless the filter says `state: "active"`); returns how many.
   * A malformed id in the filter is an InvalidOperationError (nothing stamped).
   */
  readonly finishBulk: (filter: BrowserSessionFilter) => Effect.Effect<number, DatabaseError>
  readonly list: (
    filter: BrowserSessionFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<BrowserSession>, DatabaseError>
  readonly count: (filter: BrowserSessionFilter) => Effect.Effect<number, DatabaseError>
  readonly authenticateWithPassword: (
    session: BrowserSession,
    password: Password
  ) => Effect.Effect<Authentication, DatabaseError>
  /**
   * Records the authentication and links `upstreamSession` to `session` when it is linked to no browser session yet
   * (one already linked keeps its link), as MAS's trigger does. A missing session of either kind is a DriverError.
   */
  readonly authenticateWithUpstream: (
    session: BrowserSession,
    upstreamSession: UpstreamOAuthAuthorizationSession
  ) => Effect.Effect<Authentication, DatabaseError>
  /** The newest authentication of the session (by `createdAt`, then id). */
  readonly getLastAuthentication: (
    session: BrowserSession
  ) => Effect.Effect<Option.Option<Authentication>, DatabaseError>
  /** Storage rule "Batched activity": ids must be distinct and exist, else RowsAffectedError. */
  readonly recordBatchActivity: (activity: ReadonlyArray<ActivityRecord>) => Effect.Effect<void, DatabaseError>
  /**
   * Storage rule "Cleanups", key `finishedAt` (`since <= finishedAt < until`): deletes finished sessions no OAuth2 or
   * compat session references, with their authentications.
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

export class BrowserSessionRepository extends Context.Tag("storage/BrowserSessionRepository")<
  BrowserSessionRepository,
  BrowserSessionRepositoryShape
>() {}
