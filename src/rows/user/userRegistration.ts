// Stored rows of `user_registrations`, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the checked mapping to the entity.
import { Either, Option, Schema } from "effect"
import { UserRegistration, UserRegistrationPassword } from "../../model/user.js"
import { type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { IpAddressFromSelf, isJson, type Json, Url } from "../../model/values.js"
import { InconsistencyError } from "../../storage/common/errors.js"
import { stateDecodeFailure, type StateDecodeResult } from "../state.js"

const NullableDate = Schema.NullOr(Schema.DateFromSelf)
const NullableString = Schema.NullOr(Schema.String)

export const USER_REGISTRATIONS = "user_registrations"

/**
 * `user_registrations`. Columns whose text has rules (IP, URL, JSON, the password pair) are kept
 * raw here and checked by `userRegistrationFromRow`, so that memory, which stores this Type side
 * without a driver in between, rejects exactly the rows PostgreSQL's would.
 */
export const UserRegistrationRow = Schema.Struct({
  user_registration_id: UlidFromUuid,
  ip_address: NullableString,
  user_agent: NullableString,
  post_auth_action: Schema.NullOr(Schema.Unknown),
  username: Schema.String,
  display_name: NullableString,
  terms_url: NullableString,
  email_authentication_id: Schema.NullOr(UlidFromUuid),
  user_registration_token_id: Schema.NullOr(UlidFromUuid),
  upstream_oauth_authorization_session_id: Schema.NullOr(UlidFromUuid),
  hashed_password: NullableString,
  hashed_password_version: Schema.NullOr(Schema.Number),
  created_at: Schema.DateFromSelf,
  completed_at: NullableDate
})
export type UserRegistrationRow = typeof UserRegistrationRow.Type

/** The stored password columns: both set or both null. */
export interface UserRegistrationPasswordColumns {
  readonly hashedPassword: string | null
  readonly hashedPasswordVersion: number | null
}

export const decodeUserRegistrationPassword = (
  columns: UserRegistrationPasswordColumns
): StateDecodeResult<Option.Option<UserRegistrationPassword>> => {
  const { hashedPassword, hashedPasswordVersion } = columns
  if (hashedPassword === null && hashedPasswordVersion === null) return Either.right(Option.none())
  if (hashedPassword !== null && hashedPasswordVersion !== null) {
    return Schema.decodeEither(UserRegistrationPassword)({ hashedPassword, version: hashedPasswordVersion }).pipe(
      Either.map(Option.some),
      Either.mapLeft(() =>
        stateDecodeFailure("hashed_password_version", `invalid password version ${hashedPasswordVersion}`)
      )
    )
  }
  return Either.left(
    stateDecodeFailure(
      hashedPassword === null ? "hashed_password" : "hashed_password_version",
      "hashed password and its version must be both set or both null"
    )
  )
}

const inconsistent = (row: Ulid, column: string | undefined, cause: unknown) =>
  new InconsistencyError({
    table: USER_REGISTRATIONS,
    column: Option.fromNullable(column),
    row: Option.some(row),
    cause: Option.some(cause)
  })

/** A nullable column whose non-null value must satisfy `valid`. */
const checked = <A>(
  row: UserRegistrationRow,
  column: keyof UserRegistrationRow,
  valid: (u: unknown) => u is A
): Either.Either<Option.Option<A>, InconsistencyError> => {
  const value = row[column]
  if (value === null) return Either.right(Option.none())
  return valid(value)
    ? Either.right(Option.some(value))
    : Either.left(inconsistent(row.user_registration_id, column, `invalid ${column}: ${JSON.stringify(value)}`))
}

const isIp = Schema.is(IpAddressFromSelf)
const isUrl = Schema.is(Url)

/** The entity, or an InconsistencyError naming the column and row that cannot be decoded. */
export const userRegistrationFromRow = (row: UserRegistrationRow): Either.Either<UserRegistration, InconsistencyError> =>
  Either.gen(function* () {
    const id = row.user_registration_id
    const ipAddress = yield* checked(row, "ip_address", isIp)
    const termsUrl = yield* checked(row, "terms_url", isUrl)
    const postAuthAction = yield* checked(row, "post_auth_action", isJson)
    const password = yield* Either.mapLeft(
      decodeUserRegistrationPassword({ hashedPassword: row.hashed_password, hashedPasswordVersion: row.hashed_password_version }),
      (failure) => inconsistent(id, Option.getOrUndefined(failure.column), failure.reason)
    )
    // The constructor re-validates every field; what is left to fail (e.g. an invalid date) has no one column to name.
    return yield* Either.try({
      try: () =>
        new UserRegistration({
          id,
          username: row.username,
          displayName: Option.fromNullable(row.display_name),
          termsUrl,
          emailAuthenticationId: Option.fromNullable(row.email_authentication_id),
          userRegistrationTokenId: Option.fromNullable(row.user_registration_token_id),
          password,
          upstreamOAuthAuthorizationSessionId: Option.fromNullable(row.upstream_oauth_authorization_session_id),
          postAuthAction,
          ipAddress,
          userAgent: Option.fromNullable(row.user_agent),
          createdAt: row.created_at,
          completedAt: Option.fromNullable(row.completed_at)
        }),
      catch: (cause) => inconsistent(id, undefined, cause)
    })
  })

export const userRegistrationToRow = (registration: UserRegistration): UserRegistrationRow => ({
  user_registration_id: registration.id,
  ip_address: Option.getOrNull(registration.ipAddress),
  user_agent: Option.getOrNull(registration.userAgent),
  post_auth_action: Option.getOrNull(registration.postAuthAction) as Json | null,
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
