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

/** The owner of a session owned by `user` (MAS's `From<&User>`). */
export const ownedByUser = (user: { readonly id: Ulid }): PersonalSessionOwner =>
  new PersonalSessionOwnerUser({ userId: user.id })

/** The owner of a session owned by the OAuth2 `client` (MAS's `From<&Client>`: the client credentials case). */
export const ownedByOAuth2Client = (client: { readonly id: Ulid }): PersonalSessionOwner =>
  new PersonalSessionOwnerOAuth2Client({ clientId: client.id })

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

/**
 * Stamps `revokedAt`. The token keeps MAS's shape (an optional `revokedAt`, no state union), but a token already
 * revoked is refused as any other single-use transition is, rather than re-stamped.
 */
export const revokePersonalAccessToken = (token: PersonalAccessToken, now: Date): Transition<PersonalAccessToken> =>
  Option.isNone(token.revokedAt)
    ? Either.right(copy(PersonalAccessToken, token, { revokedAt: Option.some(now) }))
    : invalidTransition("PersonalAccessToken", "Revoked", "revoke")
