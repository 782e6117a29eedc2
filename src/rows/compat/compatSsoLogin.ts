// Stored state of `compat_sso_logins`: the login state from its four state columns, and back.
import { Either } from "effect"
import { Pending } from "../../model/common.js"
import { CompatSsoLoginExchanged, CompatSsoLoginFulfilled, type CompatSsoLoginState } from "../../model/compat.js"
import type { Ulid } from "../../model/Ulid.js"
import { describeTuple, stateDecodeFailure, type StateDecodeResult } from "../state.js"

export interface CompatSsoLoginStateColumns {
  readonly fulfilledAt: Date | null
  readonly exchangedAt: Date | null
  readonly userSessionId: Ulid | null
  readonly compatSessionId: Ulid | null
}

export const decodeCompatSsoLoginState = (c: CompatSsoLoginStateColumns): StateDecodeResult<CompatSsoLoginState> => {
  const { compatSessionId, exchangedAt, fulfilledAt, userSessionId } = c
  if (fulfilledAt === null && exchangedAt === null && userSessionId === null && compatSessionId === null) {
    return Either.right(new Pending())
  }
  if (fulfilledAt !== null && exchangedAt === null && userSessionId !== null && compatSessionId === null) {
    return Either.right(new CompatSsoLoginFulfilled({ fulfilledAt, browserSessionId: userSessionId }))
  }
  // The fulfilling browser session normally stays recorded on an exchanged login; the state does not carry it.
  if (fulfilledAt !== null && exchangedAt !== null && compatSessionId !== null) {
    return Either.right(new CompatSsoLoginExchanged({ fulfilledAt, exchangedAt, compatSessionId }))
  }
  return Either.left(stateDecodeFailure("state", `impossible compat SSO login state (${describeTuple(c)})`))
}

/** The state columns; an exchanged login keeps the browser session of the stored row (passed in). */
export const encodeCompatSsoLoginState = (
  state: CompatSsoLoginState,
  browserSessionId: Ulid | null = null
): CompatSsoLoginStateColumns => {
  switch (state._tag) {
    case "Pending":
      return { fulfilledAt: null, exchangedAt: null, userSessionId: null, compatSessionId: null }
    case "Fulfilled":
      return {
        fulfilledAt: state.fulfilledAt,
        exchangedAt: null,
        userSessionId: state.browserSessionId,
        compatSessionId: null
      }
    case "Exchanged":
      return {
        fulfilledAt: state.fulfilledAt,
        exchangedAt: state.exchangedAt,
        userSessionId: browserSessionId,
        compatSessionId: state.compatSessionId
      }
  }
}
