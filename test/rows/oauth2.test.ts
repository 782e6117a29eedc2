// Stored OAuth2 columns with rules: client grant types and keys, grant stages and codes, token and device-grant states.
import { assert, describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import {
  AuthorizationCode,
  type AuthorizationGrantStage,
  AuthorizationGrantCancelled,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  ClientJwks,
  ClientJwksUri,
  DeviceCodeGrantExchanged,
  DeviceCodeGrantFulfilled,
  DeviceCodeGrantRejected,
  type DeviceCodeGrantState,
  Finished,
  type Jwks,
  Pending,
  Pkce,
  RefreshTokenConsumed,
  type RefreshTokenState,
  Revoked,
  type Url,
  Valid
} from "../../src/model/index.js"
import { decodeAccessTokenState, encodeAccessTokenState } from "../../src/rows/oauth2/accessToken.js"
import {
  decodeAuthorizationCode,
  decodeAuthorizationGrantStage,
  encodeAuthorizationCode,
  encodeAuthorizationGrantStage,
  isLegacyCancelledGrant
} from "../../src/rows/oauth2/authorizationGrant.js"
import {
  decodeClientJwks,
  encodeClientJwks,
  grantTypesFromColumns,
  grantTypesToColumns
} from "../../src/rows/oauth2/client.js"
import { decodeDeviceCodeGrantState, encodeDeviceCodeGrantState } from "../../src/rows/oauth2/deviceCodeGrant.js"
import { decodeRefreshTokenState, encodeRefreshTokenState } from "../../src/rows/oauth2/refreshToken.js"
import { decodeOAuth2SessionState, encodeOAuth2SessionState } from "../../src/rows/oauth2/session.js"
import { at, newId } from "../model/fixtures.js"
import { inconsistent } from "./fixtures.js"

describe("oauth2_clients columns", () => {
  it("reads grant types back from the boolean columns in GrantType order", () => {
    expect(
      grantTypesFromColumns({
        grantTypeAuthorizationCode: false,
        grantTypeRefreshToken: true,
        grantTypeClientCredentials: false,
        grantTypeDeviceCode: true
      })
    ).toEqual(["refresh_token", "urn:ietf:params:oauth:grant-type:device_code"])
    expect(grantTypesFromColumns(grantTypesToColumns(["client_credentials", "authorization_code"]))).toEqual([
      "authorization_code",
      "client_credentials"
    ])
  })

  it("decodes jwks / jwks_uri: at most one", () => {
    const jwks = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] }
    expect(decodeClientJwks({ jwks, jwksUri: null })).toEqual(
      Either.right(Option.some(new ClientJwks({ jwks: jwks as unknown as Jwks })))
    )
    expect(decodeClientJwks({ jwks: null, jwksUri: "https://example.com/jwks" })).toEqual(
      Either.right(Option.some(new ClientJwksUri({ uri: "https://example.com/jwks" as Url })))
    )
    expect(decodeClientJwks({ jwks: null, jwksUri: null })).toEqual(Either.right(Option.none()))
    inconsistent(decodeClientJwks({ jwks, jwksUri: "https://example.com/jwks" }), "jwks_uri")
    inconsistent(decodeClientJwks({ jwks: { keys: [{ kty: "oct", k: "secret" }] }, jwksUri: null }), "jwks")
    inconsistent(decodeClientJwks({ jwks: null, jwksUri: "relative/path" }), "jwks_uri")
    const some = Either.getOrThrow(decodeClientJwks({ jwks, jwksUri: null }))
    expect(encodeClientJwks(some)).toEqual({ jwks, jwksUri: null })
  })
})

