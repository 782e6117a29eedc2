// OAuth2RefreshTokenRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { consumeRefreshToken, revokeRefreshToken } from "../../model/oauth2/refreshToken.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newRefreshTokenRow,
  OAUTH2_REFRESH_TOKENS,
  RefreshTokenRow,
  refreshTokenFromRow
} from "../../rows/oauth2/refreshToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { OAuth2RefreshTokenRepository } from "../../storage/oauth2/OAuth2RefreshTokenRepository.js"
import {
  deleteSelectedText,
  timestampCleanup,
  TimestampCleanupParams,
  TimestampCleanupRow,
  timestampCleanupText
} from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { addRefreshTokenWith } from "../../storage/common/tokens.js"

const columns =
  "oauth2_refresh_token_id, oauth2_session_id, oauth2_access_token_id, refresh_token, created_at, consumed_at, " +
  "revoked_at, next_oauth2_refresh_token_id"

const q = repositoryQueries({
  prefix: "oauth2RefreshToken",
  table: OAUTH2_REFRESH_TOKENS,
  idColumn: "oauth2_refresh_token_id",
  row: RefreshTokenRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_refresh_tokens WHERE oauth2_refresh_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM oauth2_refresh_tokens WHERE refresh_token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the token text is taken (storage rule: Conflicts).
  add: {
    text:
      `INSERT INTO oauth2_refresh_tokens (oauth2_refresh_token_id, oauth2_session_id, oauth2_access_token_id, ` +
      `refresh_token, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (refresh_token) DO NOTHING`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
    row: NoRows
  },
  // A consumed token may be consumed again, a revoked one never: the guard is the only thing that decides between
  // a revocation and a consumption racing for the same row.
  consume: {
    text:
      `UPDATE oauth2_refresh_tokens SET consumed_at = $2, next_oauth2_refresh_token_id = $3 ` +
      `WHERE oauth2_refresh_token_id = $1 AND revoked_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  revoke: {
    text:
      `UPDATE oauth2_refresh_tokens SET revoked_at = $2 ` +
      `WHERE oauth2_refresh_token_id = $1 AND consumed_at IS NULL AND revoked_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  cleanupRevoked: {
    text: timestampCleanupText(OAUTH2_REFRESH_TOKENS, "oauth2_refresh_token_id", "revoked_at"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  },
  // A consumed token goes only once its successor is gone or consumed too, so the live end of a chain stays.
  cleanupConsumed: {
    text: [
      "WITH to_delete AS (",
      "SELECT token.oauth2_refresh_token_id FROM oauth2_refresh_tokens token",
      "LEFT JOIN oauth2_refresh_tokens successor",
      "ON successor.oauth2_refresh_token_id = token.next_oauth2_refresh_token_id",
      "WHERE token.consumed_at IS NOT NULL",
      "AND (token.next_oauth2_refresh_token_id IS NULL OR successor.consumed_at IS NOT NULL)",
      "AND ($1::timestamptz IS NULL OR token.consumed_at >= $1)",
      "AND token.consumed_at < $2",
      "ORDER BY token.consumed_at ASC, token.oauth2_refresh_token_id ASC",
      "LIMIT $3",
      "FOR UPDATE OF token",
      ...deleteSelectedText(OAUTH2_REFRESH_TOKENS, "oauth2_refresh_token_id", "consumed_at")
    ].join(" "),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toToken = optionalEntity(refreshTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return OAuth2RefreshTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toToken),

    findByToken: (refreshToken) =>
      Effect.zipRight(checkWellFormed({ refreshToken }), Effect.flatMap(db.findByToken.one(refreshToken), toToken)),

    add: addRefreshTokenWith({
      newRow: newRefreshTokenRow,
      insert: (row, session, accessToken) =>
        db.add.affectedOne(row.oauth2_refresh_token_id, session.id, accessToken.id, row.refresh_token, row.created_at),
      fromRow: refreshTokenFromRow
    }),

    consume: (refreshToken, replacedBy) =>
      guardedTransition({
        transition: (at) => consumeRefreshToken(refreshToken, at, replacedBy.id),
        write: (at) => db.consume.affectedOne(refreshToken.id, at, replacedBy.id)
      }),

    revoke: (refreshToken) =>
      guardedTransition({
        transition: (at) => revokeRefreshToken(refreshToken, at),
        write: (at) => db.revoke.affectedOne(refreshToken.id, at)
      }),

    cleanupRevoked: timestampCleanup(db.cleanupRevoked),
    cleanupConsumed: timestampCleanup(db.cleanupConsumed)
  })
})

export const layer: Layer.Layer<OAuth2RefreshTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2RefreshTokenRepository,
  Effect.map(make, traced("oauth2RefreshToken"))
)
