// OAuth2 device-code grants: pending until a browser session fulfils or rejects them, then exchanged for a session.
import { Either, Option, Schema } from "effect"
import { copy, OptionalString, Pending, Timestamp } from "../common.js"
import { invalidTransition } from "../errors.js"
import { Ulid } from "../Ulid.js"
import { ScopeFromSelf } from "../values.js"
import { Client } from "./client.js"
import { OptionalIp, type Transition } from "./shared.js"

export class DeviceCodeGrantFulfilled extends Schema.TaggedClass<DeviceCodeGrantFulfilled>("DeviceCodeGrantFulfilled")(
  "Fulfilled",
  {
    browserSessionId: Ulid,
    fulfilledAt: Timestamp
  }
) {}

export class DeviceCodeGrantRejected extends Schema.TaggedClass<DeviceCodeGrantRejected>("DeviceCodeGrantRejected")(
  "Rejected",
  {
    browserSessionId: Ulid,
    rejectedAt: Timestamp
  }
) {}

export class DeviceCodeGrantExchanged extends Schema.TaggedClass<DeviceCodeGrantExchanged>("DeviceCodeGrantExchanged")(
  "Exchanged",
  {
    browserSessionId: Ulid,
    fulfilledAt: Timestamp,
    exchangedAt: Timestamp,
    sessionId: Ulid
  }
) {}

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

/** Pending → Fulfilled, recording the locale. */
export const fulfillDeviceCodeGrant = (
  grant: DeviceCodeGrant,
  now: Date,
  browserSessionId: Ulid,
  locale: Option.Option<string>
): Transition<DeviceCodeGrant> =>
  grant.state._tag === "Pending"
    ? Either.right(
        copy(DeviceCodeGrant, grant, {
          state: new DeviceCodeGrantFulfilled({ browserSessionId, fulfilledAt: now }),
          locale
        })
      )
    : invalidTransition("DeviceCodeGrant", grant.state._tag, "fulfill")

/** Pending → Rejected. */
export const rejectDeviceCodeGrant = (
  grant: DeviceCodeGrant,
  now: Date,
  browserSessionId: Ulid
): Transition<DeviceCodeGrant> =>
  grant.state._tag === "Pending"
    ? Either.right(
        copy(DeviceCodeGrant, grant, { state: new DeviceCodeGrantRejected({ browserSessionId, rejectedAt: now }) })
      )
    : invalidTransition("DeviceCodeGrant", grant.state._tag, "reject")

/** Fulfilled → Exchanged. */
export const exchangeDeviceCodeGrant = (
  grant: DeviceCodeGrant,
  now: Date,
  sessionId: Ulid
): Transition<DeviceCodeGrant> =>
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
