// OAuth2 access tokens: valid until revoked or expired, and whether they have been used.
import { Either, Option, Schema } from "effect"
import { copy, OptionalTimestamp, RevocableState, Revoked, Timestamp } from "../common.js"
import { invalidTransition } from "../errors.js"
import { Ulid } from "../Ulid.js"
import type { Transition } from "./shared.js"

export class AccessToken extends Schema.Class<AccessToken>("AccessToken")({
  id: Ulid,
  state: RevocableState,
  sessionId: Ulid,
  accessToken: Schema.String,
  createdAt: Timestamp,
  expiresAt: OptionalTimestamp,
  firstUsedAt: OptionalTimestamp
}) {
  /** Expired once `expiresAt < now`. */
  isExpired(now: Date): boolean {
    return Option.exists(this.expiresAt, (e) => e.getTime() < now.getTime())
  }
  isValid(now: Date): boolean {
    return this.state._tag === "Valid" && !this.isExpired(now)
  }
  get isUsed(): boolean {
    return Option.isSome(this.firstUsedAt)
  }
}

/** Valid → Revoked. */
export const revokeAccessToken = (token: AccessToken, now: Date): Transition<AccessToken> =>
  token.state._tag === "Valid"
    ? Either.right(copy(AccessToken, token, { state: new Revoked({ revokedAt: now }) }))
    : invalidTransition("AccessToken", token.state._tag, "revoke")

/** Sets `firstUsedAt = now` (overwrites, as the repository does). */
export const markAccessTokenUsed = (token: AccessToken, now: Date): AccessToken =>
  copy(AccessToken, token, { firstUsedAt: Option.some(now) })
