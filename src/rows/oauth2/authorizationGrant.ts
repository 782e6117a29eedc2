// Stored rows of `oauth2_authorization_grants` for both backends: stage and code decoders, the row Schema, row ⇄ entity.
import { Effect, Either, Option, Schema } from "effect"
import { Pending } from "../../model/common.js"
import {
  AuthorizationCode,
  AuthorizationGrant,
  AuthorizationGrantCancelled,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  type AuthorizationGrantStage,
  type NewAuthorizationGrant
} from "../../model/oauth2/authorizationGrant.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { Pkce, PkceChallengeMethod, ResponseMode, Url } from "../../model/values.js"
import { ScopeListColumn, scopeOfList, storedEntity } from "../common.js"
import { compareCodePoints } from "../../storage/common/filters.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

/** Stage columns of `oauth2_authorization_grants`. */
export interface AuthorizationGrantStageColumns {
  readonly fulfilledAt: Date | null
  readonly exchangedAt: Date | null
  readonly cancelledAt: Date | null
  readonly userSessionId: Ulid | null
  readonly oauth2SessionId: Ulid | null
}

/** The legacy tuple (fulfilled, OAuth2 session, no browser session) that reads as Cancelled; repositories log a warning for it. */
export const isLegacyCancelledGrant = (c: AuthorizationGrantStageColumns): boolean =>
  c.fulfilledAt !== null &&
  c.exchangedAt === null &&
  c.cancelledAt === null &&
  c.userSessionId === null &&
  c.oauth2SessionId !== null

export const decodeAuthorizationGrantStage = (
  c: AuthorizationGrantStageColumns
): StateDecodeResult<AuthorizationGrantStage> => {
  const { cancelledAt, exchangedAt, fulfilledAt, oauth2SessionId, userSessionId } = c
  if (fulfilledAt === null && exchangedAt === null && cancelledAt === null) {
    if (userSessionId === null && oauth2SessionId === null) return Either.right(new Pending())
  } else if (fulfilledAt !== null && exchangedAt === null && cancelledAt === null) {
    if (userSessionId !== null && oauth2SessionId === null) {
      return Either.right(new AuthorizationGrantFulfilled({ browserSessionId: userSessionId, fulfilledAt }))
    }
    if (isLegacyCancelledGrant(c)) return Either.right(new AuthorizationGrantCancelled({ cancelledAt: fulfilledAt }))
  } else if (fulfilledAt !== null && exchangedAt !== null && cancelledAt === null) {
    // The browser session that fulfilled the grant normally stays recorded; the domain does not require it.
    if (oauth2SessionId !== null) {
      return Either.right(new AuthorizationGrantExchanged({ sessionId: oauth2SessionId, fulfilledAt, exchangedAt }))
    }
  } else if (fulfilledAt === null && exchangedAt === null && cancelledAt !== null) {
    if (userSessionId === null && oauth2SessionId === null) {
      return Either.right(new AuthorizationGrantCancelled({ cancelledAt }))
    }
  }
  return Either.left(stateDecodeFailure("stage", `impossible stage (${describeTuple(c)})`))
}

/**
 * The stage columns of a stage. An exchanged grant keeps the browser session that fulfilled it,
 * which the stage does not carry, so it is passed in from the stored row.
 */
export const encodeAuthorizationGrantStage = (
  stage: AuthorizationGrantStage,
  browserSessionId: Ulid | null = null
): AuthorizationGrantStageColumns => {
  const none = { fulfilledAt: null, exchangedAt: null, cancelledAt: null, userSessionId: null, oauth2SessionId: null }
  switch (stage._tag) {
    case "Pending":
      return none
    case "Fulfilled":
      return { ...none, fulfilledAt: stage.fulfilledAt, userSessionId: stage.browserSessionId }
    case "Exchanged":
      return {
        ...none,
        fulfilledAt: stage.fulfilledAt,
        exchangedAt: stage.exchangedAt,
        userSessionId: browserSessionId,
        oauth2SessionId: stage.sessionId
      }
    case "Cancelled":
      return { ...none, cancelledAt: stage.cancelledAt }
  }
}

/** Code columns of `oauth2_authorization_grants`. */
export interface AuthorizationCodeColumns {
  readonly authorizationCode: string | null
  readonly codeChallenge: string | null
  readonly codeChallengeMethod: string | null
}