describe("oauth2_authorization_grants stage and code", () => {
  const browserSessionId = newId()
  const sessionId = newId()
  const grantCode = Option.some(
    new AuthorizationCode({ code: "c", pkce: Option.some(new Pkce({ challengeMethod: "S256", challenge: "ch" })) })
  )

  const none = { fulfilledAt: null, exchangedAt: null, cancelledAt: null, userSessionId: null, oauth2SessionId: null }

  it("decodes every valid stage tuple", () => {
    expect(decodeAuthorizationGrantStage(none)).toEqual(Either.right(new Pending()))
    expect(decodeAuthorizationGrantStage({ ...none, fulfilledAt: at(1), userSessionId: browserSessionId })).toEqual(
      Either.right(new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }))
    )
    const exchanged = new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) })
    expect(
      decodeAuthorizationGrantStage({
        ...none,
        fulfilledAt: at(1),
        exchangedAt: at(2),
        userSessionId: browserSessionId,
        oauth2SessionId: sessionId
      })
    ).toEqual(Either.right(exchanged))
    expect(
      decodeAuthorizationGrantStage({ ...none, fulfilledAt: at(1), exchangedAt: at(2), oauth2SessionId: sessionId })
    ).toEqual(Either.right(exchanged))
    expect(decodeAuthorizationGrantStage({ ...none, cancelledAt: at(3) })).toEqual(
      Either.right(new AuthorizationGrantCancelled({ cancelledAt: at(3) }))
    )
  })

  it("reads the legacy tuple as Cancelled at the fulfilment time", () => {
    const legacy = { ...none, fulfilledAt: at(1), oauth2SessionId: sessionId }
    assert.isTrue(isLegacyCancelledGrant(legacy))
    assert.isFalse(isLegacyCancelledGrant({ ...legacy, userSessionId: browserSessionId }))
    expect(decodeAuthorizationGrantStage(legacy)).toEqual(
      Either.right(new AuthorizationGrantCancelled({ cancelledAt: at(1) }))
    )
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

  it("encodes stages to tuples that decode back", () => {
    const stages: ReadonlyArray<AuthorizationGrantStage> = [
      new Pending(),
      new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }),
      new AuthorizationGrantExchanged({ sessionId, fulfilledAt: at(1), exchangedAt: at(2) }),
      new AuthorizationGrantCancelled({ cancelledAt: at(3) })
    ]
    for (const stage of stages) {
      expect(decodeAuthorizationGrantStage(encodeAuthorizationGrantStage(stage, browserSessionId))).toEqual(
        Either.right(stage)
      )
    }
  })

  it("decodes the code and PKCE columns", () => {
    const code = { authorizationCode: "c", codeChallenge: "ch", codeChallengeMethod: "S256" }
    expect(decodeAuthorizationCode(code)).toEqual(Either.right(grantCode))
    expect(encodeAuthorizationCode(grantCode)).toEqual(code)
    expect(decodeAuthorizationCode({ authorizationCode: "c", codeChallenge: null, codeChallengeMethod: null })).toEqual(
      Either.right(Option.some(new AuthorizationCode({ code: "c", pkce: Option.none() })))
    )
    expect(
      decodeAuthorizationCode({ authorizationCode: null, codeChallenge: null, codeChallengeMethod: null })
    ).toEqual(Either.right(Option.none()))
    inconsistent(decodeAuthorizationCode({ ...code, codeChallengeMethod: "S512" }), "code_challenge_method")
    inconsistent(decodeAuthorizationCode({ ...code, codeChallengeMethod: null }), "code_challenge_method")
    inconsistent(decodeAuthorizationCode({ ...code, authorizationCode: null }), "authorization_code")
  })
})

describe("oauth2_sessions and oauth2_access_tokens state", () => {
  it("every finished_at decodes", () => {
    const finished = new Finished({ finishedAt: at(1) })
    expect(decodeOAuth2SessionState({ finishedAt: null })).toEqual(Either.right(new Valid()))
    expect(decodeOAuth2SessionState(encodeOAuth2SessionState(finished))).toEqual(Either.right(finished))
  })

  it("every revoked_at decodes", () => {
    const revoked = new Revoked({ revokedAt: at(2) })
    expect(decodeAccessTokenState(encodeAccessTokenState(revoked))).toEqual(Either.right(revoked))
    expect(decodeAccessTokenState({ revokedAt: null })).toEqual(Either.right(new Valid()))
  })
})

describe("oauth2_refresh_tokens state", () => {
  const next = newId()

  it("decodes valid tuples and rejects impossible ones", () => {
    const none = { consumedAt: null, revokedAt: null, nextOAuth2RefreshTokenId: null }
    const states: ReadonlyArray<RefreshTokenState> = [
      new Valid(),
      new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.some(next) }),
      new RefreshTokenConsumed({ consumedAt: at(1), nextRefreshTokenId: Option.none() }),
      new Revoked({ revokedAt: at(2) })
    ]
    for (const s of states) expect(decodeRefreshTokenState(encodeRefreshTokenState(s))).toEqual(Either.right(s))
    inconsistent(decodeRefreshTokenState({ ...none, nextOAuth2RefreshTokenId: next }), "next_oauth2_refresh_token_id")
    inconsistent(
      decodeRefreshTokenState({ ...none, consumedAt: at(1), revokedAt: at(2) }),
      "next_oauth2_refresh_token_id"
    )
    inconsistent(
      decodeRefreshTokenState({ ...none, revokedAt: at(2), nextOAuth2RefreshTokenId: next }),
      "next_oauth2_refresh_token_id"
    )
  })
})

describe("oauth2_device_code_grant state", () => {
  const browserSessionId = newId()
  const sessionId = newId()
  const none = { fulfilledAt: null, rejectedAt: null, exchangedAt: null, userSessionId: null, oauth2SessionId: null }

  it("decodes the four states and rejects every other tuple", () => {
    const states: ReadonlyArray<DeviceCodeGrantState> = [
      new Pending(),
      new DeviceCodeGrantFulfilled({ browserSessionId, fulfilledAt: at(1) }),
      new DeviceCodeGrantRejected({ browserSessionId, rejectedAt: at(1) }),
      new DeviceCodeGrantExchanged({ browserSessionId, fulfilledAt: at(1), exchangedAt: at(2), sessionId })
    ]
    for (const s of states) expect(decodeDeviceCodeGrantState(encodeDeviceCodeGrantState(s))).toEqual(Either.right(s))
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
})
