// Stored rows of `oauth2_device_code_grant` for both backends: the state decoder, the row Schema, row ⇄ entity.
import { Either, Option, Schema } from "effect"
import { Pending } from "../../model/common.js"
import {
  DeviceCodeGrant,
  DeviceCodeGrantExchanged,
  DeviceCodeGrantFulfilled,
  DeviceCodeGrantRejected,
  type DeviceCodeGrantState,
  type NewDeviceCodeGrant
} from "../../model/oauth2/deviceCodeGrant.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import { ScopeListColumn, scopeOfList, storedEntity } from "../common.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

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

// ---------------------------------------------------------------------------------------------------------------
// The row, shared by both backends

const storedDeviceCodeGrant = storedEntity(DeviceCodeGrant)

const NullableString = Schema.NullOr(Schema.String)
const NullableDate = Schema.NullOr(Schema.ValidDateFromSelf)
const NullableUlid = Schema.NullOr(UlidFromUuid)

export const DEVICE_CODE_GRANTS = "oauth2_device_code_grant"

const stateColumns = (row: {
  readonly fulfilled_at: Date | null
  readonly rejected_at: Date | null
  readonly exchanged_at: Date | null
  readonly user_session_id: Ulid | null
  readonly oauth2_session_id: Ulid | null
}): DeviceCodeGrantStateColumns => ({
  fulfilledAt: row.fulfilled_at,
  rejectedAt: row.rejected_at,
  exchangedAt: row.exchanged_at,
  userSessionId: row.user_session_id,
  oauth2SessionId: row.oauth2_session_id
})

/**
 * `oauth2_device_code_grant`: an impossible state tuple is refused naming `state`; memory decodes its rows with this
 * schema's type side, so both backends refuse the same rows.
 */
export const DeviceCodeGrantRow = Schema.Struct({
  oauth2_device_code_grant_id: UlidFromUuid,
  oauth2_client_id: UlidFromUuid,
  scope_list: ScopeListColumn,
  device_code: Schema.String,
  user_code: Schema.String,
  created_at: Schema.ValidDateFromSelf,
  expires_at: Schema.ValidDateFromSelf,
  fulfilled_at: NullableDate,
  rejected_at: NullableDate,
  exchanged_at: NullableDate,
  user_session_id: NullableUlid,
  oauth2_session_id: NullableUlid,
  // inet may also hold a network ("10.0.0.0/8"); only a canonical host address is a valid IpAddress.
  ip_address: Schema.NullOr(IpAddressFromSelf),
  user_agent: NullableString,
  locale: NullableString
}).pipe(Schema.filter((row) => refusedState(decodeDeviceCodeGrantState(stateColumns(row)))))
export type DeviceCodeGrantRow = typeof DeviceCodeGrantRow.Type

/** Only for rows the row schema accepted, whose state decodes. */
const stateOf = (row: DeviceCodeGrantRow): DeviceCodeGrantState =>
  Either.getOrElse(decodeDeviceCodeGrantState(stateColumns(row)), (failure) => {
    throw new Error(`a row the row schema refuses: ${failure.reason}`)
  })

export const deviceCodeGrantFromRow = (row: DeviceCodeGrantRow): DeviceCodeGrant =>
  storedDeviceCodeGrant({
    id: row.oauth2_device_code_grant_id,
    state: stateOf(row),
    clientId: row.oauth2_client_id,
    scope: scopeOfList(row.scope_list),
    userCode: row.user_code,
    deviceCode: row.device_code,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ipAddress: Option.fromNullable(row.ip_address),
    userAgent: Option.fromNullable(row.user_agent),
    locale: Option.fromNullable(row.locale)
  })

/** The row of a new, pending grant (both backends build the entity they return from it). */
export const newDeviceCodeGrantRow = (
  params: NewDeviceCodeGrant,
  id: Ulid,
  createdAt: Date,
  expiresAt: Date
): DeviceCodeGrantRow => {
  const state = encodeDeviceCodeGrantState(new Pending())
  return {
    oauth2_device_code_grant_id: id,
    oauth2_client_id: params.client.id,
    scope_list: [...params.scope],
    device_code: params.deviceCode,
    user_code: params.userCode,
    created_at: createdAt,
    expires_at: expiresAt,
    fulfilled_at: state.fulfilledAt,
    rejected_at: state.rejectedAt,
    exchanged_at: state.exchangedAt,
    user_session_id: state.userSessionId,
    oauth2_session_id: state.oauth2SessionId,
    ip_address: Option.getOrNull(params.ipAddress),
    user_agent: Option.getOrNull(params.userAgent),
    locale: null
  }
}
