// Stored compat state tuples: session, SSO login and refresh-token states from their columns and back.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import {
  CompatRefreshTokenConsumed,
  CompatSsoLoginExchanged,
  CompatSsoLoginFulfilled,
  Finished,
  Pending,
  Valid
} from "../../src/model/index.js"
import {
  decodeCompatRefreshTokenState,
  encodeCompatRefreshTokenState
} from "../../src/rows/compat/compatRefreshToken.js"
import { decodeCompatSessionState, encodeCompatSessionState } from "../../src/rows/compat/compatSession.js"
import { decodeCompatSsoLoginState, encodeCompatSsoLoginState } from "../../src/rows/compat/compatSsoLogin.js"
import { at, newId } from "../model/fixtures.js"
import { inconsistent } from "./fixtures.js"

describe("compat_sessions state", () => {
  it("every finished_at decodes", () => {
    const finished = new Finished({ finishedAt: at(1) })
    expect(decodeCompatSessionState({ finishedAt: null })).toEqual(Either.right(new Valid()))
    expect(decodeCompatSessionState(encodeCompatSessionState(finished))).toEqual(Either.right(finished))
  })
})

describe("compat_sso_logins state", () => {
  const browserSessionId = newId()
  const compatSessionId = newId()
  const none = { fulfilledAt: null, exchangedAt: null, userSessionId: null, compatSessionId: null }

  it("decodes Pending, Fulfilled and Exchanged", () => {
    expect(decodeCompatSsoLoginState(none)).toEqual(Either.right(new Pending()))
    const fulfilled = new CompatSsoLoginFulfilled({ fulfilledAt: at(1), browserSessionId })
    expect(decodeCompatSsoLoginState({ ...none, fulfilledAt: at(1), userSessionId: browserSessionId })).toEqual(
      Either.right(fulfilled)
    )
    const exchanged = new CompatSsoLoginExchanged({ fulfilledAt: at(1), exchangedAt: at(2), compatSessionId })
    expect(
      decodeCompatSsoLoginState({
        fulfilledAt: at(1),
        exchangedAt: at(2),
        userSessionId: browserSessionId,
        compatSessionId
      })
    ).toEqual(Either.right(exchanged))
    for (const s of [new Pending(), fulfilled]) {
      expect(decodeCompatSsoLoginState(encodeCompatSsoLoginState(s))).toEqual(Either.right(s))
    }
    expect(encodeCompatSsoLoginState(exchanged, browserSessionId)).toEqual({
      fulfilledAt: at(1),
      exchangedAt: at(2),
      userSessionId: browserSessionId,
      compatSessionId
    })
  })

  it("rejects impossible tuples", () => {
    const impossible = [
      { ...none, fulfilledAt: at(1) },
      { ...none, userSessionId: browserSessionId },
      { ...none, exchangedAt: at(2), compatSessionId },
      { ...none, fulfilledAt: at(1), userSessionId: browserSessionId, compatSessionId },
      { ...none, fulfilledAt: at(1), exchangedAt: at(2), userSessionId: browserSessionId }
    ]
    for (const tuple of impossible) inconsistent(decodeCompatSsoLoginState(tuple), "state")
  })
})

describe("compat_refresh_tokens state", () => {
  it("every consumed_at decodes", () => {
    const consumed = new CompatRefreshTokenConsumed({ consumedAt: at(1) })
    expect(decodeCompatRefreshTokenState(encodeCompatRefreshTokenState(consumed))).toEqual(Either.right(consumed))
    expect(decodeCompatRefreshTokenState({ consumedAt: null })).toEqual(Either.right(new Valid()))
  })
})
