// Stored rows of `compat_access_tokens`, shared by both backends: the row Schema and the mapping to entities.
import { Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { CompatAccessToken, type CompatSession } from "../../model/compat.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const storedCompatAccessToken = storedEntity(CompatAccessToken)

export const COMPAT_ACCESS_TOKENS = "compat_access_tokens"

/** `compat_access_tokens`: a token has no state columns, so no tuple is refused. */
export const CompatAccessTokenRow = Schema.Struct({
  compat_access_token_id: UlidFromUuid,
  compat_session_id: UlidFromUuid,
  access_token: Schema.String,
  created_at: Timestamp,
  // Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
  expires_at: Schema.NullOr(Timestamp)
})
export type CompatAccessTokenRow = typeof CompatAccessTokenRow.Type

export const compatAccessTokenFromRow = (row: CompatAccessTokenRow): CompatAccessToken =>
  storedCompatAccessToken({
    id: row.compat_access_token_id,
    sessionId: row.compat_session_id,
    token: row.access_token,
    createdAt: row.created_at,
    expiresAt: Option.fromNullable(row.expires_at)
  })

export const compatAccessTokenToRow = (token: CompatAccessToken): CompatAccessTokenRow => ({
  compat_access_token_id: token.id,
  compat_session_id: token.sessionId,
  access_token: token.token,
  created_at: token.createdAt,
  expires_at: Option.getOrNull(token.expiresAt)
})

/** The row of a new token of `session` (both backends build the entity they return from it). */
export const newCompatAccessTokenRow = (
  session: CompatSession,
  accessToken: string,
  id: Ulid,
  createdAt: Date,
  expiresAt: Date | null
): CompatAccessTokenRow => ({
  compat_access_token_id: id,
  compat_session_id: session.id,
  access_token: accessToken,
  created_at: createdAt,
  expires_at: expiresAt
})
