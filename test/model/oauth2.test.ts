// OAuth2-group entities: client columns, grant and token state machines, decoders and their round trips.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Either, Option } from "effect"
import {
  AccessToken,
  AuthorizationCode,
  AuthorizationGrant,
  type AuthorizationGrantStage,
  AuthorizationGrantCancelled,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  cancelAuthorizationGrant,
  Client,
  ClientJwks,
  ClientJwksUri,
  consumeRefreshToken,
  decodeAccessTokenState,
  decodeAuthorizationCode,
  decodeAuthorizationGrantStage,
  decodeClientJwks,
  decodeDeviceCodeGrantState,
  decodeOAuth2SessionState,
  decodeRefreshTokenState,
  DeviceCodeGrant,
  type DeviceCodeGrantState,
  emptyScope,
  encodeAccessTokenState,
  encodeAuthorizationCode,
  encodeAuthorizationGrantStage,
  encodeClientJwks,
  encodeDeviceCodeGrantState,
  encodeOAuth2SessionState,
  encodeRefreshTokenState,
  exchangeAuthorizationGrant,
  exchangeDeviceCodeGrant,
  Finished,
  finishOAuth2Session,
  fulfillAuthorizationGrant,
  fulfillDeviceCodeGrant,
  grantTypesFromColumns,
  grantTypesToColumns,
  isLegacyCancelledGrant,
  type Jwks,
  makeScope,
  markAccessTokenUsed,
  NewDeviceCodeGrant,
  OAuth2Session,
  Pending,
  Pkce,
  RefreshToken,
  RefreshTokenConsumed,
  type RefreshTokenState,
  rejectDeviceCodeGrant,
  revokeAccessToken,
  revokeRefreshToken,
  Revoked,
  type ScopeToken,
  type Url,
  Valid
} from "../../src/model/index.js"
import { at, inconsistent, newId, refused, right, T0 } from "./fixtures.js"

const client = new Client({
  id: newId(),
  metadataDigest: Option.none(),
  encryptedClientSecret: Option.none(),
  applicationType: Option.some("web"),
  redirectUris: ["https://example.com/cb" as Url],
  grantTypes: ["authorization_code", "refresh_token"],
  clientName: Option.some("Example"),
  logoUri: Option.none(),
  clientUri: Option.none(),
  policyUri: Option.none(),
  tosUri: Option.none(),
  jwks: Option.none(),
  idTokenSignedResponseAlg: Option.some("RS256"),
  userinfoSignedResponseAlg: Option.none(),
  tokenEndpointAuthMethod: Option.some("none"),
  tokenEndpointAuthSigningAlg: Option.none(),
  initiateLoginUri: Option.none(),
  isStatic: false
})

describe("Client", () => {
  it("clientId is the id's ULID text", () => {
    assert.strictEqual(client.clientId, client.id)
  })

  it("reads grant types back from the boolean columns in GrantType order", () => {
    assert.deepStrictEqual(
      grantTypesFromColumns({
        grantTypeAuthorizationCode: false,
        grantTypeRefreshToken: true,
        grantTypeClientCredentials: false,
        grantTypeDeviceCode: true
      }),
      ["refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]
    )
    assert.deepStrictEqual(
      grantTypesFromColumns(grantTypesToColumns(["client_credentials", "authorization_code"])),
      ["authorization_code", "client_credentials"]
    )
  })

  it("decodes jwks / jwks_uri: at most one", () => {
    const jwks = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] }
    assert.deepStrictEqual(
      decodeClientJwks({ jwks, jwksUri: null }),
      Either.right(Option.some(new ClientJwks({ jwks: jwks as unknown as Jwks })))
    )
    assert.deepStrictEqual(
      decodeClientJwks({ jwks: null, jwksUri: "https://example.com/jwks" }),
      Either.right(Option.some(new ClientJwksUri({ uri: "https://example.com/jwks" as Url })))
    )
    assert.deepStrictEqual(decodeClientJwks({ jwks: null, jwksUri: null }), Either.right(Option.none()))
    inconsistent(decodeClientJwks({ jwks, jwksUri: "https://example.com/jwks" }), "jwks_uri")
    inconsistent(decodeClientJwks({ jwks: { keys: [{ kty: "oct", k: "secret" }] }, jwksUri: null }), "jwks")
    inconsistent(decodeClientJwks({ jwks: null, jwksUri: "relative/path" }), "jwks_uri")
    const some = Either.getOrThrow(decodeClientJwks({ jwks, jwksUri: null }))
    assert.deepStrictEqual(encodeClientJwks(some), { jwks, jwksUri: null })
  })
})

