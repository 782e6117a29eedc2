// Stored rows of `user_terms` (accepted terms of service), shared by both backends: nothing reads them back, so there is no entity.
import { Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"

export const USER_TERMS = "user_terms"

/** `user_terms`: one row per (user, terms URL). */
export const UserTermsRow = Schema.Struct({
  user_terms_id: UlidFromUuid,
  user_id: UlidFromUuid,
  terms_url: Schema.String,
  created_at: Schema.DateFromSelf
})
export type UserTermsRow = typeof UserTermsRow.Type
