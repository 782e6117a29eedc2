// OAuth2-group entities (domain.md §3.2): clients, authorization and device-code grants, sessions, tokens.
import { Either, Option, Schema } from "effect"
import {
  copy,
  decodeRevocableState,
  decodeSessionState,
  encodeRevocableState,
  encodeSessionState,
  Finished,
  OptionalString,
  OptionalTimestamp,
  OptionalUlid,
  Pending,
  RevocableState,
  Revoked,
  SessionState,
  Timestamp,
  Valid
} from "./common.js"
import {
  describeTuple,
  invalidTransition,
  type InvalidTransition,
  stateDecodeFailure,
  type StateDecodeResult
} from "./errors.js"
import { Ulid } from "./Ulid.js"
import {
  ApplicationType,
  ClientAuthMethod,
  GRANT_TYPES,
  GrantType,
  IpAddressFromSelf,
  Jwks,
  JwsAlg,
  Pkce,
  PkceChallengeMethod,
  ResponseMode,
  ScopeFromSelf,
  Url
} from "./values.js"

const OptionalIp = Schema.OptionFromSelf(IpAddressFromSelf)
const OptionalUrl = Schema.OptionFromSelf(Url)
const OptionalAlg = Schema.OptionFromSelf(JwsAlg)
type Transition<A> = Either.Either<A, InvalidTransition>

// ---------------------------------------------------------------------------------------------
// Clients

export class ClientJwks extends Schema.TaggedClass<ClientJwks>("ClientJwks")("Jwks", { jwks: Jwks }) {}
export class ClientJwksUri extends Schema.TaggedClass<ClientJwksUri>("ClientJwksUri")("JwksUri", { uri: Url }) {}

/** A client's keys: inline (`jwks` column) or by reference (`jwks_uri` column). */
export const JwksOrJwksUri = Schema.Union(ClientJwks, ClientJwksUri)
export type JwksOrJwksUri = typeof JwksOrJwksUri.Type

/** Every client field except `id`, `clientId` and `isStatic`: what dynamic registration supplies. */
const clientFields = {
  metadataDigest: OptionalString,
  encryptedClientSecret: OptionalString,
  applicationType: Schema.OptionFromSelf(ApplicationType),
  redirectUris: Schema.Array(Url),
  grantTypes: Schema.Array(GrantType),
  clientName: OptionalString,
  logoUri: OptionalUrl,
  clientUri: OptionalUrl,
  policyUri: OptionalUrl,
  tosUri: OptionalUrl,
  jwks: Schema.OptionFromSelf(JwksOrJwksUri),
  idTokenSignedResponseAlg: OptionalAlg,
  userinfoSignedResponseAlg: OptionalAlg,
  tokenEndpointAuthMethod: Schema.OptionFromSelf(ClientAuthMethod),
  tokenEndpointAuthSigningAlg: OptionalAlg,
  initiateLoginUri: OptionalUrl
}

export class Client extends Schema.Class<Client>("Client")({
  id: Ulid,
  ...clientFields,
  isStatic: Schema.Boolean
}) {
  /** The public client id: the id's ULID text (not stored). */
  get clientId(): string {
    return this.id
  }
}

export const NewClient = Schema.Struct(clientFields)
export type NewClient = typeof NewClient.Type

/** A client declared in the configuration; `upsertStatic` enables all four grant types. */
export const StaticClient = Schema.Struct({
  clientId: Ulid,
  clientName: OptionalString,
  clientUri: OptionalUrl,
  clientAuthMethod: ClientAuthMethod,
  encryptedClientSecret: OptionalString,
  jwks: Schema.OptionFromSelf(Jwks),
  jwksUri: OptionalUrl,
  redirectUris: Schema.Array(Url)
})
export type StaticClient = typeof StaticClient.Type

export const ClientKind = Schema.Literal("static", "dynamic")
export type ClientKind = typeof ClientKind.Type

