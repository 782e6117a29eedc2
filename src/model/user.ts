// User-group entities: users, emails, passwords, recovery, registration, browser sessions.
import { Either, Option, Schema } from "effect"
import { copy, Count, OptionalString, OptionalTimestamp, OptionalUlid, Timestamp } from "./common.js"
import { invalidTransition, type InvalidTransition } from "./errors.js"
import { Ulid } from "./Ulid.js"
import { IpAddressFromSelf, Json, Url } from "./values.js"

const OptionalIp = Schema.OptionFromSelf(IpAddressFromSelf)
type Transition<A> = Either.Either<A, InvalidTransition>

// ---------------------------------------------------------------------------------------------
// User

export class User extends Schema.Class<User>("User")({
  id: Ulid,
  username: Schema.String,
  createdAt: Timestamp,
  lockedAt: OptionalTimestamp,
  deactivatedAt: OptionalTimestamp,
  canRequestAdmin: Schema.Boolean,
  isGuest: Schema.Boolean
}) {
  /** The user-visible subject: the id's ULID text (not stored). */
  get sub(): string {
    return this.id
  }
  /** Neither locked nor deactivated. */
  get isValid(): boolean {
    return Option.isNone(this.lockedAt) && Option.isNone(this.deactivatedAt)
  }
  /** Not deactivated (a locked user may still act, e.g. be administered). */
  get isValidActor(): boolean {
    return Option.isNone(this.deactivatedAt)
  }
}

/** The state names of the user filter; a locked and deactivated user is in both of the last two. */
export const UserState = Schema.Literal("active", "locked", "deactivated")
export type UserState = typeof UserState.Type

// The four user transitions are idempotent (storage rule: Transitions): already in the target state → unchanged value, no write.
export const lockUser = (user: User, now: Date): Transition<User> =>
  Either.right(Option.isSome(user.lockedAt) ? user : copy(User, user, { lockedAt: Option.some(now) }))

export const unlockUser = (user: User): Transition<User> =>
  Either.right(Option.isNone(user.lockedAt) ? user : copy(User, user, { lockedAt: Option.none() }))

export const deactivateUser = (user: User, now: Date): Transition<User> =>
  Either.right(Option.isSome(user.deactivatedAt) ? user : copy(User, user, { deactivatedAt: Option.some(now) }))

export const reactivateUser = (user: User): Transition<User> =>
  Either.right(Option.isNone(user.deactivatedAt) ? user : copy(User, user, { deactivatedAt: Option.none() }))

export const setUserCanRequestAdmin = (user: User, canRequestAdmin: boolean): User =>
  copy(User, user, { canRequestAdmin })

// ---------------------------------------------------------------------------------------------
// Emails

export class UserEmail extends Schema.Class<UserEmail>("UserEmail")({
  id: Ulid,
  userId: Ulid,
  email: Schema.String,
  createdAt: Timestamp
}) {}

/** Pending while `completedAt` is none, completed after. */
export class UserEmailAuthentication extends Schema.Class<UserEmailAuthentication>("UserEmailAuthentication")({
  id: Ulid,
  userSessionId: OptionalUlid,
  userRegistrationId: OptionalUlid,
  email: Schema.String,
  createdAt: Timestamp,
  completedAt: OptionalTimestamp
}) {
  get isCompleted(): boolean {
    return Option.isSome(this.completedAt)
  }
}

/** Pending → completed (by code or upstream proof); completing twice is refused. */
export const completeUserEmailAuthentication = (
  authentication: UserEmailAuthentication,
  now: Date
): Transition<UserEmailAuthentication> =>
  Option.isSome(authentication.completedAt)
    ? invalidTransition("UserEmailAuthentication", "Completed", "complete")
    : Either.right(copy(UserEmailAuthentication, authentication, { completedAt: Option.some(now) }))

export class UserEmailAuthenticationCode extends Schema.Class<UserEmailAuthenticationCode>(
  "UserEmailAuthenticationCode"
)({
  id: Ulid,
  userEmailAuthenticationId: Ulid,
  code: Schema.String,
  createdAt: Timestamp,
  expiresAt: Timestamp
}) {
  /** Usable while `now < expiresAt`. */
  isValid(now: Date): boolean {
    return now.getTime() < this.expiresAt.getTime()
  }
}

// ---------------------------------------------------------------------------------------------
// Passwords

