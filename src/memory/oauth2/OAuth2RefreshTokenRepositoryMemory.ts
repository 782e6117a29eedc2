// OAuth2RefreshTokenRepository in memory: the same rows and rules as PostgreSQL, over the MemoryStore's tables.
import { Effect, Layer, Option } from "effect"
import { consumeRefreshToken, revokeRefreshToken } from "../../model/oauth2/refreshToken.js"
import {
  newRefreshTokenRow,
  OAUTH2_REFRESH_TOKENS,
  RefreshTokenRow,
  refreshTokenFromRow
} from "../../rows/oauth2/refreshToken.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { OAuth2RefreshTokenRepository } from "../../storage/oauth2/OAuth2RefreshTokenRepository.js"
import { timestampCleanup } from "../common/cleanup.js"
import { requireUlid } from "../common/parameters.js"
import type { Database } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { addRefreshTokenWith } from "../../storage/common/tokens.js"
import { findByTokenText, insertTokenRow } from "../common/tokens.js"

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const tokens = memoryTable(store, {
    table: OAUTH2_REFRESH_TOKENS,
    idColumn: "oauth2_refresh_token_id",
    row: RefreshTokenRow
  })

  /**
   * The twin of the PostgreSQL cleanup statements: a batch by `key` among the rows `where` selects (judged on the
   * state before the delete, as the statement's CTE sees it), deleted in one write; successor pointers to a deleted
   * token are cleared by the foreign key's ON DELETE SET NULL.
   */
  const cleanupBy = (
    key: (row: RefreshTokenRow) => Date | null,
    where?: (db: Database) => (row: RefreshTokenRow) => boolean
  ) =>
    timestampCleanup(store, tokens, {
      key,
      id: (r) => r.oauth2_refresh_token_id,
      ...(where === undefined ? {} : { where })
    })

  /** The successor is unset or itself consumed (the LEFT JOIN of the PostgreSQL statement). */
  const successorGoneOrConsumed = (db: Database) => (row: RefreshTokenRow) =>
    row.next_oauth2_refresh_token_id === null ||
    Option.exists(
      db.get<RefreshTokenRow>(OAUTH2_REFRESH_TOKENS, row.next_oauth2_refresh_token_id),
      (successor) => successor.consumed_at !== null
    )

  return OAuth2RefreshTokenRepository.of({
    lookup: (id) => Effect.map(tokens.get(id), Option.map(refreshTokenFromRow)),

    findByToken: findByTokenText(tokens, "refreshToken", (r) => r.refresh_token, refreshTokenFromRow),

    // In PostgreSQL's order: the arguments, then the parameters as they are encoded, then the statement.
    add: addRefreshTokenWith({
      newRow: newRefreshTokenRow,
      insert: insertTokenRow(tokens),
      fromRow: refreshTokenFromRow
    }),

    // `… AND revoked_at IS NULL`, as PostgreSQL's guarded statement; a missing successor fails its foreign key.
    consume: (refreshToken, replacedBy) =>
      guardedTransition({
        transition: (at) => consumeRefreshToken(refreshToken, at, replacedBy.id),
        write: (at) =>
          Effect.zipRight(
            requireUlid(refreshToken.id, replacedBy.id),
            tokens.updateGuarded(
              refreshToken.id,
              (r) => r.revoked_at === null,
              (r) => ({ ...r, consumed_at: at, next_oauth2_refresh_token_id: replacedBy.id })
            )
          )
      }),

    // `… AND consumed_at IS NULL AND revoked_at IS NULL`, as PostgreSQL's guarded statement.
    revoke: (refreshToken) =>
      guardedTransition({
        transition: (at) => revokeRefreshToken(refreshToken, at),
        write: (at) =>
          tokens.updateGuarded(
            refreshToken.id,
            (r) => r.consumed_at === null && r.revoked_at === null,
            (r) => ({ ...r, revoked_at: at })
          )
      }),

    cleanupRevoked: cleanupBy((r) => r.revoked_at),
    cleanupConsumed: cleanupBy((r) => r.consumed_at, successorGoneOrConsumed)
  })
})

export const layer: Layer.Layer<OAuth2RefreshTokenRepository, never, MemoryStore> = Layer.effect(
  OAuth2RefreshTokenRepository,
  make
)