/** The four boolean grant-type columns of `oauth2_clients`. */
export interface GrantTypeColumns {
  readonly grantTypeAuthorizationCode: boolean
  readonly grantTypeRefreshToken: boolean
  readonly grantTypeClientCredentials: boolean
  readonly grantTypeDeviceCode: boolean
}

/** Grant types read back in `GrantType` order. */
export const grantTypesFromColumns = (columns: GrantTypeColumns): ReadonlyArray<GrantType> => {
  const flags = [
    columns.grantTypeAuthorizationCode,
    columns.grantTypeRefreshToken,
    columns.grantTypeClientCredentials,
    columns.grantTypeDeviceCode
  ]
  return GRANT_TYPES.filter((_, i) => flags[i])
}

export const grantTypesToColumns = (grantTypes: ReadonlyArray<GrantType>): GrantTypeColumns => ({
  grantTypeAuthorizationCode: grantTypes.includes("authorization_code"),
  grantTypeRefreshToken: grantTypes.includes("refresh_token"),
  grantTypeClientCredentials: grantTypes.includes("client_credentials"),
  grantTypeDeviceCode: grantTypes.includes("urn:ietf:params:oauth:grant-type:device_code")
})

/** The `jwks` (JSON) and `jwks_uri` (text) columns: at most one set. */
export interface ClientJwksColumns {
  readonly jwks: unknown | null
  readonly jwksUri: string | null
}

export const decodeClientJwks = (columns: ClientJwksColumns): StateDecodeResult<Option.Option<JwksOrJwksUri>> => {
  const { jwks, jwksUri } = columns
  if (jwks !== null && jwksUri !== null) {
    return Either.left(stateDecodeFailure("jwks_uri", "both jwks and jwks_uri are set"))
  }
  if (jwks !== null) {
    return Schema.decodeUnknownEither(Jwks)(jwks).pipe(
      Either.map((j) => Option.some<JwksOrJwksUri>(new ClientJwks({ jwks: j }))),
      Either.mapLeft(() => stateDecodeFailure("jwks", "not a public JSON Web Key Set"))
    )
  }
  if (jwksUri !== null) {
    return Schema.decodeUnknownEither(Url)(jwksUri).pipe(
      Either.map((uri) => Option.some<JwksOrJwksUri>(new ClientJwksUri({ uri }))),
      Either.mapLeft(() => stateDecodeFailure("jwks_uri", "not an absolute URL"))
    )
  }
  return Either.right(Option.none())
}

export const encodeClientJwks = (jwks: Option.Option<JwksOrJwksUri>): ClientJwksColumns =>
  Option.match(jwks, {
    onNone: () => ({ jwks: null, jwksUri: null }),
    onSome: (j) => j._tag === "Jwks" ? { jwks: j.jwks, jwksUri: null } : { jwks: null, jwksUri: j.uri }
  })

// ---------------------------------------------------------------------------------------------
// Authorization grants

export class AuthorizationCode extends Schema.Class<AuthorizationCode>("AuthorizationCode")({
  code: Schema.String,
  pkce: Schema.OptionFromSelf(Pkce)
}) {}

export class AuthorizationGrantFulfilled
  extends Schema.TaggedClass<AuthorizationGrantFulfilled>("AuthorizationGrantFulfilled")("Fulfilled", {
    browserSessionId: Ulid,
    fulfilledAt: Timestamp
  })
{}

export class AuthorizationGrantExchanged
  extends Schema.TaggedClass<AuthorizationGrantExchanged>("AuthorizationGrantExchanged")("Exchanged", {
    sessionId: Ulid,
    fulfilledAt: Timestamp,
    exchangedAt: Timestamp
  })
{}

export class AuthorizationGrantCancelled
  extends Schema.TaggedClass<AuthorizationGrantCancelled>("AuthorizationGrantCancelled")("Cancelled", {
    cancelledAt: Timestamp
  })
{}

