// OAuth2-group entities: clients, grant and token state machines.
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, Option } from "effect"
import {
  AccessToken,
  AuthorizationCode,
  AuthorizationGrant,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  cancelAuthorizationGrant,
  Client,
  consumeRefreshToken,
  DeviceCodeGrant,
  emptyScope,
  exchangeAuthorizationGrant,
  exchangeDeviceCodeGrant,
  Finished,
  finishOAuth2Session,
  fulfillAuthorizationGrant,
  fulfillDeviceCodeGrant,
  makeScope,
  markAccessTokenUsed,
  NewDeviceCodeGrant,
  OAuth2Session,
  Pending,
  Pkce,
  RefreshToken,
  RefreshTokenConsumed,
  rejectDeviceCodeGrant,
  revokeAccessToken,
  revokeRefreshToken,
  Revoked,
  type ScopeToken,
  type Url,
  Valid
} from "../../src/model/index.js"
import { at, newId, refused, right, T0 } from "./fixtures.js"

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
})

describe("AuthorizationGrant", () => {
  const browserSessionId = newId()
  const sessionId = newId()
  const grant = new AuthorizationGrant({
    id: newId(),
    stage: new Pending(),
    clientId: client.id,
    createdAt: T0,
    code: Option.some(
      new AuthorizationCode({ code: "c", pkce: Option.some(new Pkce({ challengeMethod: "S256", challenge: "ch" })) })
    ),
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

  it("moves Pending → Fulfilled → Exchanged, and Pending → Cancelled; nothing else", () => {
    const fulfilled = right(fulfillAuthorizationGrant(grant, at(1), browserSessionId))
    expect(fulfilled.stage).toEqual(new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }))
    const exchanged = right(exchangeAuthorizationGrant(fulfilled, at(2), sessionId))
    expect(exchanged.stage).toEqual(
      new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) })
    )
    const cancelled = right(cancelAuthorizationGrant(grant, at(3)))
    assert.strictEqual(cancelled.stage._tag, "Cancelled")
    expect(exchanged.rawParameters).toEqual(grant.rawParameters)

    refused(exchangeAuthorizationGrant(grant, at(2), sessionId), "AuthorizationGrant", "Pending", "exchange")
    refused(fulfillAuthorizationGrant(fulfilled, at(2), browserSessionId), "AuthorizationGrant", "Fulfilled", "fulfill")
    refused(cancelAuthorizationGrant(fulfilled, at(2)), "AuthorizationGrant", "Fulfilled", "cancel")
    for (const t of [exchanged, cancelled]) {
      refused(fulfillAuthorizationGrant(t, at(4), browserSessionId), "AuthorizationGrant", t.stage._tag, "fulfill")
      refused(exchangeAuthorizationGrant(t, at(4), sessionId), "AuthorizationGrant", t.stage._tag, "exchange")
      refused(cancelAuthorizationGrant(t, at(4)), "AuthorizationGrant", t.stage._tag, "cancel")
    }
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
    expect(finished.state).toEqual(new Finished({ finishedAt: at(1) }))
    assert.isTrue(finished.isFinished && !finished.isValid)
    refused(finishOAuth2Session(finished, at(2)), "OAuth2Session", "Finished", "finish")
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
    expect(revoked.state).toEqual(new Revoked({ revokedAt: at(2) }))
    assert.isFalse(revoked.isValid(at(3)))
    refused(revokeAccessToken(revoked, at(3)), "AccessToken", "Revoked", "revoke")
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

  it("consumes from Valid and Consumed (overwriting), refuses Revoked; revokes only Valid", () => {
    const consumed = right(consumeRefreshToken(token, at(1), next))
    expect(consumed.state).toEqual(
      new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.some(next) })
    )
    const other = newId()
    const again = right(consumeRefreshToken(consumed, at(2), other))
    expect(again.state).toEqual(new RefreshTokenConsumed({ consumedAt: at(2), nextRefreshTokenId: Option.some(other) }))
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

  it("allows Pending → Fulfilled (with locale) / Rejected and Fulfilled → Exchanged only", () => {
    const fulfilled = right(fulfillDeviceCodeGrant(grant, at(1), browserSessionId, Option.some("fr")))
    expect(fulfilled.locale).toEqual(Option.some("fr"))
    const exchanged = right(exchangeDeviceCodeGrant(fulfilled, at(2), sessionId))
    assert.strictEqual(exchanged.state._tag, "Exchanged")
    const rejected = right(rejectDeviceCodeGrant(grant, at(1), browserSessionId))
    refused(exchangeDeviceCodeGrant(grant, at(2), sessionId), "DeviceCodeGrant", "Pending", "exchange")
    refused(
      fulfillDeviceCodeGrant(fulfilled, at(2), browserSessionId, Option.none()),
      "DeviceCodeGrant",
      "Fulfilled",
      "fulfill"
    )
    refused(rejectDeviceCodeGrant(fulfilled, at(2), browserSessionId), "DeviceCodeGrant", "Fulfilled", "reject")
    for (const g of [rejected, exchanged]) {
      refused(
        fulfillDeviceCodeGrant(g, at(3), browserSessionId, Option.none()),
        "DeviceCodeGrant",
        g.state._tag,
        "fulfill"
      )
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