export const decodeAuthorizationCode = (
  c: AuthorizationCodeColumns
): StateDecodeResult<Option.Option<AuthorizationCode>> => {
  let pkce: Option.Option<Pkce>
  if (c.codeChallenge === null && c.codeChallengeMethod === null) {
    pkce = Option.none()
  } else if (c.codeChallenge !== null && c.codeChallengeMethod !== null) {
    const method = Schema.decodeUnknownOption(PkceChallengeMethod)(c.codeChallengeMethod)
    if (Option.isNone(method)) {
      return Either.left(
        stateDecodeFailure("code_challenge_method", `unknown method ${JSON.stringify(c.codeChallengeMethod)}`)
      )
    }
    pkce = Option.some(new Pkce({ challengeMethod: method.value, challenge: c.codeChallenge }))
  } else {
    return Either.left(
      stateDecodeFailure("code_challenge_method", "challenge and method must be both set or both null")
    )
  }
  if (c.authorizationCode === null) {
    return Option.isNone(pkce)
      ? Either.right(Option.none())
      : Either.left(stateDecodeFailure("authorization_code", "a PKCE challenge without an authorization code"))
  }
  return Either.right(Option.some(new AuthorizationCode({ code: c.authorizationCode, pkce })))
}

export const encodeAuthorizationCode = (code: Option.Option<AuthorizationCode>): AuthorizationCodeColumns => ({
  authorizationCode: Option.match(code, { onNone: () => null, onSome: (c) => c.code }),
  codeChallenge: Option.match(
    Option.flatMap(code, (c) => c.pkce),
    { onNone: () => null, onSome: (p) => p.challenge }
  ),
  codeChallengeMethod: Option.match(
    Option.flatMap(code, (c) => c.pkce),
    {
      onNone: () => null,
      onSome: (p) => p.challengeMethod
    }
  )
})

/** `decode<Entity>State` spelling of the stage decoder. */
export const decodeAuthorizationGrantState = decodeAuthorizationGrantStage
export const encodeAuthorizationGrantState = encodeAuthorizationGrantStage

// ---------------------------------------------------------------------------------------------------------------
// The row, shared by both backends

const storedAuthorizationGrant = storedEntity(AuthorizationGrant)

const NullableString = Schema.NullOr(Schema.String)
const NullableDate = Schema.NullOr(Schema.ValidDateFromSelf)
const NullableUlid = Schema.NullOr(UlidFromUuid)

export const AUTHORIZATION_GRANTS = "oauth2_authorization_grants"

/** The request's raw parameters as stored: a JSON object whose every member is a string. */
export type RawParameters = Readonly<Record<string, string>>

const isRawParameters = (u: unknown): u is RawParameters => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return (proto === Object.prototype || proto === null) && Object.values(u).every((v) => typeof v === "string")
}

/** `raw_parameters` (jsonb): anything but an object of strings is an inconsistency on that column. */
export const RawParametersColumn = Schema.Unknown.pipe(
  Schema.filter(isRawParameters, { message: () => "Expected a JSON object of strings" })
)

/** The parameters in key order (code points, as MAS's sorted map), whatever order the stored document kept. */
export const rawParametersOf = (stored: RawParameters): ReadonlyMap<string, string> =>
  new Map(Object.entries(stored).sort(([a], [b]) => compareCodePoints(a, b)))

/** The stored document of a parameter map: own members only, so a `__proto__` key is kept as a key. */
export const rawParametersToColumn = (parameters: ReadonlyMap<string, string>): RawParameters =>
  Object.fromEntries(parameters) as RawParameters

const stageColumns = (row: {
  readonly fulfilled_at: Date | null
  readonly exchanged_at: Date | null
  readonly cancelled_at: Date | null
  readonly user_session_id: Ulid | null
  readonly oauth2_session_id: Ulid | null
}): AuthorizationGrantStageColumns => ({
  fulfilledAt: row.fulfilled_at,
  exchangedAt: row.exchanged_at,
  cancelledAt: row.cancelled_at,
  userSessionId: row.user_session_id,
  oauth2SessionId: row.oauth2_session_id
})

const codeColumns = (row: {
  readonly authorization_code: string | null
  readonly code_challenge: string | null
  readonly code_challenge_method: string | null
}): AuthorizationCodeColumns => ({
  authorizationCode: row.authorization_code,
  codeChallenge: row.code_challenge,
  codeChallengeMethod: row.code_challenge_method
})

/**
 * The code of a row: the code and PKCE columns, and `response_type_code`, which says whether the `code` response
 * type was asked for and so must agree with the presence of a code (else an inconsistency on `authorization_code`).
 */
export const decodeAuthorizationGrantCode = (row: {
  readonly response_type_code: boolean
  readonly authorization_code: string | null
  readonly code_challenge: string | null
  readonly code_challenge_method: string | null
}): StateDecodeResult<Option.Option<AuthorizationCode>> =>
  Either.flatMap(decodeAuthorizationCode(codeColumns(row)), (code) =>
    Option.isSome(code) === row.response_type_code
      ? Either.right(code)
      : Either.left(
          stateDecodeFailure(
            "authorization_code",
            row.response_type_code
              ? "the code response type without an authorization code"
              : "an authorization code without the code response type"
          )
        )
  )

/**
 * `oauth2_authorization_grants`. The stage tuple is checked first (an impossible one names `stage`), then the PKCE
 * pair (`code_challenge_method`) and the code (`authorization_code`), as MAS reads them; memory decodes its rows with
 * this schema's type side, so both backends refuse the same rows.
 */