export const AuthorizationGrantStage = Schema.Union(
  Pending,
  AuthorizationGrantFulfilled,
  AuthorizationGrantExchanged,
  AuthorizationGrantCancelled
)
export type AuthorizationGrantStage = typeof AuthorizationGrantStage.Type

const grantFields = {
  code: Schema.OptionFromSelf(AuthorizationCode),
  redirectUri: Url,
  scope: ScopeFromSelf,
  state: OptionalString,
  nonce: OptionalString,
  responseMode: ResponseMode,
  responseTypeIdToken: Schema.Boolean,
  loginHint: OptionalString,
  locale: OptionalString,
  rawParameters: Schema.ReadonlyMapFromSelf({ key: Schema.String, value: Schema.String })
}

export class AuthorizationGrant extends Schema.Class<AuthorizationGrant>("AuthorizationGrant")({
  id: Ulid,
  stage: AuthorizationGrantStage,
  clientId: Ulid,
  createdAt: Timestamp,
  ...grantFields
}) {}

export const NewAuthorizationGrant = Schema.Struct({ client: Client, ...grantFields })
export type NewAuthorizationGrant = typeof NewAuthorizationGrant.Type

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
  c.fulfilledAt !== null && c.exchangedAt === null && c.cancelledAt === null && c.userSessionId === null &&
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
      return Either.left(stateDecodeFailure("code_challenge_method", `unknown method ${JSON.stringify(c.codeChallengeMethod)}`))
    }
    pkce = Option.some(new Pkce({ challengeMethod: method.value, challenge: c.codeChallenge }))
  } else {
    return Either.left(stateDecodeFailure("code_challenge_method", "challenge and method must be both set or both null"))
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
  codeChallenge: Option.match(Option.flatMap(code, (c) => c.pkce), { onNone: () => null, onSome: (p) => p.challenge }),
  codeChallengeMethod: Option.match(Option.flatMap(code, (c) => c.pkce), {
    onNone: () => null,
    onSome: (p) => p.challengeMethod
  })
})

const withStage = (grant: AuthorizationGrant, stage: AuthorizationGrantStage): AuthorizationGrant =>
  copy(AuthorizationGrant, grant, { stage })

/** Pending → Fulfilled. */
export const fulfillAuthorizationGrant = (
  grant: AuthorizationGrant,
  now: Date,
  browserSessionId: Ulid
): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Pending"
    ? Either.right(withStage(grant, new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: now })))
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "fulfill")

/** Fulfilled → Exchanged. */
export const exchangeAuthorizationGrant = (
  grant: AuthorizationGrant,
  now: Date,
  sessionId: Ulid
): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Fulfilled"
    ? Either.right(
      withStage(
        grant,
        new AuthorizationGrantExchanged({ sessionId, fulfilledAt: grant.stage.fulfilledAt, exchangedAt: now })
      )
    )
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "exchange")

/** Pending → Cancelled (no repository method writes it; kept for completeness of the machine). */
export const cancelAuthorizationGrant = (grant: AuthorizationGrant, now: Date): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Pending"
    ? Either.right(withStage(grant, new AuthorizationGrantCancelled({ cancelledAt: now })))
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "cancel")

// ---------------------------------------------------------------------------------------------
// Sessions