/** The hashing-scheme version: a 16-bit unsigned integer. */
export const PasswordVersion = Schema.Int.pipe(Schema.between(0, 65535))

export class Password extends Schema.Class<Password>("Password")({
  id: Ulid,
  hashedPassword: Schema.String,
  version: PasswordVersion,
  upgradedFromId: OptionalUlid,
  createdAt: Timestamp
}) {}

// ---------------------------------------------------------------------------------------------
// Recovery

export class UserRecoverySession extends Schema.Class<UserRecoverySession>("UserRecoverySession")({
  id: Ulid,
  email: Schema.String,
  userAgent: Schema.String,
  ipAddress: OptionalIp,
  locale: Schema.String,
  createdAt: Timestamp,
  consumedAt: OptionalTimestamp
}) {
  get isConsumed(): boolean {
    return Option.isSome(this.consumedAt)
  }
}

/** Pending → consumed; an already consumed session is refused before any write. */
export const consumeUserRecoverySession = (session: UserRecoverySession, now: Date): Transition<UserRecoverySession> =>
  Option.isSome(session.consumedAt)
    ? invalidTransition("UserRecoverySession", "Consumed", "consume")
    : Either.right(copy(UserRecoverySession, session, { consumedAt: Option.some(now) }))

export class UserRecoveryTicket extends Schema.Class<UserRecoveryTicket>("UserRecoveryTicket")({
  id: Ulid,
  userRecoverySessionId: Ulid,
  userEmailId: Ulid,
  ticket: Schema.String,
  createdAt: Timestamp,
  expiresAt: Timestamp
}) {
  /** Usable while `now < expiresAt` (as MAS's `active`). */
  isValid(now: Date): boolean {
    return now.getTime() < this.expiresAt.getTime()
  }
}

// ---------------------------------------------------------------------------------------------
// Registration

export class UserRegistrationPassword extends Schema.Class<UserRegistrationPassword>("UserRegistrationPassword")({
  hashedPassword: Schema.String,
  version: PasswordVersion
}) {}

export class UserRegistration extends Schema.Class<UserRegistration>("UserRegistration")({
  id: Ulid,
  username: Schema.String,
  displayName: OptionalString,
  termsUrl: Schema.OptionFromSelf(Url),
  emailAuthenticationId: OptionalUlid,
  userRegistrationTokenId: OptionalUlid,
  password: Schema.OptionFromSelf(UserRegistrationPassword),
  upstreamOAuthAuthorizationSessionId: OptionalUlid,
  postAuthAction: Schema.OptionFromSelf(Json),
  ipAddress: OptionalIp,
  userAgent: OptionalString,
  createdAt: Timestamp,
  completedAt: OptionalTimestamp
}) {
  get isCompleted(): boolean {
    return Option.isSome(this.completedAt)
  }
}

export type UserRegistrationPatch = Partial<
  Pick<
    UserRegistration,
    | "displayName"
    | "termsUrl"
    | "emailAuthenticationId"
    | "userRegistrationTokenId"
    | "password"
    | "upstreamOAuthAuthorizationSessionId"
  >
>

/** Every setter applies only while the registration is pending (the repositories guard it in the database too). */
export const updateUserRegistration = (
  registration: UserRegistration,
  patch: UserRegistrationPatch,
  transition = "update"
): Transition<UserRegistration> =>
  Option.isSome(registration.completedAt)
    ? invalidTransition("UserRegistration", "Completed", transition)
    : Either.right(copy(UserRegistration, registration, patch))

export const completeUserRegistration = (registration: UserRegistration, now: Date): Transition<UserRegistration> =>
  updateUserRegistration(registration, {}, "complete").pipe(
    Either.map((r) => copy(UserRegistration, r, { completedAt: Option.some(now) }))
  )

// ---------------------------------------------------------------------------------------------
// Registration tokens

export class UserRegistrationToken extends Schema.Class<UserRegistrationToken>("UserRegistrationToken")({
  id: Ulid,
  token: Schema.String,
  usageLimit: Schema.OptionFromSelf(Count),
  timesUsed: Count,
  createdAt: Timestamp,
  lastUsedAt: OptionalTimestamp,
  expiresAt: OptionalTimestamp,
  revokedAt: OptionalTimestamp
}) {
  get isRevoked(): boolean {
    return Option.isSome(this.revokedAt)
  }
  /** Expired once `now >= expiresAt` (one rule for the entity and the filter). */
  isExpired(now: Date): boolean {
    return Option.exists(this.expiresAt, (e) => now.getTime() >= e.getTime())
  }
  get hasBeenUsed(): boolean {
    return this.timesUsed > 0
  }
  isValid(now: Date): boolean {
    return (
      !this.isRevoked &&
      !this.isExpired(now) &&
      Option.match(this.usageLimit, { onNone: () => true, onSome: (limit) => this.timesUsed < limit })
    )
  }
}

