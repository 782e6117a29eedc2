// Stored rows of `user_passwords`, shared by both backends: the Schema PostgreSQL rows decode with, the type memory stores, and the mapping to entities.
import { Option, Schema } from "effect"
import { Password, PasswordVersion } from "../../model/user.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { storedEntity } from "../common.js"

const storedPassword = storedEntity(Password)

// Valid dates only: PostgreSQL can hold instants JavaScript cannot ('infinity', years past 275760),
// and such a row must be an inconsistency rather than a defect in the entity constructor.
const Instant = Schema.ValidDateFromSelf

/** `user_passwords` */
export const UserPasswordRow = Schema.Struct({
  user_password_id: UlidFromUuid,
  user_id: UlidFromUuid,
  hashed_password: Schema.String,
  version: PasswordVersion,
  upgraded_from_id: Schema.NullOr(UlidFromUuid),
  created_at: Instant
})
export type UserPasswordRow = typeof UserPasswordRow.Type

export const passwordFromRow = (row: UserPasswordRow): Password =>
  storedPassword({
    id: row.user_password_id,
    hashedPassword: row.hashed_password,
    version: row.version,
    upgradedFromId: Option.fromNullable(row.upgraded_from_id),
    createdAt: row.created_at
  })
