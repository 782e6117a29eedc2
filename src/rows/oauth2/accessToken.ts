// Stored rows of `oauth2_access_tokens`, shared by both backends: the row Schema, the token state from its `revoked_at` column, and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { AccessToken } from "../../model/oauth2/accessToken.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"
import { decodeRevocableState, encodeRevocableState } from "../state.js"

export const decodeAccessTokenState = decodeRevocableState
export const encodeAccessTokenState = encodeRevocableState

const storedAccessToken = storedEntity(AccessToken)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
const NullableTimestamp = Schema.NullOr(Timestamp)

export const OAUTH2_ACCESS_TOKENS = "oauth2_access_tokens"

/** `oauth2_access_tokens`: every tuple of its state column is a state, so no row-level check is needed. */
export const AccessTokenRow = Schema.Struct({
  oauth2_access_token_id: UlidFromUuid,
  oauth2_session_id: UlidFromUuid,
  access_token: Schema.String,
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  first_used_at: NullableTimestamp
})
export type AccessTokenRow = typeof AccessTokenRow.Type

export const accessTokenFromRow = (row: AccessTokenRow): AccessToken =>
  storedAccessToken({
    id: row.oauth2_access_token_id,
    // every `revoked_at` is a state (the decoder never refuses)
    state: Either.getOrThrow(decodeAccessTokenState({ revokedAt: row.revoked_at })),
    sessionId: row.oauth2_session_id,
    accessToken: row.access_token,
    createdAt: row.created_at,
    expiresAt: Option.fromNullable(row.expires_at),
    firstUsedAt: Option.fromNullable(row.first_used_at)
  })

export const accessTokenToRow = (token: AccessToken): AccessTokenRow => ({
  oauth2_access_token_id: token.id,
  oauth2_session_id: token.sessionId,
  access_token: token.accessToken,
  created_at: token.createdAt,
  expires_at: Option.getOrNull(token.expiresAt),
  revoked_at: encodeAccessTokenState(token.state).revokedAt,
  first_used_at: Option.getOrNull(token.firstUsedAt)
})

/** The row of a new, valid and unused token of `session` (both backends build the entity they return from it). */
export const newAccessTokenRow = (
  session: OAuth2Session,
  accessToken: string,
  id: Ulid,
  createdAt: Date,
  expiresAt: Date | null
): AccessTokenRow => ({
  oauth2_access_token_id: id,
  oauth2_session_id: session.id,
  access_token: accessToken,
  created_at: createdAt,
  expires_at: expiresAt,
  revoked_at: null,
  first_used_at: null
})