describe("AuthorizationGrant", () => {
  const browserSessionId = newId()
  const sessionId = newId()
  const grant = new AuthorizationGrant({
    id: newId(),
    stage: new Pending(),
    clientId: client.id,
    createdAt: T0,
    code: Option.some(new AuthorizationCode({ code: "c", pkce: Option.some(new Pkce({ challengeMethod: "S256", challenge: "ch" })) })),
    redirectUri: "https://example.com/cb" as Url,
    scope: makeScope(["openid" as ScopeToken]),
    state: Option.some("st"),
    nonce: Option.none(),
    responseMode: "query",
    responseTypeIdToken: false,
    loginHint: Option.none(),
    locale: Option.none(),
    rawParameters: new Map([["prompt", "consent"]])
  })

  const none = { fulfilledAt: null, exchangedAt: null, cancelledAt: null, userSessionId: null, oauth2SessionId: null }

  it("decodes every valid stage tuple", () => {
    assert.deepStrictEqual(decodeAuthorizationGrantStage(none), Either.right(new Pending()))
    assert.deepStrictEqual(
      decodeAuthorizationGrantStage({ ...none, fulfilledAt: at(1), userSessionId: browserSessionId }),
      Either.right(new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }))
    )
    const exchanged = new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) })
    assert.deepStrictEqual(
      decodeAuthorizationGrantStage({ ...none, fulfilledAt: at(1), exchangedAt: at(2), userSessionId: browserSessionId, oauth2SessionId: sessionId }),
      Either.right(exchanged)
    )
    assert.deepStrictEqual(
      decodeAuthorizationGrantStage({ ...none, fulfilledAt: at(1), exchangedAt: at(2), oauth2SessionId: sessionId }),
      Either.right(exchanged)
    )
    assert.deepStrictEqual(
      decodeAuthorizationGrantStage({ ...none, cancelledAt: at(3) }),
      Either.right(new AuthorizationGrantCancelled({ cancelledAt: at(3) }))
    )
  })

  it("reads the legacy tuple as Cancelled at the fulfilment time", () => {
    const legacy = { ...none, fulfilledAt: at(1), oauth2SessionId: sessionId }
    assert.isTrue(isLegacyCancelledGrant(legacy))
    assert.isFalse(isLegacyCancelledGrant({ ...legacy, userSessionId: browserSessionId }))
    assert.deepStrictEqual(decodeAuthorizationGrantStage(legacy), Either.right(new AuthorizationGrantCancelled({ cancelledAt: at(1) })))
  })

  it("rejects impossible tuples on column stage", () => {
    const impossible = [
      { ...none, userSessionId: browserSessionId },
      { ...none, oauth2SessionId: sessionId },
      { ...none, fulfilledAt: at(1) },
      { ...none, exchangedAt: at(2) },
      { ...none, fulfilledAt: at(1), exchangedAt: at(2), userSessionId: browserSessionId },
      { ...none, cancelledAt: at(1), fulfilledAt: at(1), userSessionId: browserSessionId },
      { ...none, cancelledAt: at(1), userSessionId: browserSessionId },
      { ...none, fulfilledAt: at(1), exchangedAt: at(2), cancelledAt: at(3), oauth2SessionId: sessionId }
    ]
    for (const tuple of impossible) inconsistent(decodeAuthorizationGrantStage(tuple), "stage")
  })

  it("moves Pending → Fulfilled → Exchanged, and Pending → Cancelled; nothing else", () => {
    const fulfilled = right(fulfillAuthorizationGrant(grant, at(1), browserSessionId))
    assert.deepStrictEqual(fulfilled.stage, new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }))
    const exchanged = right(exchangeAuthorizationGrant(fulfilled, at(2), sessionId))
    assert.deepStrictEqual(exchanged.stage, new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) }))
    const cancelled = right(cancelAuthorizationGrant(grant, at(3)))
    assert.strictEqual(cancelled.stage._tag, "Cancelled")
    assert.deepStrictEqual(exchanged.rawParameters, grant.rawParameters)

    refused(exchangeAuthorizationGrant(grant, at(2), sessionId), "AuthorizationGrant", "Pending", "exchange")
    refused(fulfillAuthorizationGrant(fulfilled, at(2), browserSessionId), "AuthorizationGrant", "Fulfilled", "fulfill")
    refused(cancelAuthorizationGrant(fulfilled, at(2)), "AuthorizationGrant", "Fulfilled", "cancel")
    for (const t of [exchanged, cancelled]) {
      refused(fulfillAuthorizationGrant(t, at(4), browserSessionId), "AuthorizationGrant", t.stage._tag, "fulfill")
      refused(exchangeAuthorizationGrant(t, at(4), sessionId), "AuthorizationGrant", t.stage._tag, "exchange")
      refused(cancelAuthorizationGrant(t, at(4)), "AuthorizationGrant", t.stage._tag, "cancel")
    }
  })

  it("encodes stages to tuples that decode back", () => {
    const stages: ReadonlyArray<AuthorizationGrantStage> = [
      new Pending(),
      new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }),
      new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) }),
      new AuthorizationGrantCancelled({ cancelledAt: at(3) })
    ]
    for (const stage of stages) {
      assert.deepStrictEqual(decodeAuthorizationGrantStage(encodeAuthorizationGrantStage(stage, browserSessionId)), Either.right(stage))
    }
  })

  it("decodes the code and PKCE columns", () => {
    const code = { authorizationCode: "c", codeChallenge: "ch", codeChallengeMethod: "S256" }
    assert.deepStrictEqual(decodeAuthorizationCode(code), Either.right(grant.code))
    assert.deepStrictEqual(encodeAuthorizationCode(grant.code), code)
    assert.deepStrictEqual(
      decodeAuthorizationCode({ authorizationCode: "c", codeChallenge: null, codeChallengeMethod: null }),
      Either.right(Option.some(new AuthorizationCode({ code: "c", pkce: Option.none() })))
    )
    assert.deepStrictEqual(
      decodeAuthorizationCode({ authorizationCode: null, codeChallenge: null, codeChallengeMethod: null }),
      Either.right(Option.none())
    )
    inconsistent(decodeAuthorizationCode({ ...code, codeChallengeMethod: "S512" }), "code_challenge_method")
    inconsistent(decodeAuthorizationCode({ ...code, codeChallengeMethod: null }), "code_challenge_method")
    inconsistent(decodeAuthorizationCode({ ...code, authorizationCode: null }), "authorization_code")
  })
})

