// The port for authorization sessions against an upstream provider: its filter, the checks both backends make, and the Tag.
import { Context, Effect, Option } from "effect"
import type { Ulid } from "../../model/Ulid.js"
import type {
  UpstreamCallbackData,
  UpstreamOAuthAuthorizationSession,
  UpstreamOAuthLink,
  UpstreamOAuthProvider
} from "../../model/upstream.js"
import type { BrowserSession } from "../../model/user.js"
import { isJson, type Json } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkArgumentIds, checkFilterIds } from "../common/filters.js"
import { checkMaxBytes, checkWellFormed, hasLoneSurrogate } from "../common/limits.js"
import type { Page, Pagination } from "../common/Pagination.js"
import type { LinkedUpstreamSessionFilter as SessionFilter } from "../user/BrowserSessionRepository.js"

/**
 * Every criterion optional; a session matches when all set criteria hold (storage rule: Filters). Declared once, where
 * the browser-session filter nests it (`linkedToUpstreamSessions`).
 */
export type UpstreamOAuthSessionFilter = SessionFilter

/**
 * The OAuth `state` text is unique, so a B-tree index holds it: at most 1,024 bytes, well under what an index entry can
 * take, where a longer text would fail the insert with an index error instead of a clear refusal.
 */
export const UPSTREAM_STATE_MAX_BYTES = 1024

/** Ready-made filters, as MAS offers builders; each adds its criterion to `filter` (default: every session). */
export const UpstreamOAuthSessionFilter = {
  all: {} as UpstreamOAuthSessionFilter,
  forProvider: (provider: Ulid, filter: UpstreamOAuthSessionFilter = {}): UpstreamOAuthSessionFilter => ({
    ...filter,
    provider
  }),
  withSubClaim: (subClaim: string, filter: UpstreamOAuthSessionFilter = {}): UpstreamOAuthSessionFilter => ({
    ...filter,
    subClaim
  }),
  withSidClaim: (sidClaim: string, filter: UpstreamOAuthSessionFilter = {}): UpstreamOAuthSessionFilter => ({
    ...filter,
    sidClaim
  })
}

const invalid = (cause: string) => new InvalidOperationError({ cause: Option.some(cause) })

/**
 * What both backends check before list and count read anything: a malformed provider id or an unpaired surrogate in
 * a claim is an InvalidOperationError; NUL in a claim is left to the statement (DriverError 22021).
 */
export const checkUpstreamOAuthSessionFilter = (
  filter: UpstreamOAuthSessionFilter
): Effect.Effect<void, InvalidOperationError> =>
  Effect.zipRight(
    checkFilterIds({ provider: filter.provider }),
    checkWellFormed({ subClaim: filter.subClaim, sidClaim: filter.sidClaim })
  )

/** What both backends check before `add` writes: the provider's id, the texts well-formed, the state's length. */
export const checkNewUpstreamOAuthSession = (
  provider: UpstreamOAuthProvider,
  state: string,
  codeChallengeVerifier: Option.Option<string>,
  nonce: Option.Option<string>
): Effect.Effect<void, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkArgumentIds({ provider: provider.id })
    yield* checkWellFormed({
      state,
      codeChallengeVerifier: Option.getOrNull(codeChallengeVerifier),
      nonce: Option.getOrNull(nonce)
    })
    yield* checkMaxBytes("state", state, UPSTREAM_STATE_MAX_BYTES)
  })

/** Whether a string of a JSON document (member names included) holds an unpaired surrogate. */
const loneSurrogateIn = (value: Json): boolean => {
  if (typeof value === "string") return hasLoneSurrogate(value)
  if (Array.isArray(value)) return value.some(loneSurrogateIn)
  if (typeof value === "object" && value !== null)
    return Object.entries(value).some(([k, v]) => hasLoneSurrogate(k) || loneSurrogateIn(v))
  return false
}

/**
 * The callback data `completeWithLink` stores, checked before anything else: each document a JSON value (else an
 * InvalidOperationError: the parameter could not be encoded), no text with an unpaired surrogate (jsonb and text
 * cannot hold one). NUL is left to the write (22021 in the ID token, 22P05 inside a document, as PostgreSQL refuses it).
 */
