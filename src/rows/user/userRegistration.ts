// Stored rows of `user_registrations`, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to the entity.
import { Either, Option, Schema } from "effect"
import { Timestamp } from "../../model/common.js"
import { PasswordVersion, UserRegistration, UserRegistrationPassword } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf, isJson, type Json, Url } from "../../model/values.js"
import { refusedState, stateDecodeFailure, type StateDecodeResult } from "../state.js"
import { storedEntity } from "../common.js"

const storedUserRegistration = storedEntity(UserRegistration)
const storedUserRegistrationPassword = storedEntity(UserRegistrationPassword)

const NullableString = Schema.NullOr(Schema.String)
const NullableUlid = Schema.NullOr(UlidFromUuid)

export const USER_REGISTRATIONS = "user_registrations"

/** The stored password columns: both set or both null. */
export interface UserRegistrationPasswordColumns {
  readonly hashedPassword: string | null
  readonly hashedPasswordVersion: number | null
}

/** The password of a pair `decodeUserRegistrationPassword` accepts: none when both columns are null. */
const passwordOf = (columns: UserRegistrationPasswordColumns): Option.Option<UserRegistrationPassword> =>
  columns.hashedPassword === null || columns.hashedPasswordVersion === null
    ? Option.none()
    : Option.some(
        storedUserRegistrationPassword({
          hashedPassword: columns.hashedPassword,
          version: columns.hashedPasswordVersion
        })
      )

export const decodeUserRegistrationPassword = (
  columns: UserRegistrationPasswordColumns
): StateDecodeResult<Option.Option<UserRegistrationPassword>> => {
  const { hashedPassword, hashedPasswordVersion } = columns
  if ((hashedPassword === null) !== (hashedPasswordVersion === null)) {
    return Either.left(
      stateDecodeFailure(
        hashedPassword === null ? "hashed_password" : "hashed_password_version",
        "hashed password and its version must be both set or both null"
      )
    )
  }
  if (hashedPasswordVersion !== null && !Schema.is(PasswordVersion)(hashedPasswordVersion)) {
    return Either.left(
      stateDecodeFailure("hashed_password_version", `invalid password version ${hashedPasswordVersion}`)
    )
  }
  return Either.right(passwordOf(columns))
}

const passwordColumns = (row: {
  readonly hashed_password: string | null
  readonly hashed_password_version: number | null
}): UserRegistrationPasswordColumns => ({
  hashedPassword: row.hashed_password,
  hashedPasswordVersion: row.hashed_password_version
})

/**
 * `user_registrations`. Columns whose text has rules (IP, URL, JSON) are checked by their field, the password pair by
 * the row's filter; memory decodes the rows it stores with this schema's type side, so both backends refuse the same
 * rows, naming the column.
 */
export const UserRegistrationRow = Schema.Struct({
  user_registration_id: UlidFromUuid,
  // inet may also hold a network ("10.0.0.0/8"); only a canonical host address is a valid IpAddress.
  ip_address: Schema.NullOr(IpAddressFromSelf),
  user_agent: NullableString,
  post_auth_action: Schema.NullOr(Schema.Unknown.pipe(Schema.filter((u): u is Json => isJson(u)))),
  username: Schema.String,
  display_name: NullableString,
  terms_url: Schema.NullOr(Url),
  email_authentication_id: NullableUlid,
  user_registration_token_id: NullableUlid,
  upstream_oauth_authorization_session_id: NullableUlid,
  hashed_password: NullableString,
  hashed_password_version: Schema.NullOr(Schema.Number),
  // Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
  created_at: Timestamp,
  completed_at: Schema.NullOr(Timestamp)
}).pipe(Schema.filter((row) => refusedState(decodeUserRegistrationPassword(passwordColumns(row)))))
export type UserRegistrationRow = typeof UserRegistrationRow.Type

// Rows are validated when decoded (PostgreSQL) or read (memory), so the constructor skips a second validation.
export const userRegistrationFromRow = (row: UserRegistrationRow): UserRegistration =>
  storedUserRegistration({
    id: row.user_registration_id,
    username: row.username,
    displayName: Option.fromNullable(row.display_name),
    termsUrl: Option.fromNullable(row.terms_url),
    emailAuthenticationId: Option.fromNullable(row.email_authentication_id),
    userRegistrationTokenId: Option.fromNullable(row.user_registration_token_id),
    password: passwordOf(passwordColumns(row)),
    upstreamOAuthAuthorizationSessionId: Option.fromNullable(row.upstream_oauth_authorization_session_id),
    postAuthAction: Option.fromNullable(row.post_auth_action),
    ipAddress: Option.fromNullable(row.ip_address),
    userAgent: Option.fromNullable(row.user_agent),
    createdAt: row.created_at,
    completedAt: Option.fromNullable(row.completed_at)
  })

export const userRegistrationToRow = (registration: UserRegistration): UserRegistrationRow => ({
  user_registration_id: registration.id,
  ip_address: Option.getOrNull(registration.ipAddress),
  user_agent: Option.getOrNull(registration.userAgent),
  post_auth_action: Option.getOrNull(registration.postAuthAction),
  username: registration.username,
  display_name: Option.getOrNull(registration.displayName),
  terms_url: Option.getOrNull(registration.termsUrl),
  email_authentication_id: Option.getOrNull(registration.emailAuthenticationId),
  user_registration_token_id: Option.getOrNull(registration.userRegistrationTokenId),
  upstream_oauth_authorization_session_id: Option.getOrNull(registration.upstreamOAuthAuthorizationSessionId),
  hashed_password: Option.match(registration.password, { onNone: () => null, onSome: (p) => p.hashedPassword }),
  hashed_password_version: Option.match(registration.password, { onNone: () => null, onSome: (p) => p.version }),
  created_at: registration.createdAt,
  completed_at: Option.getOrNull(registration.completedAt)
})
