// CompatAccessTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { expireCompatAccessToken } from "../../model/compat.js"
import { generateUlid } from "../../model/Ulid.js"
import {
  COMPAT_ACCESS_TOKENS,
  CompatAccessTokenRow,
  compatAccessTokenFromRow,
  newCompatAccessTokenRow
} from "../../rows/compat/compatAccessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { CompatAccessTokenRepository } from "../../storage/compat/CompatAccessTokenRepository.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: COMPAT_ACCESS_TOKENS,
    idColumn: "compat_access_token_id",
    row: CompatAccessTokenRow
  })

  return CompatAccessTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(compatAccessTokenFromRow)),

    findByToken: (accessToken) =>
      Effect.zipRight(
        checkWellFormed({ accessToken }),
        Effect.map(
          tokens.find((r) => r.access_token === accessToken, accessToken),
          Option.map(compatAccessTokenFromRow)
        )
      ),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: (session, accessToken, expiresAfter) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ accessToken })
        const at = yield* now
        const expiresAt = Option.isSome(expiresAfter) ? yield* expiryAfter(at, expiresAfter.value) : null
        const id = yield* generateUlid
        yield* requireUlid(session.id)
        const row = newCompatAccessTokenRow(session, accessToken, id, at, expiresAt)
        yield* exactlyOne(tokens.insertIgnoringConflict(row))
        return compatAccessTokenFromRow(row)
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
