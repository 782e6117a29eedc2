// The port for OAuth2 authorization grants (authorization-code flow requests): its shape, its argument checks, its Tag.
import { Context, Effect, Option, Schema } from "effect"
import type { AuthorizationGrant, NewAuthorizationGrant } from "../../model/oauth2/authorizationGrant.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import type { BrowserSession } from "../../model/user.js"
import type { Ulid } from "../../model/Ulid.js"
import { PkceChallengeMethod, ResponseMode, type Url } from "../../model/values.js"
import type { CleanupResult } from "../common/CleanupResult.js"
import { type DatabaseError, InvalidOperationError } from "../common/errors.js"
import { checkMaxBytes, checkScope, checkWellFormed } from "../common/limits.js"
import { normaliseUrl } from "../common/url.js"

/**
 * The longest authorization, device or user code either backend stores, in bytes of UTF-8. The codes are unique, so
 * PostgreSQL keeps them in a btree, which refuses an entry over about 2.7 kB (after compression, so the cut-off
 * depends on the text) while memory has no limit: a lower, fixed limit keeps the backends alike.
 */
export const GRANT_CODE_MAX_BYTES = 1024

const refuse = (what: string) => Effect.fail(new InvalidOperationError({ cause: Option.some(what) }))

const isResponseMode = Schema.is(ResponseMode)
const isChallengeMethod = Schema.is(PkceChallengeMethod)

/**
 * What both backends check before `add` sends or writes anything; gives the redirect URI in its stored (WHATWG) form.
 * Text without a UTF-8 form, a code over {@link GRANT_CODE_MAX_BYTES}, a redirect URI that is not an absolute URL, an
 * invalid scope token, response mode or PKCE method, or raw parameters that are not strings are an
 * InvalidOperationError. NUL in text is left to the write, which refuses it as PostgreSQL does (a DriverError).
 */
export const checkNewAuthorizationGrant = (params: NewAuthorizationGrant): Effect.Effect<Url, InvalidOperationError> =>
  Effect.gen(function* () {
    const code = Option.getOrUndefined(params.code)
    const pkce = code === undefined ? undefined : Option.getOrUndefined(code.pkce)
    yield* checkWellFormed({
      code: code?.code,
      "code.pkce.challenge": pkce?.challenge,
      state: Option.getOrUndefined(params.state),
      nonce: Option.getOrUndefined(params.nonce),
      loginHint: Option.getOrUndefined(params.loginHint),
      locale: Option.getOrUndefined(params.locale)
    })
    if (code !== undefined) yield* checkMaxBytes("authorization code", code.code, GRANT_CODE_MAX_BYTES)
    if (pkce !== undefined && !isChallengeMethod(pkce.challengeMethod)) {
      yield* refuse(`unknown PKCE challenge method ${JSON.stringify(pkce.challengeMethod)}`)
    }
    if (!isResponseMode(params.responseMode)) {
      yield* refuse(`unknown response mode ${JSON.stringify(params.responseMode)}`)
    }
    if (typeof params.responseTypeIdToken !== "boolean") yield* refuse("responseTypeIdToken is not a boolean")
    for (const [key, value] of params.rawParameters) {
      if (typeof key !== "string" || typeof value !== "string") {
        yield* refuse(`raw parameter ${JSON.stringify(String(key))} is not a pair of strings`)
      }
      yield* checkWellFormed({ "rawParameters key": key, [`rawParameters[${JSON.stringify(key)}]`]: value })
    }
    yield* checkScope("scope", params.scope)
    return yield* normaliseUrl("redirectUri", params.redirectUri)
  })

export interface OAuth2AuthorizationGrantRepositoryShape {
  /**
   * A new pending grant of `params.client`, created now; `rawParameters` is stored as a JSON object of strings and the
   * redirect URI in its WHATWG form. Bad arguments (see `checkNewAuthorizationGrant`) and a malformed client id are an
   * InvalidOperationError; an authorization code already stored is a RowsAffectedError (expected 1, actual 0) and the
   * unit of work stays usable. NUL in text is a DriverError (22021; 22P05 inside the raw parameters, as PostgreSQL's
   * jsonb refuses it) and a client that is not stored a DriverError (23503): both doom the unit of work.
   */
  readonly add: (params: NewAuthorizationGrant) => Effect.Effect<AuthorizationGrant, DatabaseError>
  /** A malformed id is an InvalidOperationError; an impossible stored row an InconsistencyError naming the column. */
  readonly lookup: (id: Ulid) => Effect.Effect<Option.Option<AuthorizationGrant>, DatabaseError>
  /**
   * Exact match on the unique authorization code. Text without a UTF-8 form is an InvalidOperationError; NUL in it a
   * DriverError (22021).
   */
  readonly findByCode: (code: string) => Effect.Effect<Option.Option<AuthorizationGrant>, DatabaseError>
  /**
   * Pending → Fulfilled by `browserSession`, now. A grant passed in that is not pending is an InvalidOperationError
   * (InvalidTransition) and nothing is written; the write is guarded (the row must still be pending), so a stale entity
   * whose row has moved on, or the loser of two concurrent calls, gets a RowsAffectedError (expected 1, actual 0). A
   * browser session that is not stored is a DriverError (23503); a malformed id of either argument an
   * InvalidOperationError.
   */
  readonly fulfill: (
    browserSession: BrowserSession,
    grant: AuthorizationGrant
  ) => Effect.Effect<AuthorizationGrant, DatabaseError>
  /**
   * Fulfilled → Exchanged for `session`, now. The authorization code is single-use: a grant passed in that is not
   * fulfilled is an InvalidOperationError (InvalidTransition) and nothing is written; the write is guarded (the row
   * must still be fulfilled and not exchanged), so of concurrent exchanges exactly one succeeds and every other gets a
   * RowsAffectedError (expected 1, actual 0). A session that is not stored is a DriverError (23503); a malformed id of
   * either argument an InvalidOperationError.
   */
  readonly exchange: (
    grant: AuthorizationGrant,
    session: OAuth2Session
  ) => Effect.Effect<AuthorizationGrant, DatabaseError>
  /**
   * Storage rule "Cleanups", ULID key (`since < id <= until`, in id order, at most `limit`): deletes grants in any
   * stage. A malformed id or a limit that is not a non-negative safe integer is an InvalidOperationError.
   */
  readonly cleanup: (
    since: Option.Option<Ulid>,
    until: Ulid,
    limit: number
  ) => Effect.Effect<CleanupResult<Ulid>, DatabaseError>
}

export class OAuth2AuthorizationGrantRepository extends Context.Tag("storage/OAuth2AuthorizationGrantRepository")<
  OAuth2AuthorizationGrantRepository,
  OAuth2AuthorizationGrantRepositoryShape
>() {}
