// Stored rows of `compat_sessions`, shared by both backends: the row Schema, the state from `finished_at`, and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { CompatSession, type CompatSsoLogin } from "../../model/compat.js"
import type { BrowserSession, User } from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { Device, IpAddressFromSelf } from "../../model/values.js"
import { InconsistencyError } from "../../storage/common/errors.js"
import { storedEntity } from "../common.js"
import { COMPAT_SSO_LOGINS, compatSsoLoginFromRow, type CompatSsoLoginRow } from "./compatSsoLogin.js"
import { decodeSessionState, encodeSessionState } from "../state.js"

export const decodeCompatSessionState = decodeSessionState
export const encodeCompatSessionState = encodeSessionState

export const COMPAT_SESSIONS = "compat_sessions"

const storedCompatSession = storedEntity(CompatSession)

const NullableDate = Schema.NullOr(Timestamp)
const NullableString = Schema.NullOr(Schema.String)

/**
 * `compat_sessions`. Every `finished_at` is a state (valid or finished), so no tuple is refused; a stored network (or
 * any non-canonical address) is an inconsistency on `last_active_ip`. Any text is a device id.
 */
export const CompatSessionRow = Schema.Struct({
  compat_session_id: UlidFromUuid,
  user_id: UlidFromUuid,
  device_id: NullableString,
  human_name: NullableString,
  user_session_id: Schema.NullOr(UlidFromUuid),
  created_at: Timestamp,
  finished_at: NullableDate,
  is_synapse_admin: Schema.Boolean,
  user_agent: NullableString,
  last_active_at: NullableDate,
  last_active_ip: Schema.NullOr(IpAddressFromSelf)
})
export type CompatSessionRow = typeof CompatSessionRow.Type

/** The selected columns, qualified, in the row's order (the pg selects and the nested filters use them). */
export const compatSessionColumns: ReadonlyArray<string> = Object.keys(CompatSessionRow.fields).map(
  (column) => `${COMPAT_SESSIONS}.${column}`
)

export const compatSessionFromRow = (row: CompatSessionRow): CompatSession =>
  storedCompatSession({
    id: row.compat_session_id,
    // every finished_at is a state: the decode cannot refuse
    state: Either.getOrThrow(decodeCompatSessionState({ finishedAt: row.finished_at })),
    userId: row.user_id,
    device: Option.map(Option.fromNullable(row.device_id), (id) => new Device({ id })),
    humanName: Option.fromNullable(row.human_name),
    userSessionId: Option.fromNullable(row.user_session_id),
    createdAt: row.created_at,
    isSynapseAdmin: row.is_synapse_admin,
    userAgent: Option.fromNullable(row.user_agent),
    lastActiveAt: Option.fromNullable(row.last_active_at),
    lastActiveIp: Option.fromNullable(row.last_active_ip)
  })

export const compatSessionToRow = (session: CompatSession): CompatSessionRow => ({
  compat_session_id: session.id,
  user_id: session.userId,
  device_id: Option.getOrNull(Option.map(session.device, (d) => d.id)),
  human_name: Option.getOrNull(session.humanName),
  user_session_id: Option.getOrNull(session.userSessionId),
  created_at: session.createdAt,
  finished_at: encodeCompatSessionState(session.state).finishedAt,
  is_synapse_admin: session.isSynapseAdmin,
  user_agent: Option.getOrNull(session.userAgent),
  last_active_at: Option.getOrNull(session.lastActiveAt),
  last_active_ip: Option.getOrNull(session.lastActiveIp)
})

/** The row of a new, valid session (both backends insert it and build the entity they return from it). */
export const newCompatSessionRow = (
  user: User,
  device: Device,
  browserSession: Option.Option<BrowserSession>,
  isSynapseAdmin: boolean,
  humanName: Option.Option<string>,
  id: Ulid,
  createdAt: Date
): CompatSessionRow => ({
  compat_session_id: id,
  user_id: user.id,
  device_id: device.id,
  human_name: Option.getOrNull(humanName),
  user_session_id: Option.getOrNull(Option.map(browserSession, (s) => s.id)),
  created_at: createdAt,
  finished_at: null,
  is_synapse_admin: isSynapseAdmin,
  user_agent: null,
  last_active_at: null,
  last_active_ip: null
})

/**
 * A listed session and the SSO login paired with it (already decoded as a `compat_sso_logins` row): the login must
 * be exchanged into this very session, else the pair is an inconsistency on `compat_sso_logins` naming the login.
 */
export const compatSessionWithLogin = (
  session: CompatSessionRow,
  login: Option.Option<CompatSsoLoginRow>
): Either.Either<readonly [CompatSession, Option.Option<CompatSsoLogin>], InconsistencyError> => {
  const entity = compatSessionFromRow(session)
  if (Option.isNone(login)) return Either.right([entity, Option.none()] as const)
  const row = login.value
  if (row.compat_session_id !== session.compat_session_id || row.exchanged_at === null) {
    return Either.left(
      new InconsistencyError({
        table: COMPAT_SSO_LOGINS,
        column: Option.some("compat_session_id"),
        row: Option.some(row.compat_sso_login_id),
        cause: Option.some(`listed with compat session ${session.compat_session_id} but not exchanged into it`)
      })
    )
  }
  return Either.right([entity, Option.some(compatSsoLoginFromRow(row))] as const)
}
