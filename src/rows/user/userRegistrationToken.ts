// Stored rows of `user_registration_tokens`, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to entities.
import { Option, Schema } from "effect"
import { Count, Timestamp } from "../../model/common.js"
import { UserRegistrationToken } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const storedUserRegistrationToken = storedEntity(UserRegistrationToken)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760).
const NullableTimestamp = Schema.NullOr(Timestamp)

export const USER_REGISTRATION_TOKENS = "user_registration_tokens"

/**
 * `user_registration_tokens`. The counters are plain INTEGER columns: a negative one cannot become an entity, and
 * decoding refuses it here so that both backends name the table, the column and the row alike.
 */
export const UserRegistrationTokenRow = Schema.Struct({
  user_registration_token_id: UlidFromUuid,
  token: Schema.String,
  usage_limit: Schema.NullOr(Count),
  times_used: Count,
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  expires_at: NullableTimestamp,
  revoked_at: NullableTimestamp
})
export type UserRegistrationTokenRow = typeof UserRegistrationTokenRow.Type

// Rows are validated when decoded (PostgreSQL) or read (memory), so the constructor skips a second validation.
export const userRegistrationTokenFromRow = (row: UserRegistrationTokenRow): UserRegistrationToken =>
  storedUserRegistrationToken({
    id: row.user_registration_token_id,
    token: row.token,
    usageLimit: Option.fromNullable(row.usage_limit),
    timesUsed: row.times_used,
    createdAt: row.created_at,
    lastUsedAt: Option.fromNullable(row.last_used_at),
    expiresAt: Option.fromNullable(row.expires_at),
    revokedAt: Option.fromNullable(row.revoked_at)
  })

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
