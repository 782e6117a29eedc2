// OAuth2 refresh tokens: valid, consumed (with the token that replaced it) or revoked.
import { Either, Option, Schema } from "effect"
import { copy, OptionalUlid, Revoked, Timestamp, Valid } from "../common.js"
import { invalidTransition } from "../errors.js"
import { Ulid } from "../Ulid.js"
import type { Transition } from "./shared.js"

export class RefreshTokenConsumed extends Schema.TaggedClass<RefreshTokenConsumed>("RefreshTokenConsumed")("Consumed", {
  consumedAt: Timestamp,
  nextRefreshTokenId: OptionalUlid
}) {}

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

/** Valid or Consumed → Consumed (a second consumption overwrites time and successor); Revoked refuses. */
export const consumeRefreshToken = (
  token: RefreshToken,
  now: Date,
  nextRefreshTokenId: Ulid
): Transition<RefreshToken> =>
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
