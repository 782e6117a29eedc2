// OAuth2 authorization grants: the stage machine (pending, fulfilled, exchanged, cancelled), the code and its PKCE challenge.
import { Either, Schema } from "effect"
import { copy, OptionalString, Pending, Timestamp } from "../common.js"
import { invalidTransition } from "../errors.js"
import { Ulid } from "../Ulid.js"
import { Pkce, ResponseMode, ScopeFromSelf, Url } from "../values.js"
import { Client } from "./client.js"
import type { Transition } from "./shared.js"

export class AuthorizationCode extends Schema.Class<AuthorizationCode>("AuthorizationCode")({
  code: Schema.String,
  pkce: Schema.OptionFromSelf(Pkce)
}) {}

export class AuthorizationGrantFulfilled extends Schema.TaggedClass<AuthorizationGrantFulfilled>(
  "AuthorizationGrantFulfilled"
)("Fulfilled", {
  browserSessionId: Ulid,
  fulfilledAt: Timestamp
}) {}

export class AuthorizationGrantExchanged extends Schema.TaggedClass<AuthorizationGrantExchanged>(
  "AuthorizationGrantExchanged"
)("Exchanged", {
  sessionId: Ulid,
  fulfilledAt: Timestamp,
  exchangedAt: Timestamp
}) {}

export class AuthorizationGrantCancelled extends Schema.TaggedClass<AuthorizationGrantCancelled>(
  "AuthorizationGrantCancelled"
)("Cancelled", {
  cancelledAt: Timestamp
}) {}

export const AuthorizationGrantStage = Schema.Union(
  Pending,
  AuthorizationGrantFulfilled,
  AuthorizationGrantExchanged,
  AuthorizationGrantCancelled
)
export type AuthorizationGrantStage = typeof AuthorizationGrantStage.Type

const grantFields = {
  code: Schema.OptionFromSelf(AuthorizationCode),
  redirectUri: Url,
  scope: ScopeFromSelf,
  state: OptionalString,
  nonce: OptionalString,
  responseMode: ResponseMode,
  responseTypeIdToken: Schema.Boolean,
  loginHint: OptionalString,
  locale: OptionalString,
  rawParameters: Schema.ReadonlyMapFromSelf({ key: Schema.String, value: Schema.String })
}

export class AuthorizationGrant extends Schema.Class<AuthorizationGrant>("AuthorizationGrant")({
  id: Ulid,
  stage: AuthorizationGrantStage,
  clientId: Ulid,
  createdAt: Timestamp,
  ...grantFields
}) {}

export const NewAuthorizationGrant = Schema.Struct({ client: Client, ...grantFields })
export type NewAuthorizationGrant = typeof NewAuthorizationGrant.Type

const withStage = (grant: AuthorizationGrant, stage: AuthorizationGrantStage): AuthorizationGrant =>
  copy(AuthorizationGrant, grant, { stage })

/** Pending → Fulfilled. */
export const fulfillAuthorizationGrant = (
  grant: AuthorizationGrant,
  now: Date,
  browserSessionId: Ulid
): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Pending"
    ? Either.right(withStage(grant, new AuthorizationGrantFulfilled({ browserSessionId, fulfilledAt: now })))
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "fulfill")

/** Fulfilled → Exchanged. */
export const exchangeAuthorizationGrant = (
  grant: AuthorizationGrant,
  now: Date,
  sessionId: Ulid
): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Fulfilled"
    ? Either.right(
        withStage(
          grant,
          new AuthorizationGrantExchanged({ sessionId, fulfilledAt: grant.stage.fulfilledAt, exchangedAt: now })
        )
      )
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "exchange")

/** Pending → Cancelled (no repository method writes it; kept for completeness of the machine). */
export const cancelAuthorizationGrant = (grant: AuthorizationGrant, now: Date): Transition<AuthorizationGrant> =>
  grant.stage._tag === "Pending"
    ? Either.right(withStage(grant, new AuthorizationGrantCancelled({ cancelledAt: now })))
    : invalidTransition("AuthorizationGrant", grant.stage._tag, "cancel")
