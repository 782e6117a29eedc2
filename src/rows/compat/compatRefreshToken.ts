// Stored rows of `compat_refresh_tokens`, shared by both backends: the row Schema, the token state from its `consumed_at` column, and the mapping to entities.
import { Either, Schema } from "effect"
import { Timestamp, Valid } from "../../model/common.js"
import {
  type CompatAccessToken,
  CompatRefreshToken,
  CompatRefreshTokenConsumed,
  type CompatRefreshTokenState,
  type CompatSession
} from "../../model/compat.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"
import type { StateDecodeResult } from "../state.js"

/** `consumed_at` alone decides: every tuple is valid. */
export const decodeCompatRefreshTokenState = (c: {
  readonly consumedAt: Date | null
}): StateDecodeResult<CompatRefreshTokenState> =>
  Either.right(c.consumedAt === null ? new Valid() : new CompatRefreshTokenConsumed({ consumedAt: c.consumedAt }))

export const encodeCompatRefreshTokenState = (
  state: CompatRefreshTokenState
): { readonly consumedAt: Date | null } => ({
  consumedAt: state._tag === "Consumed" ? state.consumedAt : null
})

const storedCompatRefreshToken = storedEntity(CompatRefreshToken)

export const COMPAT_REFRESH_TOKENS = "compat_refresh_tokens"

/** `compat_refresh_tokens`: every `consumed_at` is a state, so no row-level check is needed. */
export const CompatRefreshTokenRow = Schema.Struct({
  compat_refresh_token_id: UlidFromUuid,
  compat_session_id: UlidFromUuid,
  compat_access_token_id: UlidFromUuid,
  refresh_token: Schema.String,
  created_at: Timestamp,
  // Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
  consumed_at: Schema.NullOr(Timestamp)
})
export type CompatRefreshTokenRow = typeof CompatRefreshTokenRow.Type

export const compatRefreshTokenFromRow = (row: CompatRefreshTokenRow): CompatRefreshToken =>
  storedCompatRefreshToken({
    id: row.compat_refresh_token_id,
    // every `consumed_at` is a state (the decoder never refuses)
    state: Either.getOrThrow(decodeCompatRefreshTokenState({ consumedAt: row.consumed_at })),
    sessionId: row.compat_session_id,
    accessTokenId: row.compat_access_token_id,
    token: row.refresh_token,
    createdAt: row.created_at
  })

export const compatRefreshTokenToRow = (token: CompatRefreshToken): CompatRefreshTokenRow => ({
  compat_refresh_token_id: token.id,
  compat_session_id: token.sessionId,
  compat_access_token_id: token.accessTokenId,
  refresh_token: token.token,
  created_at: token.createdAt,
  consumed_at: encodeCompatRefreshTokenState(token.state).consumedAt
})

/** The row of a new, valid token of `session` for `accessToken` (both backends build the entity they return from it). */
export const newCompatRefreshTokenRow = (
  session: CompatSession,
  accessToken: CompatAccessToken,
  refreshToken: string,
  id: Ulid,
  createdAt: Date
): CompatRefreshTokenRow => ({
  compat_refresh_token_id: id,
  compat_session_id: session.id,
  compat_access_token_id: accessToken.id,
  refresh_token: refreshToken,
  created_at: createdAt,
  consumed_at: null
})
