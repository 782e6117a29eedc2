// OAuth2AccessTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { markAccessTokenUsed, revokeAccessToken } from "../../model/oauth2/accessToken.js"
import {
  AccessTokenRow,
  accessTokenFromRow,
  newAccessTokenRow,
  OAUTH2_ACCESS_TOKENS
} from "../../rows/oauth2/accessToken.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { OAuth2AccessTokenRepository } from "../../storage/oauth2/OAuth2AccessTokenRepository.js"
import { timestampCleanup } from "../common/cleanup.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { addAccessTokenWith } from "../../storage/common/tokens.js"
import { findByTokenText, insertTokenRow } from "../common/tokens.js"

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

    findByToken: findByTokenText(tokens, "accessToken", (r) => r.access_token, accessTokenFromRow),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: addAccessTokenWith({ newRow: newAccessTokenRow, insert: insertTokenRow(tokens), fromRow: accessTokenFromRow }),

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
