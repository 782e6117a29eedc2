// Personal-token entities: long-lived personal sessions and their hashed access tokens.
import { Either, Option, Schema } from "effect"
import { copy, OptionalTimestamp, RevocableState, Revoked, Timestamp } from "./common.js"
import { invalidTransition, type InvalidTransition } from "./errors.js"
import { Ulid } from "./Ulid.js"
import { IpAddressFromSelf, ScopeFromSelf } from "./values.js"

type Transition<A> = Either.Either<A, InvalidTransition>

export class PersonalSessionOwnerUser extends Schema.TaggedClass<PersonalSessionOwnerUser>("PersonalSessionOwnerUser")(
  "User",
  { userId: Ulid }
) {}

export class PersonalSessionOwnerOAuth2Client extends Schema.TaggedClass<PersonalSessionOwnerOAuth2Client>(
  "PersonalSessionOwnerOAuth2Client"
)("OAuth2Client", {
  clientId: Ulid
}) {}

export const PersonalSessionOwner = Schema.Union(PersonalSessionOwnerUser, PersonalSessionOwnerOAuth2Client)
export type PersonalSessionOwner = typeof PersonalSessionOwner.Type

export class PersonalSession extends Schema.Class<PersonalSession>("PersonalSession")({
  id: Ulid,
  state: RevocableState,
  owner: PersonalSessionOwner,
  actorUserId: Ulid,
  humanName: Schema.String,
  scope: ScopeFromSelf,
  createdAt: Timestamp,
  lastActiveAt: OptionalTimestamp,
  lastActiveIp: Schema.OptionFromSelf(IpAddressFromSelf)
}) {
  get isValid(): boolean {
    return this.state._tag === "Valid"
  }
  get isRevoked(): boolean {
    return this.state._tag === "Revoked"
  }
}

export const PersonalSessionStateFilter = Schema.Literal("active", "revoked")
export type PersonalSessionStateFilter = typeof PersonalSessionStateFilter.Type

/** Valid → Revoked (the repository revokes the session's unrevoked token with the same `now`). */
export const revokePersonalSession = (session: PersonalSession, now: Date): Transition<PersonalSession> =>
  session.state._tag === "Valid"
    ? Either.right(copy(PersonalSession, session, { state: new Revoked({ revokedAt: now }) }))
    : invalidTransition("PersonalSession", session.state._tag, "revoke")

/** The token text is never kept: the table holds only its SHA-256 digest. */
export class PersonalAccessToken extends Schema.Class<PersonalAccessToken>("PersonalAccessToken")({
  id: Ulid,
  sessionId: Ulid,
  createdAt: Timestamp,
  expiresAt: OptionalTimestamp,
  revokedAt: OptionalTimestamp
}) {
  get isRevoked(): boolean {
    return Option.isSome(this.revokedAt)
  }
  /** Not revoked, and no expiry or `expiresAt > now`. */
  isValid(now: Date): boolean {
    return (
      !this.isRevoked &&
      Option.match(this.expiresAt, { onNone: () => true, onSome: (e) => e.getTime() > now.getTime() })
    )
  }
}

/** Stamps `revokedAt`; no state union here, so a revoked token is re-stamped rather than refused. */
export const revokePersonalAccessToken = (token: PersonalAccessToken, now: Date): Transition<PersonalAccessToken> =>
  Either.right(copy(PersonalAccessToken, token, { revokedAt: Option.some(now) }))
