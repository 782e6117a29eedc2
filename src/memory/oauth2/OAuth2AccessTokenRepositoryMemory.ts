// OAuth2AccessTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { markAccessTokenUsed, revokeAccessToken } from "../../model/oauth2/accessToken.js"
import { generateUlid } from "../../model/Ulid.js"
import {
  AccessTokenRow,
  accessTokenFromRow,
  newAccessTokenRow,
  OAUTH2_ACCESS_TOKENS
} from "../../rows/oauth2/accessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { OAuth2AccessTokenRepository } from "../../storage/oauth2/OAuth2AccessTokenRepository.js"
import { timestampCleanup } from "../common/cleanup.js"
import { requireUlid } from "../common/parameters.js"
import { MemoryStore } from "../MemoryStore.js"
import { exactlyOne, memoryTable } from "../Table.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: OAUTH2_ACCESS_TOKENS,
    idColumn: "oauth2_access_token_id",
    row: AccessTokenRow
  })

  /** The twin of the PostgreSQL cleanup statements: a batch by `key`, deleted in one write (refresh tokens' pointers cleared). */
  const cleanupBy = (key: (row: AccessTokenRow) => Date | null) =>
    timestampCleanup(store, tokens, { key, id: (r) => r.oauth2_access_token_id })

  return OAuth2AccessTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(accessTokenFromRow)),

    findByToken: (accessToken) =>
      Effect.zipRight(
        checkWellFormed({ accessToken }),
        Effect.map(
          tokens.find((r) => r.access_token === accessToken, accessToken),
          Option.map(accessTokenFromRow)
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
        const row = newAccessTokenRow(session, accessToken, id, at, expiresAt)
        yield* exactlyOne(tokens.insertIgnoringConflict(row))
        return accessTokenFromRow(row)
      }),

    // `… AND revoked_at IS NULL`, as PostgreSQL's guarded statement.
    revoke: (accessToken) =>
      guardedTransition({
        transition: (at) => revokeAccessToken(accessToken, at),
        write: (at) =>
          tokens.updateGuarded(
            accessToken.id,
            (r) => r.revoked_at === null,
            (r) => ({ ...r, revoked_at: at })
          )
      }),

    markUsed: (accessToken) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* tokens.updateOne(accessToken.id, (r) => ({ ...r, first_used_at: at }))
        return markAccessTokenUsed(accessToken, at)
      }),

    cleanupRevoked: cleanupBy((r) => r.revoked_at),
    cleanupExpired: cleanupBy((r) => r.expires_at)
  })
})

export const layer: Layer.Layer<OAuth2AccessTokenRepository, never, MemoryStore> = Layer.effect(
  OAuth2AccessTokenRepository,
  make
)
