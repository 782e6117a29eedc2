// The port for compat SSO logins (single-sign-on login tokens of the legacy Matrix API): its filter, its shape, and the Tag both backends implement.
import { Context, type Effect, type Option } from "effect"
import type { CompatSession, CompatSsoLogin, CompatSsoLoginStateFilter } from "../../model/compat.js"
import type { BrowserSession } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { Url } from "../../model/values.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkFilterIds } from "../common/filters.js"
import type { Page, Pagination } from "../common/Pagination.js"

/** Every criterion optional; a login matches when all set criteria hold (storage rule: Filters). */
export interface CompatSsoLoginFilter {
  /** The login was fulfilled by a browser session of this user (a pending login has none). */
  readonly user?: Ulid
  /** `pending`: not fulfilled; `fulfilled`: fulfilled, not exchanged; `exchanged`: exchanged. */
  readonly state?: CompatSsoLoginStateFilter
}

/** Ready-made filters, as MAS offers builders; they compose by spreading. */
export const CompatSsoLoginFilter = {
  all: {} as CompatSsoLoginFilter,
  pendingOnly: { state: "pending" } as CompatSsoLoginFilter,
  fulfilledOnly: { state: "fulfilled" } as CompatSsoLoginFilter,
  exchangedOnly: { state: "exchanged" } as CompatSsoLoginFilter,
  forUser: (user: Ulid): CompatSsoLoginFilter => ({ user })
}

/** What both backends check before list and count read anything: a malformed user id is an InvalidOperationError. */
export const checkCompatSsoLoginFilter = (filter: CompatSsoLoginFilter): Effect.Effect<void, InvalidOperationError> =>
  checkFilterIds({ user: filter.user })

export interface CompatSsoLoginRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<CompatSsoLogin>, DatabaseError>
  /** The login exchanged into `session` (the lowest id if several were); a malformed session id is an InvalidOperationError. */
  readonly findForSession: (session: CompatSession) => Effect.Effect<Option.Option<CompatSsoLogin>, DatabaseError>
  /**
   * Exact (case-sensitive) match on the unique login token. Text holding NUL is a DriverError (22021, which dooms
   * the unit of work, as PostgreSQL refuses it); an unpaired UTF-16 surrogate is an InvalidOperationError.
   */
  readonly findByToken: (loginToken: string) => Effect.Effect<Option.Option<CompatSsoLogin>, DatabaseError>
  /**
   * A new pending login. The redirect URI is stored in its WHATWG serialisation (text that is not an absolute URL
   * is an InvalidOperationError). A login token already stored is a RowsAffectedError (expected 1, actual 0) that
   * leaves the unit of work usable; token text with an unpaired surrogate is an InvalidOperationError, NUL a
   * DriverError (22021). Nothing is written when it fails.
   */
  readonly add: (loginToken: string, redirectUri: Url) => Effect.Effect<CompatSsoLogin, DatabaseError>
  /**
   * Pending → Fulfilled by `browserSession`, now. A login passed in that is not pending is an InvalidOperationError
   * (InvalidTransition) and nothing is written; the write is guarded (the row must still be unfulfilled), so a stale
   * login is a RowsAffectedError (expected 1, actual 0). A browser session that is not stored is a DriverError
   * (23503); a malformed id of either argument an InvalidOperationError.
   */
  readonly fulfill: (
    login: CompatSsoLogin,
    browserSession: BrowserSession
  ) => Effect.Effect<CompatSsoLogin, DatabaseError>
  /**
   * Fulfilled → Exchanged into `session`, now; the browser session that fulfilled it stays recorded. A login passed
   * in that is not fulfilled is an InvalidOperationError (nothing written); the write is guarded (the row must be
   * fulfilled and not exchanged), so a login exchanged meanwhile is a RowsAffectedError. A session that is not stored
   * is a DriverError (23503); a malformed id of either argument an InvalidOperationError.
   */
  readonly exchange: (login: CompatSsoLogin, session: CompatSession) => Effect.Effect<CompatSsoLogin, DatabaseError>
  /** A malformed user id in the filter, or a cursor that is not a ULID, is an InvalidOperationError. */
  readonly list: (
    filter: CompatSsoLoginFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<CompatSsoLogin>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: CompatSsoLoginFilter) => Effect.Effect<number, DatabaseError>
}

export class CompatSsoLoginRepository extends Context.Tag("storage/CompatSsoLoginRepository")<
  CompatSsoLoginRepository,
  CompatSsoLoginRepositoryShape
>() {}
