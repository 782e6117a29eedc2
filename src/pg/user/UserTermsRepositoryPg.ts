// UserTermsRepository on PostgreSQL: one idempotent insert.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { USER_TERMS } from "../../rows/user/userTerms.js"
import { UserTermsRepository } from "../../storage/user/UserTermsRepository.js"
import { staticQuery } from "../query.js"
import { traced } from "../common/tracing.js"

// Accepting again meets the (user_id, terms_url) constraint: DO NOTHING keeps the unit of work usable (§1.8).
// No conflict target, as memory's insertIgnoringConflict ignores any key conflict (a fresh id never collides anyway).
const acceptTerms = staticQuery({
  name: "userTerms.acceptTerms",
  table: USER_TERMS,
  text:
    `INSERT INTO user_terms (user_terms_id, user_id, terms_url, created_at) VALUES ($1, $2, $3, $4) ` +
    `ON CONFLICT DO NOTHING`,
  params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
  row: Schema.Struct({})
})

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const provide = Effect.provideService(SqlClient.SqlClient, sql)

  return UserTermsRepository.of({
    acceptTerms: (user, termsUrl) =>
      provide(
        Effect.gen(function* () {
          const at = yield* now
          const id = yield* generateUlid
          yield* acceptTerms.affected(id, user.id, termsUrl, at)
        })
      )
  })
})

export const layer: Layer.Layer<UserTermsRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserTermsRepository,
  Effect.map(make, traced("userTerms"))
)
