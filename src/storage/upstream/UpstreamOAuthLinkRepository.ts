// The port for links between an upstream account (provider, subject) and a local user: its filter, the checks both backends make, and the Tag.
import { Context, Effect, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import type { UpstreamOAuthLink, UpstreamOAuthProvider } from "../../model/upstream.js"
import type { User } from "../../model/user.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkArgumentIds, checkFilterIds } from "../common/filters.js"
import { checkMaxBytes, checkWellFormed } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"

/**
 * A subject is at most 1,024 bytes of UTF-8: it is half of the unique (provider, subject) key, and PostgreSQL alone
 * would refuse an oversized btree entry, at a cut-off that depends on compression (OIDC's own limit is 255 ASCII
 * characters; other providers build the subject from a template, hence the room).
 */
export const UPSTREAM_SUBJECT_MAX_BYTES = 1024

/** Every criterion optional; a link matches when all set criteria hold (storage rule: Filters). */
export interface UpstreamOAuthLinkFilter {
  /** The link is associated to this user (a link without user matches no user). */
  readonly user?: Ulid
  readonly provider?: Ulid
  /** `true`: the link's provider is not disabled; `false`: it is (read from the providers' table). */
  readonly providerEnabled?: boolean
  /** Exact (case-sensitive) match on the subject. */
  readonly subject?: string
  /** Case-insensitive substring of the human account name, taken literally; a link without one never matches. */
  readonly humanAccountName?: string
}

/** Ready-made filters, as MAS offers builders; each adds its criterion to `filter` (default: every link). */
export const UpstreamOAuthLinkFilter = {
  all: {} as UpstreamOAuthLinkFilter,
  forUser: (user: Ulid, filter: UpstreamOAuthLinkFilter = {}): UpstreamOAuthLinkFilter => ({ ...filter, user }),
  forProvider: (provider: Ulid, filter: UpstreamOAuthLinkFilter = {}): UpstreamOAuthLinkFilter => ({
    ...filter,
    provider
  }),
  enabledProvidersOnly: (filter: UpstreamOAuthLinkFilter = {}): UpstreamOAuthLinkFilter => ({
    ...filter,
    providerEnabled: true
  }),
  disabledProvidersOnly: (filter: UpstreamOAuthLinkFilter = {}): UpstreamOAuthLinkFilter => ({
    ...filter,
    providerEnabled: false
  }),
  forSubject: (subject: string, filter: UpstreamOAuthLinkFilter = {}): UpstreamOAuthLinkFilter => ({
    ...filter,
    subject
  }),
  matchingHumanAccountName: (
    humanAccountName: string,
    filter: UpstreamOAuthLinkFilter = {}
  ): UpstreamOAuthLinkFilter => ({
    ...filter,
    humanAccountName
  })
}

/**
 * What both backends check before list and count read anything: malformed ids, an unpaired surrogate in the texts,
 * a `providerEnabled` that is not a boolean (InvalidOperationError). NUL in the texts is left to the statement, a
 * DriverError (22021) as PostgreSQL refuses it.
 */
export const checkUpstreamOAuthLinkFilter = (
  filter: UpstreamOAuthLinkFilter
): Effect.Effect<void, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkFilterIds({ user: filter.user, provider: filter.provider })
    yield* checkWellFormed({ subject: filter.subject, humanAccountName: filter.humanAccountName })
    if (filter.providerEnabled !== undefined && typeof filter.providerEnabled !== "boolean") {
      return yield* Effect.fail(new InvalidOperationError({ cause: Option.some("providerEnabled must be a boolean") }))
    }
  })

/** What both backends check before `add` writes: the provider's id, the texts well-formed, the subject's length. */
export const checkNewUpstreamOAuthLink = (
  provider: UpstreamOAuthProvider,
  subject: string,
  humanAccountName: Option.Option<string>
): Effect.Effect<void, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkArgumentIds({ provider: provider.id })
    yield* checkWellFormed({ subject, humanAccountName: Option.getOrNull(humanAccountName) })
    yield* checkMaxBytes("subject", subject, UPSTREAM_SUBJECT_MAX_BYTES)
  })

/** What both backends check before `findBySubject` reads: the provider's id and the subject well-formed. */
export const checkSubjectLookup = (
  provider: UpstreamOAuthProvider,
  subject: string
): Effect.Effect<void, InvalidOperationError> =>
  Effect.zipRight(checkArgumentIds({ provider: provider.id }), checkWellFormed({ subject }))

export interface UpstreamOAuthLinkRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UpstreamOAuthLink>, DatabaseError>
  /**
   * The link of `provider` with exactly this subject (case-sensitive). A malformed provider id or an unpaired surrogate
   * in the subject is an InvalidOperationError; NUL a DriverError (22021, which dooms the unit of work).
   */
  readonly findBySubject: (
    provider: UpstreamOAuthProvider,
    subject: string
  ) => Effect.Effect<Option.Option<UpstreamOAuthLink>, DatabaseError>
  /**
   * A new link of `provider` (created now) for `subject`, associated to no user. A (provider, subject) pair already
   * stored is a RowsAffectedError (expected 1, actual 0) that leaves the unit of work usable; a provider that is not
   * stored a DriverError (23503). A malformed provider id, text with an unpaired surrogate or a subject over
   * UPSTREAM_SUBJECT_MAX_BYTES is an InvalidOperationError, NUL a DriverError (22021). Nothing is written on failure.
   */
  readonly add: (
    provider: UpstreamOAuthProvider,
    subject: string,
    humanAccountName: Option.Option<string>
  ) => Effect.Effect<UpstreamOAuthLink, DatabaseError>
  /**
   * Sets the link's user, whatever it was (as MAS: a link already associated is moved). Malformed ids are an
   * InvalidOperationError (checked first, nothing sent); a link that is not stored a RowsAffectedError (expected 1,
   * actual 0); a user that is not stored a DriverError (23503).
   */
  readonly associateToUser: (link: UpstreamOAuthLink, user: User) => Effect.Effect<void, DatabaseError>
  /** Filter refusals as `checkUpstreamOAuthLinkFilter`; a cursor that is not a ULID is an InvalidOperationError. */
  readonly list: (
    filter: UpstreamOAuthLinkFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<UpstreamOAuthLink>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: UpstreamOAuthLinkFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Detaches the link's authorization sessions (link cleared, `unlinkedAt = now`, so they decode as Unlinked and keep
   * their ID token) and deletes the link, in one statement. A link that is not stored (or already removed) is a
   * RowsAffectedError and nothing is written; a malformed id an InvalidOperationError.
   */
  readonly remove: (link: UpstreamOAuthLink) => Effect.Effect<void, DatabaseError>
  /**
   * Storage rule "Cleanups", ULID key (`since < id <= until`): deletes links associated to no user, with their
   * authorization sessions (the browser-session authentications and registrations naming those sessions keep existing,
   * their reference cleared), as MAS does. A bad limit or a malformed bound is an InvalidOperationError.
   */
  readonly cleanupOrphaned: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class UpstreamOAuthLinkRepository extends Context.Tag("storage/UpstreamOAuthLinkRepository")<
  UpstreamOAuthLinkRepository,
  UpstreamOAuthLinkRepositoryShape
>() {}