describe("OAuth2Session and AccessToken", () => {
  const session = new OAuth2Session({
    id: newId(),
    state: new Valid(),
    createdAt: T0,
    userId: Option.none(),
    userSessionId: Option.none(),
    clientId: client.id,
    scope: emptyScope,
    userAgent: Option.none(),
    lastActiveAt: Option.none(),
    lastActiveIp: Option.none(),
    humanName: Option.none()
  })

  it("finishes a valid session only", () => {
    const finished = right(finishOAuth2Session(session, at(1)))
    assert.deepStrictEqual(finished.state, new Finished({ finishedAt: at(1) }))
    assert.isTrue(finished.isFinished && !finished.isValid)
    refused(finishOAuth2Session(finished, at(2)), "OAuth2Session", "Finished", "finish")
    assert.deepStrictEqual(decodeOAuth2SessionState({ finishedAt: null }), Either.right(new Valid()))
    assert.deepStrictEqual(decodeOAuth2SessionState(encodeOAuth2SessionState(finished.state)), Either.right(finished.state))
  })

  it("access tokens: expiry, validity, use, revocation", () => {
    const token = new AccessToken({
      id: newId(),
      state: new Valid(),
      sessionId: session.id,
      accessToken: "at",
      createdAt: T0,
      expiresAt: Option.some(at(300)),
      firstUsedAt: Option.none()
    })
    assert.isFalse(token.isExpired(at(300)))
    assert.isTrue(token.isExpired(at(301)))
    assert.isTrue(token.isValid(at(300)))
    assert.isFalse(token.isValid(at(301)))
    assert.isFalse(token.isUsed)
    assert.isTrue(markAccessTokenUsed(token, at(1)).isUsed)
    const revoked = right(revokeAccessToken(token, at(2)))
    assert.deepStrictEqual(revoked.state, new Revoked({ revokedAt: at(2) }))
    assert.isFalse(revoked.isValid(at(3)))
    refused(revokeAccessToken(revoked, at(3)), "AccessToken", "Revoked", "revoke")
    assert.deepStrictEqual(decodeAccessTokenState(encodeAccessTokenState(revoked.state)), Either.right(revoked.state))
    assert.deepStrictEqual(decodeAccessTokenState({ revokedAt: null }), Either.right(new Valid()))
  })
})