/** One more use; only a revoked token is refused (callers check `isValid` first). */
export const useUserRegistrationToken = (token: UserRegistrationToken, now: Date): Transition<UserRegistrationToken> =>
  token.isRevoked
    ? invalidTransition("UserRegistrationToken", "Revoked", "use")
    : Either.right(copy(UserRegistrationToken, token, { timesUsed: token.timesUsed + 1, lastUsedAt: Option.some(now) }))

/** Allowed from any state (re-stamps a revoked token, as the repository does). */
export const revokeUserRegistrationToken = (
  token: UserRegistrationToken,
  now: Date
): Transition<UserRegistrationToken> =>
  Either.right(copy(UserRegistrationToken, token, { revokedAt: Option.some(now) }))

export const unrevokeUserRegistrationToken = (token: UserRegistrationToken): Transition<UserRegistrationToken> =>
  Either.right(copy(UserRegistrationToken, token, { revokedAt: Option.none() }))

export const setUserRegistrationTokenExpiry = (
  token: UserRegistrationToken,
  expiresAt: Option.Option<Date>
): UserRegistrationToken => copy(UserRegistrationToken, token, { expiresAt })

export const setUserRegistrationTokenUsageLimit = (
  token: UserRegistrationToken,
  usageLimit: Option.Option<number>
): UserRegistrationToken => copy(UserRegistrationToken, token, { usageLimit })

// ---------------------------------------------------------------------------------------------
// Browser sessions

/**
 * Active while unfinished and its user is valid (neither locked nor deactivated), as MAS's `BrowserSession::active`.
 * No state union: finishing again re-stamps, as in MAS.
 */
export class BrowserSession extends Schema.Class<BrowserSession>("BrowserSession")({
  id: Ulid,
  user: User,
  createdAt: Timestamp,
  finishedAt: OptionalTimestamp,
  userAgent: OptionalString,
  lastActiveAt: OptionalTimestamp,
  lastActiveIp: OptionalIp
}) {
  get isActive(): boolean {
    return Option.isNone(this.finishedAt) && this.user.isValid
  }
  get isValid(): boolean {
    return this.isActive
  }
}

/**
 * The states of the session filter, which look at `finished_at` alone (as MAS's filter): `active` selects unfinished
 * sessions whatever their user, so finishing the "active" sessions of a user just locked or deactivated finishes them.
 */
export const BrowserSessionState = Schema.Literal("active", "finished")
export type BrowserSessionState = typeof BrowserSessionState.Type

/** Always allowed: an already finished session is re-stamped (MAS behaviour kept by the domain). */
export const finishBrowserSession = (session: BrowserSession, now: Date): Transition<BrowserSession> =>
  Either.right(copy(BrowserSession, session, { finishedAt: Option.some(now) }))

export class AuthenticationMethodPassword extends Schema.TaggedClass<AuthenticationMethodPassword>(
  "AuthenticationMethodPassword"
)("Password", {
  userPasswordId: Ulid
}) {}

export class AuthenticationMethodUpstreamOAuth2 extends Schema.TaggedClass<AuthenticationMethodUpstreamOAuth2>(
  "AuthenticationMethodUpstreamOAuth2"
)("UpstreamOAuth2", { upstreamOAuth2SessionId: Ulid }) {}

export class AuthenticationMethodUnknown extends Schema.TaggedClass<AuthenticationMethodUnknown>(
  "AuthenticationMethodUnknown"
)("Unknown", {}) {}

export const AuthenticationMethod = Schema.Union(
  AuthenticationMethodPassword,
  AuthenticationMethodUpstreamOAuth2,
  AuthenticationMethodUnknown
)
export type AuthenticationMethod = typeof AuthenticationMethod.Type

export class Authentication extends Schema.Class<Authentication>("Authentication")({
  id: Ulid,
  createdAt: Timestamp,
  authenticationMethod: AuthenticationMethod
}) {}