export class OAuth2Session extends Schema.Class<OAuth2Session>("OAuth2Session")({
  id: Ulid,
  state: SessionState,
  createdAt: Timestamp,
  userId: OptionalUlid,
  userSessionId: OptionalUlid,
  clientId: Ulid,
  scope: ScopeFromSelf,
  userAgent: OptionalString,
  lastActiveAt: OptionalTimestamp,
  lastActiveIp: OptionalIp,
  humanName: OptionalString
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
  get isFinished(): boolean {
    return this.state._tag === "Finished"
  }
}

export const SessionStateFilter = Schema.Literal("active", "finished")
export type SessionStateFilter = typeof SessionStateFilter.Type

export const decodeOAuth2SessionState = decodeSessionState
export const encodeOAuth2SessionState = encodeSessionState

/** Valid → Finished. */
export const finishOAuth2Session = (session: OAuth2Session, now: Date): Transition<OAuth2Session> =>
  session.state._tag === "Valid"
    ? Either.right(copy(OAuth2Session, session, { state: new Finished({ finishedAt: now }) }))
    : invalidTransition("OAuth2Session", session.state._tag, "finish")

// ---------------------------------------------------------------------------------------------
// Access tokens

export class AccessToken extends Schema.Class<AccessToken>("AccessToken")({
  id: Ulid,
  state: RevocableState,
  sessionId: Ulid,
  accessToken: Schema.String,
  createdAt: Timestamp,
  expiresAt: OptionalTimestamp,
  firstUsedAt: OptionalTimestamp
}) {
  /** Expired once `expiresAt < now`. */
  isExpired(now: Date): boolean {
    return Option.exists(this.expiresAt, (e) => e.getTime() < now.getTime())
  }
  isValid(now: Date): boolean {
    return this.state._tag === "Valid" && !this.isExpired(now)
  }
  get isUsed(): boolean {
    return Option.isSome(this.firstUsedAt)
  }
}

export const decodeAccessTokenState = decodeRevocableState
export const encodeAccessTokenState = encodeRevocableState

/** Valid → Revoked. */
export const revokeAccessToken = (token: AccessToken, now: Date): Transition<AccessToken> =>
  token.state._tag === "Valid"
    ? Either.right(copy(AccessToken, token, { state: new Revoked({ revokedAt: now }) }))
    : invalidTransition("AccessToken", token.state._tag, "revoke")

/** Sets `firstUsedAt = now` (overwrites, as the repository does). */
export const markAccessTokenUsed = (token: AccessToken, now: Date): AccessToken =>
  copy(AccessToken, token, { firstUsedAt: Option.some(now) })

// ---------------------------------------------------------------------------------------------
// Refresh tokens

export class RefreshTokenConsumed
  extends Schema.TaggedClass<RefreshTokenConsumed>("RefreshTokenConsumed")("Consumed", {
    consumedAt: Timestamp,
    nextRefreshTokenId: OptionalUlid
  })
{}

export const RefreshTokenState = Schema.Union(Valid, RefreshTokenConsumed, Revoked)
export type RefreshTokenState = typeof RefreshTokenState.Type

export class RefreshToken extends Schema.Class<RefreshToken>("RefreshToken")({
  id: Ulid,
  state: RefreshTokenState,
  refreshToken: Schema.String,
  sessionId: Ulid,
  createdAt: Timestamp,
  accessTokenId: OptionalUlid
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
}

export interface RefreshTokenStateColumns {
  readonly consumedAt: Date | null
  readonly revokedAt: Date | null
  readonly nextOAuth2RefreshTokenId: Ulid | null
}

export const decodeRefreshTokenState = (c: RefreshTokenStateColumns): StateDecodeResult<RefreshTokenState> => {
  const { consumedAt, nextOAuth2RefreshTokenId: next, revokedAt } = c
  if (consumedAt === null && revokedAt === null && next === null) return Either.right(new Valid())
  if (consumedAt !== null && revokedAt === null) {
    return Either.right(new RefreshTokenConsumed({ consumedAt, nextRefreshTokenId: Option.fromNullable(next) }))
  }
  if (consumedAt === null && revokedAt !== null && next === null) return Either.right(new Revoked({ revokedAt }))
  return Either.left(stateDecodeFailure("state", `impossible refresh token state (${describeTuple(c)})`))
}

export const encodeRefreshTokenState = (state: RefreshTokenState): RefreshTokenStateColumns => {
  switch (state._tag) {
    case "Valid":
      return { consumedAt: null, revokedAt: null, nextOAuth2RefreshTokenId: null }
    case "Consumed":
      return {
        consumedAt: state.consumedAt,
        revokedAt: null,
        nextOAuth2RefreshTokenId: Option.getOrNull(state.nextRefreshTokenId)
      }
    case "Revoked":
      return { consumedAt: null, revokedAt: state.revokedAt, nextOAuth2RefreshTokenId: null }
  }
}

/** Valid or Consumed → Consumed (a second consumption overwrites time and successor); Revoked refuses. */
export const consumeRefreshToken = (token: RefreshToken, now: Date, nextRefreshTokenId: Ulid): Transition<RefreshToken> =>
  token.state._tag === "Revoked"
    ? invalidTransition("RefreshToken", token.state._tag, "consume")
    : Either.right(
      copy(RefreshToken, token, {
        state: new RefreshTokenConsumed({ consumedAt: now, nextRefreshTokenId: Option.some(nextRefreshTokenId) })
      })
    )

/** Valid → Revoked. */
export const revokeRefreshToken = (token: RefreshToken, now: Date): Transition<RefreshToken> =>
  token.state._tag === "Valid"
    ? Either.right(copy(RefreshToken, token, { state: new Revoked({ revokedAt: now }) }))
    : invalidTransition("RefreshToken", token.state._tag, "revoke")

// ---------------------------------------------------------------------------------------------
// Device-code grants

export class DeviceCodeGrantFulfilled
  extends Schema.TaggedClass<DeviceCodeGrantFulfilled>("DeviceCodeGrantFulfilled")("Fulfilled", {
    browserSessionId: Ulid,
    fulfilledAt: Timestamp
  })
{}

export class DeviceCodeGrantRejected
  extends Schema.TaggedClass<DeviceCodeGrantRejected>("DeviceCodeGrantRejected")("Rejected", {
    browserSessionId: Ulid,
    rejectedAt: Timestamp
  })
{}

export class DeviceCodeGrantExchanged
  extends Schema.TaggedClass<DeviceCodeGrantExchanged>("DeviceCodeGrantExchanged")("Exchanged", {
    browserSessionId: Ulid,
    fulfilledAt: Timestamp,
    exchangedAt: Timestamp,
    sessionId: Ulid
  })
{}

export const DeviceCodeGrantState = Schema.Union(
  Pending,
  DeviceCodeGrantFulfilled,
  DeviceCodeGrantRejected,
  DeviceCodeGrantExchanged
)
export type DeviceCodeGrantState = typeof DeviceCodeGrantState.Type

export class DeviceCodeGrant extends Schema.Class<DeviceCodeGrant>("DeviceCodeGrant")({
  id: Ulid,
  state: DeviceCodeGrantState,
  clientId: Ulid,
  scope: ScopeFromSelf,
  userCode: Schema.String,
  deviceCode: Schema.String,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  ipAddress: OptionalIp,
  userAgent: OptionalString,
  locale: OptionalString
}) {}

export const NewDeviceCodeGrant = Schema.Struct({
  client: Client,
  scope: ScopeFromSelf,
  deviceCode: Schema.String,
  userCode: Schema.String,
  expiresIn: Schema.DurationFromSelf,
  ipAddress: OptionalIp,
  userAgent: OptionalString
})
export type NewDeviceCodeGrant = typeof NewDeviceCodeGrant.Type

export interface DeviceCodeGrantStateColumns {
  readonly fulfilledAt: Date | null
  readonly rejectedAt: Date | null
  readonly exchangedAt: Date | null
  readonly userSessionId: Ulid | null
  readonly oauth2SessionId: Ulid | null
}

export const decodeDeviceCodeGrantState = (c: DeviceCodeGrantStateColumns): StateDecodeResult<DeviceCodeGrantState> => {
  const { exchangedAt, fulfilledAt, oauth2SessionId, rejectedAt, userSessionId } = c
  if (fulfilledAt === null && rejectedAt === null && exchangedAt === null && userSessionId === null && oauth2SessionId === null) {
    return Either.right(new Pending())
  }
  if (fulfilledAt !== null && rejectedAt === null && exchangedAt === null && userSessionId !== null && oauth2SessionId === null) {
    return Either.right(new DeviceCodeGrantFulfilled({ browserSessionId: userSessionId, fulfilledAt }))
  }
  if (fulfilledAt === null && rejectedAt !== null && exchangedAt === null && userSessionId !== null && oauth2SessionId === null) {
    return Either.right(new DeviceCodeGrantRejected({ browserSessionId: userSessionId, rejectedAt }))
  }
  if (fulfilledAt !== null && rejectedAt === null && exchangedAt !== null && userSessionId !== null && oauth2SessionId !== null) {
    return Either.right(
      new DeviceCodeGrantExchanged({ browserSessionId: userSessionId, fulfilledAt, exchangedAt, sessionId: oauth2SessionId })
    )
  }
  return Either.left(stateDecodeFailure("state", `impossible device code grant state (${describeTuple(c)})`))
}

export const encodeDeviceCodeGrantState = (state: DeviceCodeGrantState): DeviceCodeGrantStateColumns => {
  const none = { fulfilledAt: null, rejectedAt: null, exchangedAt: null, userSessionId: null, oauth2SessionId: null }
  switch (state._tag) {
    case "Pending":
      return none
    case "Fulfilled":
      return { ...none, fulfilledAt: state.fulfilledAt, userSessionId: state.browserSessionId }
    case "Rejected":
      return { ...none, rejectedAt: state.rejectedAt, userSessionId: state.browserSessionId }
    case "Exchanged":
      return {
        ...none,
        fulfilledAt: state.fulfilledAt,
        exchangedAt: state.exchangedAt,
        userSessionId: state.browserSessionId,
        oauth2SessionId: state.sessionId
      }
  }
}

/** Pending → Fulfilled, recording the locale. */
export const fulfillDeviceCodeGrant = (
  grant: DeviceCodeGrant,
  now: Date,
  browserSessionId: Ulid,
  locale: Option.Option<string>
): Transition<DeviceCodeGrant> =>
  grant.state._tag === "Pending"
    ? Either.right(
      copy(DeviceCodeGrant, grant, { state: new DeviceCodeGrantFulfilled({ browserSessionId, fulfilledAt: now }), locale })
    )
    : invalidTransition("DeviceCodeGrant", grant.state._tag, "fulfill")

/** Pending → Rejected. */
export const rejectDeviceCodeGrant = (grant: DeviceCodeGrant, now: Date, browserSessionId: Ulid): Transition<DeviceCodeGrant> =>
  grant.state._tag === "Pending"
    ? Either.right(copy(DeviceCodeGrant, grant, { state: new DeviceCodeGrantRejected({ browserSessionId, rejectedAt: now }) }))
    : invalidTransition("DeviceCodeGrant", grant.state._tag, "reject")

/** Fulfilled → Exchanged. */
export const exchangeDeviceCodeGrant = (grant: DeviceCodeGrant, now: Date, sessionId: Ulid): Transition<DeviceCodeGrant> =>
  grant.state._tag === "Fulfilled"
    ? Either.right(
      copy(DeviceCodeGrant, grant, {
        state: new DeviceCodeGrantExchanged({
          browserSessionId: grant.state.browserSessionId,
          fulfilledAt: grant.state.fulfilledAt,
          exchangedAt: now,
          sessionId
        })
      })
    )
    : invalidTransition("DeviceCodeGrant", grant.state._tag, "exchange")

/** `decode<Entity>State` spelling of the stage decoder. */
export const decodeAuthorizationGrantState = decodeAuthorizationGrantStage
export const encodeAuthorizationGrantState = encodeAuthorizationGrantStage
