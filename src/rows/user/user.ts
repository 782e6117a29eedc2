// Stored rows of the user tables, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to entities.
import { Option, Schema } from "effect"
import { User } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

/** `users` */
export const UserRow = Schema.Struct({
  user_id: UlidFromUuid,
  username: Schema.String,
  created_at: Schema.DateFromSelf,
  locked_at: NullableDate,
  deactivated_at: NullableDate,
  can_request_admin: Schema.Boolean,
  is_guest: Schema.Boolean
})
export type UserRow = typeof UserRow.Type

const storedUser = storedEntity(User)

export const userFromRow = (row: UserRow): User =>
  storedUser({
    id: row.user_id,
    username: row.username,
    createdAt: row.created_at,
    lockedAt: Option.fromNullable(row.locked_at),
    deactivatedAt: Option.fromNullable(row.deactivated_at),
    canRequestAdmin: row.can_request_admin,
    isGuest: row.is_guest
  })

export const userToRow = (user: User): UserRow => ({
  user_id: user.id,
  username: user.username,
  created_at: user.createdAt,
  locked_at: Option.getOrNull(user.lockedAt),
  deactivated_at: Option.getOrNull(user.deactivatedAt),
  can_request_admin: user.canRequestAdmin,
  is_guest: user.isGuest
})