describe("RefreshToken", () => {
  const next = newId()
  const token = new RefreshToken({
    id: newId(),
    state: new Valid(),
    refreshToken: "rt",
    sessionId: newId(),
    createdAt: T0,
    accessTokenId: Option.some(newId())
  })

  it("decodes valid tuples and rejects impossible ones", () => {
    const none = { consumedAt: null, revokedAt: null, nextOAuth2RefreshTokenId: null }
    const states: ReadonlyArray<RefreshTokenState> = [
      new Valid(),
      new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.some(next) }),
      new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.none() }),
      new Revoked({ revokedAt: at(2) })
    ]
    for (const s of states) assert.deepStrictEqual(decodeRefreshTokenState(encodeRefreshTokenState(s)), Either.right(s))
    inconsistent(decodeRefreshTokenState({ ...none, nextOAuth2RefreshTokenId: next }), "state")
    inconsistent(decodeRefreshTokenState({ ...none, consumedAt: at(1), revokedAt: at(2) }), "state")
    inconsistent(decodeRefreshTokenState({ ...none, revokedAt: at(2), nextOAuth2RefreshTokenId: next }), "state")
  })

  it("consumes from Valid and Consumed (overwriting), refuses Revoked; revokes only Valid", () => {
    const consumed = right(consumeRefreshToken(token, at(1), next))
    assert.deepStrictEqual(consumed.state, new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.some(next) }))
    const other = newId()
    const again = right(consumeRefreshToken(consumed, at(2), other))
    assert.deepStrictEqual(again.state, new RefreshTokenConsumed({ consumedAt: at(2), nextRefreshTokenId: Option.some(other) }))
    const revoked = right(revokeRefreshToken(token, at(3)))
    assert.strictEqual(revoked.state._tag, "Revoked")
    refused(consumeRefreshToken(revoked, at(4), next), "RefreshToken", "Revoked", "consume")
    refused(revokeRefreshToken(consumed, at(4)), "RefreshToken", "Consumed", "revoke")
    refused(revokeRefreshToken(revoked, at(4)), "RefreshToken", "Revoked", "revoke")
  })
})

