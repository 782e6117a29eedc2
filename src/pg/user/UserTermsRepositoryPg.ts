// UserTermsRepository on PostgreSQL: one idempotent insert.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { USER_TERMS, UserTermsRow } from "../../rows/user/userTerms.js"
import { UserTermsRepository } from "../../storage/user/UserTermsRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const q = repositoryQueries({ prefix: "userTerms", table: USER_TERMS, idColumn: "user_terms_id", row: UserTermsRow })

const statements = q.statements({
  // Accepting again meets the (user_id, terms_url) constraint: DO NOTHING keeps the unit of work usable (storage rule: Conflicts).
  // No conflict target, as memory's insertIgnoringConflict ignores any key conflict (a fresh id never collides anyway).
  acceptTerms: {
    text:
      `INSERT INTO user_terms (user_terms_id, user_id, terms_url, created_at) VALUES ($1, $2, $3, $4) ` +
      `ON CONFLICT DO NOTHING`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const db = bindAll(yield* SqlClient.SqlClient, statements)

  return UserTermsRepository.of({
    acceptTerms: (user, termsUrl) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ termsUrl })
        const url = yield* normaliseUrl("termsUrl", termsUrl)
        const at = yield* now
        const id = yield* generateUlid
        yield* db.acceptTerms.affected(id, user.id, url, at)
      })
  })
})

export const layer: Layer.Layer<UserTermsRepository, never, SqlClient.SqlClient> = Layer.effect(
  UserTermsRepository,
  Effect.map(make, traced("userTerms"))
)
