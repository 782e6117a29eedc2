// CompatAccessTokenRepository on PostgreSQL: every statement is declared (and prepared); no query is assembled at run time.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { expireCompatAccessToken } from "../../model/compat.js"
import { UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  COMPAT_ACCESS_TOKENS,
  CompatAccessTokenRow,
  compatAccessTokenFromRow,
  newCompatAccessTokenRow
} from "../../rows/compat/compatAccessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { CompatAccessTokenRepository } from "../../storage/compat/CompatAccessTokenRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"
import { addAccessTokenWith } from "../../storage/common/tokens.js"

const columns = "compat_access_token_id, compat_session_id, access_token, created_at, expires_at"

const q = repositoryQueries({
  prefix: "compatAccessToken",
  table: COMPAT_ACCESS_TOKENS,
  idColumn: "compat_access_token_id",
  row: CompatAccessTokenRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM compat_access_tokens WHERE compat_access_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM compat_access_tokens WHERE access_token = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the token text is taken (storage rule: Conflicts).
  add: {
    text:
      `INSERT INTO compat_access_tokens (compat_access_token_id, compat_session_id, access_token, created_at, expires_at) ` +
      `VALUES ($1, $2, $3, $4, $5) ON CONFLICT (access_token) DO NOTHING`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Schema.String,
      Schema.DateFromSelf,
      Schema.NullOr(Schema.DateFromSelf)
    ),
    row: NoRows
  },
  // Not guarded, as in MAS: expiring is allowed in any state, an expired token may be expired again.
  expire: {
    text: `UPDATE compat_access_tokens SET expires_at = $2 WHERE compat_access_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toToken = optionalEntity(compatAccessTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return CompatAccessTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toToken),

    findByToken: (accessToken) =>
      Effect.zipRight(checkWellFormed({ accessToken }), Effect.flatMap(db.findByToken.one(accessToken), toToken)),

    add: addAccessTokenWith({
      newRow: newCompatAccessTokenRow,
      insert: (row) =>
        db.add.affectedOne(
          row.compat_access_token_id,
          row.compat_session_id,
          row.access_token,
          row.created_at,
          row.expires_at
        ),
      fromRow: compatAccessTokenFromRow
    }),

    expire: (accessToken) =>
      guardedTransition({
        transition: (at) => expireCompatAccessToken(accessToken, at),
        write: (at) => db.expire.affectedOne(accessToken.id, at)
      })
  })
})

export const layer: Layer.Layer<CompatAccessTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  CompatAccessTokenRepository,
  Effect.map(make, traced("compatAccessToken"))
)