export const AuthorizationGrantRow = Schema.Struct({
  oauth2_authorization_grant_id: UlidFromUuid,
  oauth2_client_id: UlidFromUuid,
  redirect_uri: Url,
  scope_list: ScopeListColumn,
  state: NullableString,
  nonce: NullableString,
  response_mode: ResponseMode,
  response_type_code: Schema.Boolean,
  response_type_id_token: Schema.Boolean,
  authorization_code: NullableString,
  code_challenge: NullableString,
  code_challenge_method: Schema.NullOr(PkceChallengeMethod),
  login_hint: NullableString,
  locale: NullableString,
  raw_parameters: RawParametersColumn,
  created_at: Schema.ValidDateFromSelf,
  fulfilled_at: NullableDate,
  exchanged_at: NullableDate,
  cancelled_at: NullableDate,
  user_session_id: NullableUlid,
  oauth2_session_id: NullableUlid
}).pipe(
  Schema.filter((row) => {
    const stage = refusedState(decodeAuthorizationGrantStage(stageColumns(row)))
    return stage === true ? refusedState(decodeAuthorizationGrantCode(row)) : stage
  })
)
export type AuthorizationGrantRow = typeof AuthorizationGrantRow.Type

/** Only for rows the row schema accepted, whose stage and code decode. */
const accepted = <A>(result: StateDecodeResult<A>): A =>
  Either.getOrElse(result, (failure) => {
    throw new Error(`a row the row schema refuses: ${failure.reason}`)
  })

export const authorizationGrantFromRow = (row: AuthorizationGrantRow): AuthorizationGrant =>
  storedAuthorizationGrant({
    id: row.oauth2_authorization_grant_id,
    stage: accepted(decodeAuthorizationGrantStage(stageColumns(row))),
    clientId: row.oauth2_client_id,
    createdAt: row.created_at,
    code: accepted(decodeAuthorizationGrantCode(row)),
    redirectUri: row.redirect_uri,
    scope: scopeOfList(row.scope_list),
    state: Option.fromNullable(row.state),
    nonce: Option.fromNullable(row.nonce),
    responseMode: row.response_mode,
    responseTypeIdToken: row.response_type_id_token,
    loginHint: Option.fromNullable(row.login_hint),
    locale: Option.fromNullable(row.locale),
    rawParameters: rawParametersOf(row.raw_parameters)
  })

/**
 * A stored grant as both backends read it: a legacy tuple that reads as Cancelled (see `isLegacyCancelledGrant`) is
 * logged as a warning naming the grant, so that the rows an older version left behind can be found.
 */
export const readAuthorizationGrant = (row: AuthorizationGrantRow): Effect.Effect<AuthorizationGrant> => {
  const grant = authorizationGrantFromRow(row)
  return isLegacyCancelledGrant(stageColumns(row))
    ? Effect.as(
        Effect.annotateLogs(
          Effect.logWarning("Authorization grant fulfilled without a browser session: read as cancelled"),
          { "grant.id": grant.id }
        ),
        grant
      )
    : Effect.succeed(grant)
}

/** `readAuthorizationGrant` of a row that may be absent. */
export const readOptionalAuthorizationGrant = (
  row: Option.Option<AuthorizationGrantRow>
): Effect.Effect<Option.Option<AuthorizationGrant>> =>
  Option.isNone(row) ? Effect.succeedNone : Effect.map(readAuthorizationGrant(row.value), Option.some)

/** The row of a new, pending grant (both backends build the entity they return from it). */
export const newAuthorizationGrantRow = (
  params: NewAuthorizationGrant,
  id: Ulid,
  createdAt: Date,
  redirectUri: Url
): AuthorizationGrantRow => {
  const code = encodeAuthorizationCode(params.code)
  const method = Option.flatMap(params.code, (c) => Option.map(c.pkce, (p) => p.challengeMethod))
  return {
    oauth2_authorization_grant_id: id,
    oauth2_client_id: params.client.id,
    redirect_uri: redirectUri,
    scope_list: [...params.scope],
    state: Option.getOrNull(params.state),
    nonce: Option.getOrNull(params.nonce),
    response_mode: params.responseMode,
    response_type_code: Option.isSome(params.code),
    response_type_id_token: params.responseTypeIdToken,
    authorization_code: code.authorizationCode,
    code_challenge: code.codeChallenge,
    code_challenge_method: Option.getOrNull(method),
    login_hint: Option.getOrNull(params.loginHint),
    locale: Option.getOrNull(params.locale),
    raw_parameters: rawParametersToColumn(params.rawParameters),
    created_at: createdAt,
    ...stageRow(encodeAuthorizationGrantStage(new Pending()))
  }
}

const stageRow = (c: AuthorizationGrantStageColumns) => ({
  fulfilled_at: c.fulfilledAt,
  exchanged_at: c.exchangedAt,
  cancelled_at: c.cancelledAt,
  user_session_id: c.userSessionId,
  oauth2_session_id: c.oauth2SessionId
})
