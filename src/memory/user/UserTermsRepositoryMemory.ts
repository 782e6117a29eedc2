// UserTermsRepository in memory: the same idempotent insert as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer } from "effect"
import { generateUlid } from "../../model/Ulid.js"
import { now } from "../../storage/common/time.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { normaliseUrl } from "../../storage/common/url.js"
import { USER_TERMS, UserTermsRow } from "../../rows/user/userTerms.js"
import { UserTermsRepository } from "../../storage/user/UserTermsRepository.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"

export const make = Effect.gen(function* () {
  const terms = memoryTable(yield* MemoryStore, { table: USER_TERMS, idColumn: "user_terms_id", row: UserTermsRow })

  return UserTermsRepository.of({
    acceptTerms: (user, termsUrl) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ termsUrl })
        const url = yield* normaliseUrl("termsUrl", termsUrl)
        const at = yield* now
        const id = yield* generateUlid
        // A second acceptance meets the (user_id, terms_url) constraint and is ignored; a missing user still fails.
        yield* terms.insertIgnoringConflict({ user_terms_id: id, user_id: user.id, terms_url: url, created_at: at })
      })
  })
})

export const layer: Layer.Layer<UserTermsRepository, never, MemoryStore> = Layer.effect(UserTermsRepository, make)
