// UserTermsRepository in memory: the same idempotent insert as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { USER_TERMS, type UserTermsRow } from "../../rows/user/userTerms.js"
import { UserTermsRepository } from "../../storage/user/UserTermsRepository.js"
import { MemoryStore } from "../MemoryStore.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore

  return UserTermsRepository.of({
    acceptTerms: (user, termsUrl) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ termsUrl })
        const url = yield* normaliseUrl("termsUrl", termsUrl)
        const row: UserTermsRow = {
          user_terms_id: yield* generateUlid,
          user_id: user.id,
          terms_url: url,
          created_at: yield* now
        }
        // A second acceptance meets the (user_id, terms_url) constraint and is ignored; a missing user still fails.
        yield* store.write((db) => Either.map(db.insertIgnoringConflict(USER_TERMS, row), ([next]) => [undefined, next] as const))
      })
  })
})

export const layer: Layer.Layer<UserTermsRepository, never, MemoryStore> = Layer.effect(UserTermsRepository, make)
