// OAuth2AccessTokenRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { markAccessTokenUsed, revokeAccessToken } from "../../model/oauth2/accessToken.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  AccessTokenRow,
  accessTokenFromRow,
  newAccessTokenRow,
  OAUTH2_ACCESS_TOKENS
} from "../../rows/oauth2/accessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { OAuth2AccessTokenRepository } from "../../storage/oauth2/OAuth2AccessTokenRepository.js"
import {
  timestampCleanup,
  TimestampCleanupParams,
  TimestampCleanupRow,
  timestampCleanupText
} from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { addAccessTokenWith } from "../../storage/common/tokens.js"

const columns =
  "oauth2_access_token_id, oauth2_session_id, access_token, created_at, expires_at, revoked_at, first_used_at"

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

const q = repositoryQueries({
  prefix: "oauth2AccessToken",
  table: OAUTH2_ACCESS_TOKENS,
  idColumn: "oauth2_access_token_id",
  row: AccessTokenRow
})

/** A timestamp-keyed cleanup of tokens by `key`; rows sharing an instant go in id order, as memory takes them. */
const cleanupBy = (key: "revoked_at" | "expires_at") =>
  timestampCleanupText(OAUTH2_ACCESS_TOKENS, "oauth2_access_token_id", key)

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_access_tokens WHERE oauth2_access_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM oauth2_access_tokens WHERE access_token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the token text is taken (storage rule: Conflicts).
  add: {
    text:
      `INSERT INTO oauth2_access_tokens (oauth2_access_token_id, oauth2_session_id, access_token, created_at, expires_at) ` +
      `VALUES ($1, $2, $3, $4, $5) ON CONFLICT (access_token) DO NOTHING`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf, NullableDate),
    row: NoRows
  },
  // Guarded: a token revoked since the entity was read keeps its instant and is reported by the count.
  revoke: {
    text: `UPDATE oauth2_access_tokens SET revoked_at = $2 WHERE oauth2_access_token_id = $1 AND revoked_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  markUsed: {
    text: `UPDATE oauth2_access_tokens SET first_used_at = $2 WHERE oauth2_access_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  cleanupRevoked: {
    text: cleanupBy("revoked_at"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  },
  cleanupExpired: {
    text: cleanupBy("expires_at"),
    params: TimestampCleanupParams,
    row: TimestampCleanupRow
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toToken = optionalEntity(accessTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return OAuth2AccessTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toToken),

    findByToken: (accessToken) =>
      Effect.zipRight(checkWellFormed({ accessToken }), Effect.flatMap(db.findByToken.one(accessToken), toToken)),

    add: addAccessTokenWith({
      newRow: newAccessTokenRow,
      insert: (row) =>
        db.add.affectedOne(
          row.oauth2_access_token_id,
          row.oauth2_session_id,
          row.access_token,
          row.created_at,
          row.expires_at
        ),
      fromRow: accessTokenFromRow
    }),

    revoke: (accessToken) =>
      guardedTransition({
        transition: (at) => revokeAccessToken(accessToken, at),
        write: (at) => db.revoke.affectedOne(accessToken.id, at)
      }),

    markUsed: (accessToken) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* db.markUsed.affectedOne(accessToken.id, at)
        return markAccessTokenUsed(accessToken, at)
      }),

    cleanupRevoked: timestampCleanup(db.cleanupRevoked),
    cleanupExpired: timestampCleanup(db.cleanupExpired)
  })
})

export const layer: Layer.Layer<OAuth2AccessTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2AccessTokenRepository,
  Effect.map(make, traced("oauth2AccessToken"))
)