export const checkUpstreamCallbackData = (data: UpstreamCallbackData): Effect.Effect<void, InvalidOperationError> =>
  Effect.gen(function* () {
    yield* checkWellFormed({ idToken: Option.getOrNull(data.idToken) })
    const documents = {
      idTokenClaims: data.idTokenClaims,
      extraCallbackParameters: data.extraCallbackParameters,
      userinfo: data.userinfo
    }
    for (const [name, document] of Object.entries(documents)) {
      if (Option.isNone(document)) continue
      if (!isJson(document.value)) return yield* Effect.fail(invalid(`${name} is not a JSON value`))
      if (loneSurrogateIn(document.value)) {
        return yield* Effect.fail(invalid(`${name} holds an unpaired UTF-16 surrogate, which has no UTF-8 form`))
      }
    }
  })

export interface UpstreamOAuthSessionRepositoryShape {
  /** A malformed id is an InvalidOperationError (nothing read). */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<UpstreamOAuthAuthorizationSession>, DatabaseError>
  /**
   * A new pending session of `provider` (created now) for the OAuth `state` text. A state already stored is a
   * RowsAffectedError (expected 1, actual 0) that leaves the unit of work usable; a provider that is not stored a
   * DriverError (23503). A malformed provider id, text with an unpaired surrogate or a state over
   * UPSTREAM_STATE_MAX_BYTES is an InvalidOperationError, NUL a DriverError (22021). Nothing is written on failure.
   */
  readonly add: (
    provider: UpstreamOAuthProvider,
    state: string,
    codeChallengeVerifier: Option.Option<string>,
    nonce: Option.Option<string>
  ) => Effect.Effect<UpstreamOAuthAuthorizationSession, DatabaseError>
  /**
   * Pending → Completed with `link` at now, storing the callback data (refused as `checkUpstreamCallbackData` says,
   * before anything else). The documents are returned as `lookup` reads them back: a JSON `null` document is none. A
   * session passed in that is not pending is an InvalidOperationError (InvalidTransition) and nothing is written; the
   * write is guarded (the row must still be pending), so a stale session is a RowsAffectedError. A link that is not
   * stored is a DriverError (23503); malformed ids an InvalidOperationError. As in MAS, the link's provider is not
   * compared with the session's.
   */
  readonly completeWithLink: (
    session: UpstreamOAuthAuthorizationSession,
    link: UpstreamOAuthLink,
    idToken: Option.Option<string>,
    idTokenClaims: Option.Option<Json>,
    extraCallbackParameters: Option.Option<Json>,
    userinfo: Option.Option<Json>
  ) => Effect.Effect<UpstreamOAuthAuthorizationSession, DatabaseError>
  /**
   * Completed → Consumed at now, recording `browserSession` on the row (replacing any browser session an
   * authentication recorded, as MAS does). A session passed in that is not completed is an InvalidOperationError and
   * nothing is written; the write is guarded (the row must be completed, linked and not consumed), so a stale session
   * is a RowsAffectedError. A browser session that is not stored is a DriverError (23503).
   */
  readonly consume: (
    session: UpstreamOAuthAuthorizationSession,
    browserSession: BrowserSession
  ) => Effect.Effect<UpstreamOAuthAuthorizationSession, DatabaseError>
  /**
   * `subClaim` / `sidClaim` equal the `sub` / `sid` member of the ID-token claims as text (`->>`, which the claim
   * indexes serve). Filter refusals as `checkUpstreamOAuthSessionFilter`; a cursor that is not a ULID is refused.
   */
  readonly list: (
    filter: UpstreamOAuthSessionFilter,
    pagination: Pagination
  ) => Effect.Effect<Page<UpstreamOAuthAuthorizationSession>, DatabaseError>
  /** As `list`'s filter; a count beyond a safe integer is an InvalidOperationError. */
  readonly count: (filter: UpstreamOAuthSessionFilter) => Effect.Effect<number, DatabaseError>
  /**
   * Storage rule "Cleanups", ULID key (`since < id <= until`, in id order, at most `limit`): deletes the sessions tied to
   * no browser session (`user_session_id` unset: never consumed nor used by an authentication, or their browser session
   * is gone), as MAS does, but keeps those a browser-session authentication or a registration still names (MAS deletes
   * them, and its foreign keys then forget which upstream session they came from). A bad limit or a malformed bound is
   * an InvalidOperationError.
   */
  readonly cleanupOrphaned: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class UpstreamOAuthSessionRepository extends Context.Tag("storage/UpstreamOAuthSessionRepository")<
  UpstreamOAuthSessionRepository,
  UpstreamOAuthSessionRepositoryShape
>() {}
