// Stored rows of `oauth2_sessions`, shared by both backends: the row Schema, the state from `finished_at`, and the mapping to entities.
import { Either, Option, Schema } from "effect"
import type { Client } from "../../model/oauth2/client.js"
import { OAuth2Session } from "../../model/oauth2/session.js"
import type { BrowserSession, User } from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf, type Scope } from "../../model/values.js"
import { ScopeListColumn, scopeOfList, storedEntity } from "../common.js"
import { decodeSessionState, encodeSessionState } from "../state.js"

export const decodeOAuth2SessionState = decodeSessionState
export const encodeOAuth2SessionState = encodeSessionState

const storedOAuth2Session = storedEntity(OAuth2Session)

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

/**
 * `oauth2_sessions`. Every `finished_at` is a state (valid or finished), so no tuple is refused; a bad scope token is
 * an inconsistency on `scope_list`, a stored network (or any non-canonical address) one on `last_active_ip`.
 */
export const OAuth2SessionRow = Schema.Struct({
  oauth2_session_id: UlidFromUuid,
  user_id: Schema.NullOr(UlidFromUuid),
  user_session_id: Schema.NullOr(UlidFromUuid),
  oauth2_client_id: UlidFromUuid,
  scope_list: ScopeListColumn,
  created_at: Schema.DateFromSelf,
  finished_at: NullableDate,
  user_agent: Schema.NullOr(Schema.String),
  last_active_at: NullableDate,
  last_active_ip: Schema.NullOr(IpAddressFromSelf),
  human_name: Schema.NullOr(Schema.String)
})
export type OAuth2SessionRow = typeof OAuth2SessionRow.Type

export const oauth2SessionFromRow = (row: OAuth2SessionRow): OAuth2Session =>
  storedOAuth2Session({
    id: row.oauth2_session_id,
    // every finished_at is a state: the decode cannot refuse
    state: Either.getOrThrow(decodeOAuth2SessionState({ finishedAt: row.finished_at })),
    createdAt: row.created_at,
    userId: Option.fromNullable(row.user_id),
    userSessionId: Option.fromNullable(row.user_session_id),
    clientId: row.oauth2_client_id,
    scope: scopeOfList(row.scope_list),
    userAgent: Option.fromNullable(row.user_agent),
    lastActiveAt: Option.fromNullable(row.last_active_at),
    lastActiveIp: Option.fromNullable(row.last_active_ip),
    humanName: Option.fromNullable(row.human_name)
  })

export const oauth2SessionToRow = (session: OAuth2Session): OAuth2SessionRow => ({
  oauth2_session_id: session.id,
  user_id: Option.getOrNull(session.userId),
  user_session_id: Option.getOrNull(session.userSessionId),
  oauth2_client_id: session.clientId,
  scope_list: session.scope,
  created_at: session.createdAt,
  finished_at: encodeOAuth2SessionState(session.state).finishedAt,
  user_agent: Option.getOrNull(session.userAgent),
  last_active_at: Option.getOrNull(session.lastActiveAt),
  last_active_ip: Option.getOrNull(session.lastActiveIp),
  human_name: Option.getOrNull(session.humanName)
})

/** The row of a new, valid session (both backends build the entity they return from it); the scope is copied. */
export const newOAuth2SessionRow = (
  client: Client,
  user: Option.Option<User>,
  browserSession: Option.Option<BrowserSession>,
  scope: Scope,
  id: Ulid,
  createdAt: Date
): OAuth2SessionRow => ({
  oauth2_session_id: id,
  user_id: Option.getOrNull(Option.map(user, (u) => u.id)),
  user_session_id: Option.getOrNull(Option.map(browserSession, (s) => s.id)),
  oauth2_client_id: client.id,
  scope_list: [...scope],
  created_at: createdAt,
  finished_at: null,
  user_agent: null,
  last_active_at: null,
  last_active_ip: null,
  human_name: null
})
