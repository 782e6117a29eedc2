// Stored rows of user_emails and the email-authentication tables, shared by both backends: schemas, entity mapping, and the rules both apply alike.
import { Option, Schema } from "effect"
import { UserEmail, UserEmailAuthentication, UserEmailAuthenticationCode } from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const storedUserEmail = storedEntity(UserEmail)
const storedUserEmailAuthentication = storedEntity(UserEmailAuthentication)
const storedUserEmailAuthenticationCode = storedEntity(UserEmailAuthenticationCode)

// A valid Date only: PostgreSQL can hold instants a Date cannot (e.g. 'infinity'), which are inconsistencies.
const Instant = Schema.ValidDateFromSelf
const NullableInstant = Schema.NullOr(Instant)
const NullableUlid = Schema.NullOr(UlidFromUuid)

/** `user_emails` */
export const UserEmailRow = Schema.Struct({
  user_email_id: UlidFromUuid,
  user_id: UlidFromUuid,
  email: Schema.String,
  created_at: Instant
})
export type UserEmailRow = typeof UserEmailRow.Type

export const userEmailFromRow = (row: UserEmailRow): UserEmail =>
  storedUserEmail({ id: row.user_email_id, userId: row.user_id, email: row.email, createdAt: row.created_at })

export const userEmailToRow = (email: UserEmail): UserEmailRow => ({
  user_email_id: email.id,
  user_id: email.userId,
  email: email.email,
  created_at: email.createdAt
})

/** `user_email_authentications`: pending while completed_at is null; every tuple is a valid state. */
export const UserEmailAuthenticationRow = Schema.Struct({
  user_email_authentication_id: UlidFromUuid,
  user_session_id: NullableUlid,
  user_registration_id: NullableUlid,
  email: Schema.String,
  created_at: Instant,
  completed_at: NullableInstant
})
export type UserEmailAuthenticationRow = typeof UserEmailAuthenticationRow.Type

export const userEmailAuthenticationFromRow = (row: UserEmailAuthenticationRow): UserEmailAuthentication =>
  storedUserEmailAuthentication({
    id: row.user_email_authentication_id,
    userSessionId: Option.fromNullable(row.user_session_id),
    userRegistrationId: Option.fromNullable(row.user_registration_id),
    email: row.email,
    createdAt: row.created_at,
    completedAt: Option.fromNullable(row.completed_at)
  })

export const userEmailAuthenticationToRow = (authentication: UserEmailAuthentication): UserEmailAuthenticationRow => ({
  user_email_authentication_id: authentication.id,
  user_session_id: Option.getOrNull(authentication.userSessionId),
  user_registration_id: Option.getOrNull(authentication.userRegistrationId),
  email: authentication.email,
  created_at: authentication.createdAt,
  completed_at: Option.getOrNull(authentication.completedAt)
})

/** `user_email_authentication_codes` */
export const UserEmailAuthenticationCodeRow = Schema.Struct({
  user_email_authentication_code_id: UlidFromUuid,
  user_email_authentication_id: UlidFromUuid,
  code: Schema.String,
  created_at: Instant,
  expires_at: Instant
})
export type UserEmailAuthenticationCodeRow = typeof UserEmailAuthenticationCodeRow.Type

export const userEmailAuthenticationCodeFromRow = (row: UserEmailAuthenticationCodeRow): UserEmailAuthenticationCode =>
  storedUserEmailAuthenticationCode({
    id: row.user_email_authentication_code_id,
    userEmailAuthenticationId: row.user_email_authentication_id,
    code: row.code,
    createdAt: row.created_at,
    expiresAt: row.expires_at
  })

export const userEmailAuthenticationCodeToRow = (
  code: UserEmailAuthenticationCode
): UserEmailAuthenticationCodeRow => ({
  user_email_authentication_code_id: code.id,
  user_email_authentication_id: code.userEmailAuthenticationId,
  code: code.code,
  created_at: code.createdAt,
  expires_at: code.expiresAt
})

// ---------------------------------------------------------------------------------------------
// Rules both backends apply identically

/**
 * `find`: the user's addresses equal ignoring case (at most a few case variants, in id order).
 * The exact-case one wins; otherwise the oldest, so the answer never depends on storage order.
 */
export const pickCaseVariant = <R extends { readonly email: string }>(
  rows: ReadonlyArray<R>,
  email: string
): Option.Option<R> =>
  Option.orElse(Option.fromNullable(rows.find((r) => r.email === email)), () => Option.fromNullable(rows[0]))

/** `findByEmail`: an address only when exactly one row matched. */
export const onlyMatch = <R>(rows: ReadonlyArray<R>): Option.Option<R> =>
  rows.length === 1 ? Option.some(rows[0]!) : Option.none()

/** ULID-keyed cleanup selects `since < id <= until` (storage rule: Cleanups). */
export const inCleanupRange = (id: Ulid, since: Option.Option<Ulid>, until: Ulid): boolean =>
  (Option.isNone(since) || id > since.value) && id <= until
