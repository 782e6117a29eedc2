// Stored rows of `user_registration_tokens`, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to entities.
import { Either, Option, Schema } from "effect"
import { UserRegistrationToken } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { InconsistencyError } from "../../storage/common/errors.js"

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

export const USER_REGISTRATION_TOKENS = "user_registration_tokens"

/** `user_registration_tokens` */
export const UserRegistrationTokenRow = Schema.Struct({
  user_registration_token_id: UlidFromUuid,
  token: Schema.String,
  usage_limit: Schema.NullOr(Schema.Number),
  times_used: Schema.Number,
  created_at: Schema.DateFromSelf,
  last_used_at: NullableDate,
  expires_at: NullableDate,
  revoked_at: NullableDate
})
export type UserRegistrationTokenRow = typeof UserRegistrationTokenRow.Type

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0

// The counters are plain INTEGER columns: a negative one cannot become an entity, and both backends must reject it alike.
const inconsistent = (row: UserRegistrationTokenRow, column: string, value: number) =>
  Either.left(
    new InconsistencyError({
      table: USER_REGISTRATION_TOKENS,
      column: Option.some(column),
      row: Option.some(row.user_registration_token_id),
      cause: Option.some(`${column} must be a non-negative integer, got ${value}`)
    })
  )

/** The entity of a stored row, or the InconsistencyError naming the column that cannot be one. */
export const userRegistrationTokenFromRow = (
  row: UserRegistrationTokenRow
): Either.Either<UserRegistrationToken, InconsistencyError> => {
  if (row.usage_limit !== null && !isCount(row.usage_limit)) return inconsistent(row, "usage_limit", row.usage_limit)
  if (!isCount(row.times_used)) return inconsistent(row, "times_used", row.times_used)
  return Either.right(
    new UserRegistrationToken({
      id: row.user_registration_token_id,
      token: row.token,
      usageLimit: Option.fromNullable(row.usage_limit),
      timesUsed: row.times_used,
      createdAt: row.created_at,
      lastUsedAt: Option.fromNullable(row.last_used_at),
      expiresAt: Option.fromNullable(row.expires_at),
      revokedAt: Option.fromNullable(row.revoked_at)
    }, true)
  )
}

export const userRegistrationTokenToRow = (token: UserRegistrationToken): UserRegistrationTokenRow => ({
  user_registration_token_id: token.id,
  token: token.token,
  usage_limit: Option.getOrNull(token.usageLimit),
  times_used: token.timesUsed,
  created_at: token.createdAt,
  last_used_at: Option.getOrNull(token.lastUsedAt),
  expires_at: Option.getOrNull(token.expiresAt),
  revoked_at: Option.getOrNull(token.revokedAt)
})