describe("DeviceCodeGrant", () => {
  const browserSessionId = newId()
  const sessionId = newId()
  const grant = new DeviceCodeGrant({
    id: newId(),
    state: new Pending(),
    clientId: client.id,
    scope: emptyScope,
    userCode: "ABCD-EFGH",
    deviceCode: "dc",
    createdAt: T0,
    expiresAt: at(600),
    ipAddress: Option.none(),
    userAgent: Option.none(),
    locale: Option.none()
  })
  const none = { fulfilledAt: null, rejectedAt: null, exchangedAt: null, userSessionId: null, oauth2SessionId: null }

  it("decodes the four states and rejects every other tuple", () => {
    const fulfilled = right(fulfillDeviceCodeGrant(grant, at(1), browserSessionId, Option.some("fr")))
    const rejected = right(rejectDeviceCodeGrant(grant, at(1), browserSessionId))
    const exchanged = right(exchangeDeviceCodeGrant(fulfilled, at(2), sessionId))
    const states: ReadonlyArray<DeviceCodeGrantState> = [grant.state, fulfilled.state, rejected.state, exchanged.state]
    for (const s of states) assert.deepStrictEqual(decodeDeviceCodeGrantState(encodeDeviceCodeGrantState(s)), Either.right(s))
    const impossible = [
      { ...none, userSessionId: browserSessionId },
      { ...none, fulfilledAt: at(1) },
      { ...none, rejectedAt: at(1) },
      { ...none, fulfilledAt: at(1), rejectedAt: at(1), userSessionId: browserSessionId },
      { ...none, fulfilledAt: at(1), exchangedAt: at(2), userSessionId: browserSessionId },
      { ...none, fulfilledAt: at(1), exchangedAt: at(2), oauth2SessionId: sessionId },
      { ...none, rejectedAt: at(1), exchangedAt: at(2), userSessionId: browserSessionId, oauth2SessionId: sessionId },
      { ...none, fulfilledAt: at(1), userSessionId: browserSessionId, oauth2SessionId: sessionId }
    ]
    for (const tuple of impossible) inconsistent(decodeDeviceCodeGrantState(tuple), "state")
  })

  it("allows Pending → Fulfilled (with locale) / Rejected and Fulfilled → Exchanged only", () => {
    const fulfilled = right(fulfillDeviceCodeGrant(grant, at(1), browserSessionId, Option.some("fr")))
    assert.deepStrictEqual(fulfilled.locale, Option.some("fr"))
    const exchanged = right(exchangeDeviceCodeGrant(fulfilled, at(2), sessionId))
    assert.strictEqual(exchanged.state._tag, "Exchanged")
    const rejected = right(rejectDeviceCodeGrant(grant, at(1), browserSessionId))
    refused(exchangeDeviceCodeGrant(grant, at(2), sessionId), "DeviceCodeGrant", "Pending", "exchange")
    refused(fulfillDeviceCodeGrant(fulfilled, at(2), browserSessionId, Option.none()), "DeviceCodeGrant", "Fulfilled", "fulfill")
    refused(rejectDeviceCodeGrant(fulfilled, at(2), browserSessionId), "DeviceCodeGrant", "Fulfilled", "reject")
    for (const g of [rejected, exchanged]) {
      refused(fulfillDeviceCodeGrant(g, at(3), browserSessionId, Option.none()), "DeviceCodeGrant", g.state._tag, "fulfill")
      refused(rejectDeviceCodeGrant(g, at(3), browserSessionId), "DeviceCodeGrant", g.state._tag, "reject")
      refused(exchangeDeviceCodeGrant(g, at(3), sessionId), "DeviceCodeGrant", g.state._tag, "exchange")
    }
  })

  it("NewDeviceCodeGrant carries the client and a Duration", () => {
    const params: NewDeviceCodeGrant = {
      client,
      scope: emptyScope,
      deviceCode: "d",
      userCode: "u",
      expiresIn: Duration.minutes(10),
      ipAddress: Option.none(),
      userAgent: Option.none()
    }
    assert.strictEqual(Duration.toMillis(params.expiresIn), 600_000)
    assert.strictEqual(NewDeviceCodeGrant.fields.client, Client)
  })
})
