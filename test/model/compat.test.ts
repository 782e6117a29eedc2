// Compat-group entities: session, SSO login and token state machines.
import { assert, describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import {
  CompatAccessToken,
  CompatRefreshToken,
  CompatRefreshTokenConsumed,
  CompatSession,
  CompatSsoLogin,
  CompatSsoLoginExchanged,
  consumeCompatRefreshToken,
  Device,
  exchangeCompatSsoLogin,
  expireCompatAccessToken,
  Finished,
  finishCompatSession,
  fulfillCompatSsoLogin,
  Pending,
  type Url,
  Valid
} from "../../src/model/index.js"
import { at, newId, refused, right, T0 } from "./fixtures.js"

describe("CompatSession", () => {
  const session = new CompatSession({
    id: newId(),
    state: new Valid(),
    userId: newId(),
    device: Option.some(new Device({ id: "device with space" })),
    humanName: Option.none(),
    userSessionId: Option.none(),
    createdAt: T0,
    isSynapseAdmin: false,
    userAgent: Option.none(),
    lastActiveAt: Option.none(),
    lastActiveIp: Option.none()
  })

  it("finishes a valid session only", () => {
    const finished = right(finishCompatSession(session, at(1)))
    expect(finished.state).toEqual(new Finished({ finishedAt: at(1) }))
    assert.isTrue(finished.isFinished)
    refused(finishCompatSession(finished, at(2)), "CompatSession", "Finished", "finish")
  })
})

describe("CompatSsoLogin", () => {
  const browserSessionId = newId()
  const compatSessionId = newId()
  const login = new CompatSsoLogin({
    id: newId(),
    redirectUri: "https://client.example.com/sso" as Url,
    loginToken: "lt",
    createdAt: T0,
    state: new Pending()
  })
  it("only Pending → Fulfilled → Exchanged", () => {
    const fulfilled = right(fulfillCompatSsoLogin(login, at(1), browserSessionId))
    const exchanged = right(exchangeCompatSsoLogin(fulfilled, at(2), compatSessionId))
    expect(exchanged.state).toEqual(
      new CompatSsoLoginExchanged({ fulfilledAt: at(1), exchangedAt: at(2), compatSessionId })
    )
    refused(exchangeCompatSsoLogin(login, at(2), compatSessionId), "CompatSsoLogin", "Pending", "exchange")
    refused(fulfillCompatSsoLogin(fulfilled, at(2), browserSessionId), "CompatSsoLogin", "Fulfilled", "fulfill")
    refused(fulfillCompatSsoLogin(exchanged, at(3), browserSessionId), "CompatSsoLogin", "Exchanged", "fulfill")
    refused(exchangeCompatSsoLogin(exchanged, at(3), compatSessionId), "CompatSsoLogin", "Exchanged", "exchange")
  })
})

describe("Compat tokens", () => {
  it("access tokens are valid until expiresAt; expire makes them invalid at once", () => {
    const token = new CompatAccessToken({
      id: newId(),
      sessionId: newId(),
      token: "t",
      createdAt: T0,
      expiresAt: Option.none()
    })
    assert.isTrue(token.isValid(at(1_000_000)))
    const expired = right(expireCompatAccessToken(token, at(5)))
    assert.isFalse(expired.isValid(at(5)))
    assert.isTrue(expired.isValid(at(4)))
  })

  it("refresh tokens: Valid → Consumed only", () => {
    const token = new CompatRefreshToken({
      id: newId(),
      state: new Valid(),
      sessionId: newId(),
      accessTokenId: newId(),
      token: "r",
      createdAt: T0
    })
    const consumed = right(consumeCompatRefreshToken(token, at(1)))
    expect(consumed.state).toEqual(new CompatRefreshTokenConsumed({ consumedAt: at(1) }))
    assert.isFalse(consumed.isValid)
    refused(consumeCompatRefreshToken(consumed, at(2)), "CompatRefreshToken", "Consumed", "consume")
  })
})
