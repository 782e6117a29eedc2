// CompatAccessTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { expireCompatAccessToken } from "../../model/compat.js"
import {
  COMPAT_ACCESS_TOKENS,
  CompatAccessTokenRow,
  compatAccessTokenFromRow,
  newCompatAccessTokenRow
} from "../../rows/compat/compatAccessToken.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { CompatAccessTokenRepository } from "../../storage/compat/CompatAccessTokenRepository.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { addAccessTokenWith } from "../../storage/common/tokens.js"
import { findByTokenText, insertTokenRow } from "../common/tokens.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: COMPAT_ACCESS_TOKENS,
    idColumn: "compat_access_token_id",
    row: CompatAccessTokenRow
  })

  return CompatAccessTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(compatAccessTokenFromRow)),

    findByToken: findByTokenText(tokens, "accessToken", (r) => r.access_token, compatAccessTokenFromRow),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: addAccessTokenWith({
      newRow: newCompatAccessTokenRow,
      insert: insertTokenRow(tokens),
      fromRow: compatAccessTokenFromRow
    }),

    // Unguarded, as PostgreSQL's statement: only a missing row fails.
    expire: (accessToken) =>
      guardedTransition({
        transition: (at) => expireCompatAccessToken(accessToken, at),
        write: (at) => tokens.updateOne(accessToken.id, (r) => ({ ...r, expires_at: at }))
      })
  })
})

export const layer: Layer.Layer<CompatAccessTokenRepository, never, MemoryStore> = Layer.effect(
  CompatAccessTokenRepository,
  make
)
