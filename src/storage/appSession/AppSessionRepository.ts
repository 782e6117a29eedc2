// The port for app sessions (OAuth2 and compat sessions seen as one list): its filter, its split into the two kinds' filters, its shape, and the Tag both backends implement.
import { Context, Effect } from "effect"
import type { AppSession, AppSessionStateFilter } from "../../model/appSession.js"
import type { User } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import type { Device } from "../../model/values.js"
import type { DatabaseError, InvalidOperationError } from "../common/errors.js"
import type { Page, Pagination } from "../common/Pagination.js"
import { checkCompatSessionFilter, type CompatSessionFilter } from "../compat/CompatSessionRepository.js"
import { checkOAuth2SessionFilter, type OAuth2SessionFilter } from "../oauth2/OAuth2SessionRepository.js"

/**
 * Every criterion optional; a session of either kind matches when all set criteria hold (storage rule: Filters), as
 * the filter of its own kind would select it.
 */
export interface AppSessionFilter {
  readonly user?: Ulid
  readonly browserSession?: Ulid
  /** `active`: `finishedAt` unset; `finished`: set. */
  readonly state?: AppSessionStateFilter
  /**
   * Compat sessions: the stored device id equals the device's id. OAuth2 sessions: the scope holds either of the
   * device's two scope tokens (a device that cannot be encoded matches no OAuth2 session).
   */
  readonly device?: Device
  /** Strict; a session never active matches neither bound. */
  readonly lastActiveBefore?: Date
  readonly lastActiveAfter?: Date
  /** Compare the session id with the ULID bounds of the instant (strict at millisecond resolution). */
  readonly createdBefore?: Date
  readonly createdAfter?: Date
}

/** Ready-made filters, as MAS offers builders; they compose by spreading (`{ ...forUser(id), ...activeOnly }`). */
export const AppSessionFilter = {
  all: {} as AppSessionFilter,
  activeOnly: { state: "active" } as AppSessionFilter,
  finishedOnly: { state: "finished" } as AppSessionFilter,
  forUser: (user: Ulid): AppSessionFilter => ({ user }),
  forBrowserSession: (browserSession: Ulid): AppSessionFilter => ({ browserSession }),
  forDevice: (device: Device): AppSessionFilter => ({ device })
}

/** The two kinds' filters with the same criteria (MAS's `split_filter`): every criterion is common to both kinds. */
export const splitAppSessionFilter = (
  filter: AppSessionFilter
): { readonly compat: CompatSessionFilter; readonly oauth2: OAuth2SessionFilter } => {
  const common = {
    ...(filter.user === undefined ? {} : { user: filter.user }),
    ...(filter.browserSession === undefined ? {} : { browserSession: filter.browserSession }),
    ...(filter.state === undefined ? {} : { state: filter.state }),
    ...(filter.device === undefined ? {} : { device: filter.device }),
    ...(filter.lastActiveBefore === undefined ? {} : { lastActiveBefore: filter.lastActiveBefore }),
    ...(filter.lastActiveAfter === undefined ? {} : { lastActiveAfter: filter.lastActiveAfter }),
    ...(filter.createdBefore === undefined ? {} : { createdBefore: filter.createdBefore }),
    ...(filter.createdAfter === undefined ? {} : { createdAfter: filter.createdAfter })
  }
  return { compat: common, oauth2: common }
}

/**
 * What both backends check before list and count read anything: the two kinds' own checks (malformed ids, a device
 * id holding an unpaired surrogate), so an AppSession filter is refused exactly when a filter of either kind would be.
 */
export const checkAppSessionFilter = (filter: AppSessionFilter): Effect.Effect<void, InvalidOperationError> => {
  const { compat, oauth2 } = splitAppSessionFilter(filter)
  return Effect.zipRight(checkCompatSessionFilter(compat), checkOAuth2SessionFilter(oauth2))
}

export interface AppSessionRepositoryShape {
  /**
   * One keyset page over the compat and OAuth2 sessions matching the filter, ordered by session id across both kinds
   * (a cursor may be the id of either kind). A malformed id in the filter, a device id with an unpaired surrogate or a
   * cursor that is not a ULID is an InvalidOperationError; a device id holding NUL a DriverError (22021, as the compat
   * criterion sends it). A stored row that does not decode is an InconsistencyError naming its own table.
   */
  readonly list: (filter: AppSessionFilter, pagination: Pagination) => Effect.Effect<Page<AppSession>, DatabaseError>
  /** How many sessions of both kinds `list` would page through; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: AppSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Before a login reuses a device id: finishes (`now`) the user's unfinished compat sessions on that device and the
   * user's unfinished OAuth2 sessions whose scope holds either device token (none when the device cannot be encoded
   * as a scope token), in one statement. Whether any session was finished. A malformed user id or a device id with
   * an unpaired surrogate is an InvalidOperationError, NUL a DriverError (22021); nothing is written then.
   */
  readonly finishSessionsToReplaceDevice: (user: User, device: Device) => Effect.Effect<boolean, DatabaseError>
}

export class AppSessionRepository extends Context.Tag("storage/AppSessionRepository")<
  AppSessionRepository,
  AppSessionRepositoryShape
>() {}
