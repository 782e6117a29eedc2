// Stored state of `oauth2_device_code_grant`: the grant state from its five state columns, and back.
import { Either } from "effect"
import { Pending } from "../../model/common.js"
import {
  DeviceCodeGrantExchanged,
  DeviceCodeGrantFulfilled,
  DeviceCodeGrantRejected,
  type DeviceCodeGrantState
} from "../../model/oauth2/deviceCodeGrant.js"
import type { Ulid } from "../../model/Ulid.js"
import { describeTuple, stateDecodeFailure, type StateDecodeResult } from "../state.js"

export interface DeviceCodeGrantStateColumns {
  readonly fulfilledAt: Date | null
  readonly rejectedAt: Date | null
  readonly exchangedAt: Date | null
  readonly userSessionId: Ulid | null
  readonly oauth2SessionId: Ulid | null
}

export const decodeDeviceCodeGrantState = (c: DeviceCodeGrantStateColumns): StateDecodeResult<DeviceCodeGrantState> => {
  const { exchangedAt, fulfilledAt, oauth2SessionId, rejectedAt, userSessionId } = c
  if (
    fulfilledAt === null &&
    rejectedAt === null &&
    exchangedAt === null &&
    userSessionId === null &&
    oauth2SessionId === null
  ) {
    return Either.right(new Pending())
  }
  if (
    fulfilledAt !== null &&
    rejectedAt === null &&
    exchangedAt === null &&
    userSessionId !== null &&
    oauth2SessionId === null
  ) {
    return Either.right(new DeviceCodeGrantFulfilled({ browserSessionId: userSessionId, fulfilledAt }))
  }
  if (
    fulfilledAt === null &&
    rejectedAt !== null &&
    exchangedAt === null &&
    userSessionId !== null &&
    oauth2SessionId === null
  ) {
    return Either.right(new DeviceCodeGrantRejected({ browserSessionId: userSessionId, rejectedAt }))
  }
  if (
    fulfilledAt !== null &&
    rejectedAt === null &&
    exchangedAt !== null &&
    userSessionId !== null &&
    oauth2SessionId !== null
  ) {
    return Either.right(
      new DeviceCodeGrantExchanged({
        browserSessionId: userSessionId,
        fulfilledAt,
        exchangedAt,
        sessionId: oauth2SessionId
      })
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
