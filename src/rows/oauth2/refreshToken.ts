// Stored state of `oauth2_refresh_tokens`: the token state from its consumed, revoked and successor columns, and back.
import { Either, Option } from "effect"
import { Revoked, Valid } from "../../model/common.js"
import { RefreshTokenConsumed, type RefreshTokenState } from "../../model/oauth2/refreshToken.js"
import type { Ulid } from "../../model/Ulid.js"
import { describeTuple, stateDecodeFailure, type StateDecodeResult } from "../state.js"

export interface RefreshTokenStateColumns {
  readonly consumedAt: Date | null
  readonly revokedAt: Date | null
  readonly nextOAuth2RefreshTokenId: Ulid | null
}

export const decodeRefreshTokenState = (c: RefreshTokenStateColumns): StateDecodeResult<RefreshTokenState> => {
  const { consumedAt, nextOAuth2RefreshTokenId: next, revokedAt } = c
  if (consumedAt === null && revokedAt === null && next === null) return Either.right(new Valid())
  if (consumedAt !== null && revokedAt === null) {
    return Either.right(new RefreshTokenConsumed({ consumedAt, nextRefreshTokenId: Option.fromNullable(next) }))
  }
  if (consumedAt === null && revokedAt !== null && next === null) return Either.right(new Revoked({ revokedAt }))
  return Either.left(stateDecodeFailure("state", `impossible refresh token state (${describeTuple(c)})`))
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
