// Compat-group entities: sessions, SSO logins and tokens of the legacy Matrix login API.
import { Either, Option, Schema } from "effect"
import {
  copy,
  Finished,
  OptionalString,
  OptionalTimestamp,
  OptionalUlid,
  Pending,
  SessionState,
  Timestamp,
  Valid
} from "./common.js"
import { invalidTransition, type InvalidTransition } from "./errors.js"
import { Ulid } from "./Ulid.js"
import { Device, IpAddressFromSelf, Url } from "./values.js"

type Transition<A> = Either.Either<A, InvalidTransition>

// ---------------------------------------------------------------------------------------------
// Sessions

export class CompatSession extends Schema.Class<CompatSession>("CompatSession")({
  id: Ulid,
  state: SessionState,
  userId: Ulid,
  device: Schema.OptionFromSelf(Device),
  humanName: OptionalString,
  userSessionId: OptionalUlid,
  createdAt: Timestamp,
  isSynapseAdmin: Schema.Boolean,
  userAgent: OptionalString,
  lastActiveAt: OptionalTimestamp,
  lastActiveIp: Schema.OptionFromSelf(IpAddressFromSelf)
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
  get isFinished(): boolean {
    return this.state._tag === "Finished"
  }
}

/** Valid → Finished. */
export const finishCompatSession = (session: CompatSession, now: Date): Transition<CompatSession> =>
  session.state._tag === "Valid"
    ? Either.right(copy(CompatSession, session, { state: new Finished({ finishedAt: now }) }))
    : invalidTransition("CompatSession", session.state._tag, "finish")

/** The state names of the compat session filter. */
export const CompatSessionStateFilter = Schema.Literal("active", "finished")
export type CompatSessionStateFilter = typeof CompatSessionStateFilter.Type

/** Whether an SSO login was exchanged into the session. */
export const CompatSessionAuthType = Schema.Literal("sso_login", "unknown")
export type CompatSessionAuthType = typeof CompatSessionAuthType.Type

// ---------------------------------------------------------------------------------------------
// SSO logins

export class CompatSsoLoginFulfilled extends Schema.TaggedClass<CompatSsoLoginFulfilled>("CompatSsoLoginFulfilled")(
  "Fulfilled",
  {
    fulfilledAt: Timestamp,
    browserSessionId: Ulid
  }
) {}

export class CompatSsoLoginExchanged extends Schema.TaggedClass<CompatSsoLoginExchanged>("CompatSsoLoginExchanged")(
  "Exchanged",
  {
    fulfilledAt: Timestamp,
    exchangedAt: Timestamp,
    compatSessionId: Ulid
  }
) {}

export const CompatSsoLoginState = Schema.Union(Pending, CompatSsoLoginFulfilled, CompatSsoLoginExchanged)
export type CompatSsoLoginState = typeof CompatSsoLoginState.Type

/** The state names of the SSO login filter (`fulfilled` excludes exchanged logins). */
export const CompatSsoLoginStateFilter = Schema.Literal("pending", "fulfilled", "exchanged")
export type CompatSsoLoginStateFilter = typeof CompatSsoLoginStateFilter.Type

export class CompatSsoLogin extends Schema.Class<CompatSsoLogin>("CompatSsoLogin")({
  id: Ulid,
  redirectUri: Url,
  loginToken: Schema.String,
  createdAt: Timestamp,
  state: CompatSsoLoginState
}) {}

/** Pending → Fulfilled. */
export const fulfillCompatSsoLogin = (
  login: CompatSsoLogin,
  now: Date,
  browserSessionId: Ulid
): Transition<CompatSsoLogin> =>
  login.state._tag === "Pending"
    ? Either.right(
        copy(CompatSsoLogin, login, { state: new CompatSsoLoginFulfilled({ fulfilledAt: now, browserSessionId }) })
      )
    : invalidTransition("CompatSsoLogin", login.state._tag, "fulfill")

/** Fulfilled → Exchanged. */
export const exchangeCompatSsoLogin = (
  login: CompatSsoLogin,
  now: Date,
  compatSessionId: Ulid
): Transition<CompatSsoLogin> =>
  login.state._tag === "Fulfilled"
    ? Either.right(
        copy(CompatSsoLogin, login, {
          state: new CompatSsoLoginExchanged({
            fulfilledAt: login.state.fulfilledAt,
            exchangedAt: now,
            compatSessionId
          })
        })
      )
    : invalidTransition("CompatSsoLogin", login.state._tag, "exchange")

// ---------------------------------------------------------------------------------------------
// Access tokens

export class CompatAccessToken extends Schema.Class<CompatAccessToken>("CompatAccessToken")({
  id: Ulid,
  sessionId: Ulid,
  token: Schema.String,
  createdAt: Timestamp,
  expiresAt: OptionalTimestamp
}) {
  /** No expiry, or `expiresAt > now`. */
  isValid(now: Date): boolean {
    return Option.match(this.expiresAt, { onNone: () => true, onSome: (e) => e.getTime() > now.getTime() })
  }
}

/** Sets `expiresAt = now`, which makes the token invalid at once; allowed in any state. */
export const expireCompatAccessToken = (token: CompatAccessToken, now: Date): Transition<CompatAccessToken> =>
  Either.right(copy(CompatAccessToken, token, { expiresAt: Option.some(now) }))

// ---------------------------------------------------------------------------------------------
// Refresh tokens

export class CompatRefreshTokenConsumed extends Schema.TaggedClass<CompatRefreshTokenConsumed>(
  "CompatRefreshTokenConsumed"
)("Consumed", {
  consumedAt: Timestamp
}) {}

export const CompatRefreshTokenState = Schema.Union(Valid, CompatRefreshTokenConsumed)
export type CompatRefreshTokenState = typeof CompatRefreshTokenState.Type

export class CompatRefreshToken extends Schema.Class<CompatRefreshToken>("CompatRefreshToken")({
  id: Ulid,
  state: CompatRefreshTokenState,
  sessionId: Ulid,
  accessTokenId: Ulid,
  token: Schema.String,
  createdAt: Timestamp
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
}

/** Valid → Consumed. */
export const consumeCompatRefreshToken = (token: CompatRefreshToken, now: Date): Transition<CompatRefreshToken> =>
  token.state._tag === "Valid"
    ? Either.right(copy(CompatRefreshToken, token, { state: new CompatRefreshTokenConsumed({ consumedAt: now }) }))
    : invalidTransition("CompatRefreshToken", token.state._tag, "consume")
