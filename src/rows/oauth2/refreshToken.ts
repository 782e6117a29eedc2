// Stored rows of `oauth2_refresh_tokens`, shared by both backends: the row Schema, the token state from its consumed, revoked and successor columns (and back), and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { Revoked, Timestamp, Valid } from "../../model/common.js"
import type { AccessToken } from "../../model/oauth2/accessToken.js"
import { RefreshToken, RefreshTokenConsumed, type RefreshTokenState } from "../../model/oauth2/refreshToken.js"
import type { OAuth2Session } from "../../model/oauth2/session.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"
import { describeTuple, refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"

export interface RefreshTokenStateColumns {
  readonly consumedAt: Date | null
  readonly revokedAt: Date | null
  readonly nextOAuth2RefreshTokenId: Ulid | null
}

/** The column an impossible tuple is reported on: the successor pointer, whichever combination it is. */
export const REFRESH_TOKEN_STATE_COLUMN = "next_oauth2_refresh_token_id"

/**
 * Valid (nothing set), Consumed (with or without its successor), Revoked (no successor); consumed and revoked together,
 * or a successor on a token not consumed, are refused.
 */
export const decodeRefreshTokenState = (c: RefreshTokenStateColumns): StateDecodeResult<RefreshTokenState> => {
  const { consumedAt, nextOAuth2RefreshTokenId: next, revokedAt } = c
  if (consumedAt === null && revokedAt === null && next === null) return Either.right(new Valid())
  if (consumedAt !== null && revokedAt === null) {
    return Either.right(new RefreshTokenConsumed({ consumedAt, nextRefreshTokenId: Option.fromNullable(next) }))
  }
  if (consumedAt === null && revokedAt !== null && next === null) return Either.right(new Revoked({ revokedAt }))
  return Either.left(
    stateDecodeFailure(REFRESH_TOKEN_STATE_COLUMN, `impossible refresh token state (${describeTuple(c)})`)
  )
}

export const encodeRefreshTokenState = (state: RefreshTokenState): RefreshTokenStateColumns => {
  switch (state._tag) {
    case "Valid":
      return { consumedAt: null, revokedAt: null, nextOAuth2RefreshTokenId: null }
    case "Consumed":
      return {
        consumedAt: state.consumedAt,
        revokedAt: null,
        nextOAuth2RefreshTokenId: Option.getOrNull(state.nextRefreshTokenId)
      }
    case "Revoked":
      return { consumedAt: null, revokedAt: state.revokedAt, nextOAuth2RefreshTokenId: null }
  }
}

const storedRefreshToken = storedEntity(RefreshToken)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
const NullableTimestamp = Schema.NullOr(Timestamp)

export const OAUTH2_REFRESH_TOKENS = "oauth2_refresh_tokens"

const stateColumns = (row: {
  readonly consumed_at: Date | null
  readonly revoked_at: Date | null
  readonly next_oauth2_refresh_token_id: Ulid | null
}): RefreshTokenStateColumns => ({
  consumedAt: row.consumed_at,
  revokedAt: row.revoked_at,
  nextOAuth2RefreshTokenId: row.next_oauth2_refresh_token_id
})

/** `oauth2_refresh_tokens`: a row whose state tuple is impossible is refused, naming the successor column. */
export const RefreshTokenRow = Schema.Struct({
  oauth2_refresh_token_id: UlidFromUuid,
  oauth2_session_id: UlidFromUuid,
  oauth2_access_token_id: Schema.NullOr(UlidFromUuid),
  refresh_token: Schema.String,
  created_at: Timestamp,
  consumed_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  next_oauth2_refresh_token_id: Schema.NullOr(UlidFromUuid)
}).pipe(Schema.filter((row) => refusedState(decodeRefreshTokenState(stateColumns(row)))))
export type RefreshTokenRow = typeof RefreshTokenRow.Type

export const refreshTokenFromRow = (row: RefreshTokenRow): RefreshToken =>
  storedRefreshToken({
    id: row.oauth2_refresh_token_id,
    // the row schema has refused every tuple the decoder refuses
    state: Either.getOrThrow(decodeRefreshTokenState(stateColumns(row))),
    refreshToken: row.refresh_token,
    sessionId: row.oauth2_session_id,
    createdAt: row.created_at,
    accessTokenId: Option.fromNullable(row.oauth2_access_token_id)
  })

export const refreshTokenToRow = (token: RefreshToken): RefreshTokenRow => {
  const state = encodeRefreshTokenState(token.state)
  return {
    oauth2_refresh_token_id: token.id,
    oauth2_session_id: token.sessionId,
    oauth2_access_token_id: Option.getOrNull(token.accessTokenId),
    refresh_token: token.refreshToken,
    created_at: token.createdAt,
    consumed_at: state.consumedAt,
    revoked_at: state.revokedAt,
    next_oauth2_refresh_token_id: state.nextOAuth2RefreshTokenId
  }
}

/** The row of a new, valid token of `session` for `accessToken` (both backends build the entity they return from it). */
export const newRefreshTokenRow = (
  session: OAuth2Session,
  accessToken: AccessToken,
  refreshToken: string,
  id: Ulid,
  createdAt: Date
): RefreshTokenRow => ({
  oauth2_refresh_token_id: id,
  oauth2_session_id: session.id,
  oauth2_access_token_id: accessToken.id,
  refresh_token: refreshToken,
  created_at: createdAt,
  consumed_at: null,
  revoked_at: null,
  next_oauth2_refresh_token_id: null
})
