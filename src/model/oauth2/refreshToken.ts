// OAuth2 refresh tokens: valid, consumed (with the token that replaced it) or revoked.
import { Either, Option, Schema } from "effect"
import { copy, OptionalUlid, Revoked, Timestamp, Valid } from "../common.js"
import { describeTuple, invalidTransition, stateDecodeFailure, type StateDecodeResult } from "../errors.js"
import { Ulid } from "../Ulid.js"
import type { Transition } from "./shared.js"

export class RefreshTokenConsumed
  extends Schema.TaggedClass<RefreshTokenConsumed>("RefreshTokenConsumed")("Consumed", {
    consumedAt: Timestamp,
    nextRefreshTokenId: OptionalUlid
  })
{}

export const RefreshTokenState = Schema.Union(Valid, RefreshTokenConsumed, Revoked)
export type RefreshTokenState = typeof RefreshTokenState.Type

export class RefreshToken extends Schema.Class<RefreshToken>("RefreshToken")({
  id: Ulid,
  state: RefreshTokenState,
  refreshToken: Schema.String,
  sessionId: Ulid,
  createdAt: Timestamp,
  accessTokenId: OptionalUlid
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
}

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

/** Valid or Consumed → Consumed (a second consumption overwrites time and successor); Revoked refuses. */
export const consumeRefreshToken = (token: RefreshToken, now: Date, nextRefreshTokenId: Ulid): Transition<RefreshToken> =>
  token.state._tag === "Revoked"
    ? invalidTransition("RefreshToken", token.state._tag, "consume")
    : Either.right(
      copy(RefreshToken, token, {
        state: new RefreshTokenConsumed({ consumedAt: now, nextRefreshTokenId: Option.some(nextRefreshTokenId) })
      })
    )

/** Valid → Revoked. */
export const revokeRefreshToken = (token: RefreshToken, now: Date): Transition<RefreshToken> =>
  token.state._tag === "Valid"
    ? Either.right(copy(RefreshToken, token, { state: new Revoked({ revokedAt: now }) }))
    : invalidTransition("RefreshToken", token.state._tag, "revoke")
