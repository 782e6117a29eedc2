// CompatRefreshTokenRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  COMPAT_REFRESH_TOKENS,
  CompatRefreshTokenRow,
  compatRefreshTokenFromRow,
  newCompatRefreshTokenRow
} from "../../rows/compat/compatRefreshToken.js"
import { expectRowsAffected } from "../../storage/common/errors.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  CompatRefreshTokenRepository,
  consumeAndReplaceTransition
} from "../../storage/compat/CompatRefreshTokenRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { addRefreshTokenWith } from "../../storage/common/tokens.js"

const columns =
  "compat_refresh_token_id, compat_session_id, compat_access_token_id, refresh_token, created_at, consumed_at"

const q = repositoryQueries({
  prefix: "compatRefreshToken",
  table: COMPAT_REFRESH_TOKENS,
  idColumn: "compat_refresh_token_id",
  row: CompatRefreshTokenRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM compat_refresh_tokens WHERE compat_refresh_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM compat_refresh_tokens WHERE refresh_token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the token text is taken (storage rule: Conflicts).
  add: {
    text:
      `INSERT INTO compat_refresh_tokens (compat_refresh_token_id, compat_session_id, compat_access_token_id, ` +
      `refresh_token, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (refresh_token) DO NOTHING`,
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, UlidFromUuid, Schema.String, Schema.DateFromSelf),
    row: NoRows
  },
  // Every unconsumed token of the session but the successor, only while the token presented ($4) is one of them:
  // a rotation that committed first has consumed it, so a second rotation of the same token consumes nothing (the
  // EXISTS reads the statement's snapshot, and a row another rotation consumed meanwhile fails the re-checked
  // `consumed_at IS NULL`).
  consumeAndReplace: {
    text: [
      "UPDATE compat_refresh_tokens SET consumed_at = $2",
      "WHERE compat_session_id = $1 AND consumed_at IS NULL AND compat_refresh_token_id <> $3",
      "AND EXISTS (SELECT 1 FROM compat_refresh_tokens presented",
      "WHERE presented.compat_refresh_token_id = $4 AND presented.compat_session_id = $1",
      "AND presented.consumed_at IS NULL)"
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid, UlidFromUuid),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toToken = optionalEntity(compatRefreshTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return CompatRefreshTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toToken),

    findByToken: (refreshToken) =>
      Effect.zipRight(checkWellFormed({ refreshToken }), Effect.flatMap(db.findByToken.one(refreshToken), toToken)),

    add: addRefreshTokenWith({
      newRow: newCompatRefreshTokenRow,
      insert: (row) =>
        db.add.affectedOne(
          row.compat_refresh_token_id,
          row.compat_session_id,
          row.compat_access_token_id,
          row.refresh_token,
          row.created_at
        ),
      fromRow: compatRefreshTokenFromRow
    }),

    // Several rows may be consumed (tokens imported from Synapse): only none is a failure.
    consumeAndReplace: (refreshToken, successor) =>
      guardedTransition({
        ids: { refreshToken: refreshToken.id, successor: successor.id, session: refreshToken.sessionId },
        transition: (at) => consumeAndReplaceTransition(refreshToken, successor, at),
        write: (at) =>
          Effect.flatMap(
            db.consumeAndReplace.affected(refreshToken.sessionId, at, successor.id, refreshToken.id),
            (affected) => (affected === 0 ? expectRowsAffected(1)(0) : Effect.void)
          )
      })
  })
})

export const layer: Layer.Layer<CompatRefreshTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  CompatRefreshTokenRepository,
  Effect.map(make, traced("compatRefreshToken"))
)
