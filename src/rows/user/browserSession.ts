// Stored rows of browser sessions and their authentications, shared by both backends: row Schemas, validation and the mapping to entities.
import { Either, Option, Schema } from "effect"
import {
  type Authentication as AuthenticationEntity,
  Authentication,
  type AuthenticationMethod,
  AuthenticationMethodPassword,
  AuthenticationMethodUnknown,
  AuthenticationMethodUpstreamOAuth2,
  BrowserSession
} from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf } from "../../model/values.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"
import { type UserRow, userFromRow } from "./user.js"
import { storedEntity } from "../common.js"

const storedAuthentication = storedEntity(Authentication)
const storedBrowserSession = storedEntity(BrowserSession)

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

/** `user_sessions` */
export const BrowserSessionRow = Schema.Struct({
  user_session_id: UlidFromUuid,
  user_id: UlidFromUuid,
  created_at: Schema.DateFromSelf,
  finished_at: NullableDate,
  user_agent: Schema.NullOr(Schema.String),
  last_active_at: NullableDate,
  last_active_ip: Schema.NullOr(IpAddressFromSelf)
})
export type BrowserSessionRow = typeof BrowserSessionRow.Type

/** A `user_sessions` row joined with its `users` row (the user's columns prefixed `user_`). */
export const BrowserSessionWithUserRow = Schema.Struct({
  ...BrowserSessionRow.fields,
  user_username: Schema.String,
  user_created_at: Schema.DateFromSelf,
  user_locked_at: NullableDate,
  user_deactivated_at: NullableDate,
  user_can_request_admin: Schema.Boolean,
  user_is_guest: Schema.Boolean
})
export type BrowserSessionWithUserRow = typeof BrowserSessionWithUserRow.Type

/** The user columns as selected next to a session in PostgreSQL (and rebuilt the same way in memory). */
export const joinUser = (session: BrowserSessionRow, user: UserRow): BrowserSessionWithUserRow => ({
  ...session,
  user_username: user.username,
  user_created_at: user.created_at,
  user_locked_at: user.locked_at,
  user_deactivated_at: user.deactivated_at,
  user_can_request_admin: user.can_request_admin,
  user_is_guest: user.is_guest
})

export const browserSessionFromRow = (row: BrowserSessionWithUserRow): BrowserSession =>
  storedBrowserSession({
    id: row.user_session_id,
    user: userFromRow({
      user_id: row.user_id,
      username: row.user_username,
      created_at: row.user_created_at,
      locked_at: row.user_locked_at,
      deactivated_at: row.user_deactivated_at,
      can_request_admin: row.user_can_request_admin,
      is_guest: row.user_is_guest
    }),
    createdAt: row.created_at,
    finishedAt: Option.fromNullable(row.finished_at),
    userAgent: Option.fromNullable(row.user_agent),
    lastActiveAt: Option.fromNullable(row.last_active_at),
    lastActiveIp: Option.fromNullable(row.last_active_ip)
  })

export const browserSessionToRow = (session: BrowserSession): BrowserSessionRow => ({
  user_session_id: session.id,
  user_id: session.user.id,
  created_at: session.createdAt,
  finished_at: Option.getOrNull(session.finishedAt),
  user_agent: Option.getOrNull(session.userAgent),
  last_active_at: Option.getOrNull(session.lastActiveAt),
  last_active_ip: Option.getOrNull(session.lastActiveIp)
})

/** Columns `user_password_id`, `upstream_oauth_authorization_session_id` of `user_session_authentications`. */
export interface AuthenticationMethodColumns {
  readonly userPasswordId: Ulid | null
  readonly upstreamOAuthAuthorizationSessionId: Ulid | null
}

/** The method of columns `decodeAuthenticationMethod` accepts: the one set, or Unknown when neither is. */
const authenticationMethodOf = (columns: AuthenticationMethodColumns): AuthenticationMethod => {
  const { upstreamOAuthAuthorizationSessionId: upstream, userPasswordId } = columns
  if (userPasswordId !== null) return new AuthenticationMethodPassword({ userPasswordId })
  if (upstream !== null) return new AuthenticationMethodUpstreamOAuth2({ upstreamOAuth2SessionId: upstream })
  return new AuthenticationMethodUnknown()
}

/** One method column set → that method, none → Unknown, both → a refusal naming the upstream column. */
export const decodeAuthenticationMethod = (
  columns: AuthenticationMethodColumns
): StateDecodeResult<AuthenticationMethod> =>
  columns.userPasswordId !== null && columns.upstreamOAuthAuthorizationSessionId !== null
    ? Either.left(
        stateDecodeFailure("upstream_oauth_authorization_session_id", `both methods set (${describeTuple(columns)})`)
      )
    : Either.right(authenticationMethodOf(columns))

export const encodeAuthenticationMethod = (method: AuthenticationMethod): AuthenticationMethodColumns => {
  switch (method._tag) {
    case "Password":
      return { userPasswordId: method.userPasswordId, upstreamOAuthAuthorizationSessionId: null }
    case "UpstreamOAuth2":
      return { userPasswordId: null, upstreamOAuthAuthorizationSessionId: method.upstreamOAuth2SessionId }
    case "Unknown":
      return { userPasswordId: null, upstreamOAuthAuthorizationSessionId: null }
  }
}

const methodColumns = (row: {
  readonly user_password_id: Ulid | null
  readonly upstream_oauth_authorization_session_id: Ulid | null
}): AuthenticationMethodColumns => ({
  userPasswordId: row.user_password_id,
  upstreamOAuthAuthorizationSessionId: row.upstream_oauth_authorization_session_id
})

/** `user_session_authentications`: a row with both method columns set is refused, naming the upstream column. */
export const AuthenticationRow = Schema.Struct({
  user_session_authentication_id: UlidFromUuid,
  user_session_id: UlidFromUuid,
  created_at: Schema.DateFromSelf,
  user_password_id: Schema.NullOr(UlidFromUuid),
  upstream_oauth_authorization_session_id: Schema.NullOr(UlidFromUuid)
}).pipe(Schema.filter((row) => refusedState(decodeAuthenticationMethod(methodColumns(row)))))
export type AuthenticationRow = typeof AuthenticationRow.Type

export const authenticationFromRow = (row: AuthenticationRow): AuthenticationEntity =>
  storedAuthentication({
    id: row.user_session_authentication_id,
    createdAt: row.created_at,
    authenticationMethod: authenticationMethodOf(methodColumns(row))
  })
