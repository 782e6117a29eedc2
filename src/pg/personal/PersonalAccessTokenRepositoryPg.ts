// PersonalAccessTokenRepository on PostgreSQL: every statement is declared (and prepared); the token text is hashed before any statement sees it.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { revokePersonalAccessToken } from "../../model/personal.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { optionalEntity } from "../../rows/common.js"
import {
  accessTokenSha256,
  newPersonalAccessTokenRow,
  PERSONAL_ACCESS_TOKENS,
  PersonalAccessTokenRow,
  personalAccessTokenFromRow
} from "../../rows/personal/personalAccessToken.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import { expiryAfter, now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import { PersonalAccessTokenRepository } from "../../storage/personal/PersonalAccessTokenRepository.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns = "personal_access_token_id, personal_session_id, created_at, expires_at, revoked_at"

const NullableDate = Schema.NullOr(Schema.DateFromSelf)

const q = repositoryQueries({
  prefix: "personalAccessToken",
  table: PERSONAL_ACCESS_TOKENS,
  idColumn: "personal_access_token_id",
  row: PersonalAccessTokenRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM personal_access_tokens WHERE personal_access_token_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByToken: {
    text: `SELECT ${columns} FROM personal_access_tokens WHERE access_token_sha256 = $1`,
    params: Schema.Tuple(Schema.Uint8ArrayFromSelf)
  },
  findActiveForSession: {
    text: `SELECT ${columns} FROM personal_access_tokens WHERE personal_session_id = $1 AND revoked_at IS NULL`,
    params: Schema.Tuple(UlidFromUuid)
  },
  // No conflict target: both the unique digest and the one-unrevoked-token-per-session index are ignored, so either
  // conflict is a RowsAffectedError that leaves the unit of work usable (storage rule: Conflicts).
  add: {
    text:
      "INSERT INTO personal_access_tokens (personal_access_token_id, personal_session_id, access_token_sha256, " +
      "created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    params: Schema.Tuple(UlidFromUuid, UlidFromUuid, Schema.Uint8ArrayFromSelf, Schema.DateFromSelf, NullableDate),
    row: NoRows
  },
  // Guarded: a token revoked since the entity was read (by its session's revocation, say) keeps its instant.
  revoke: {
    text: "UPDATE personal_access_tokens SET revoked_at = $2 WHERE personal_access_token_id = $1 AND revoked_at IS NULL",
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

const toToken = optionalEntity(personalAccessTokenFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return PersonalAccessTokenRepository.of({
    lookup: (id) => Effect.flatMap(db.lookup.one(id), toToken),

    findByToken: (accessToken) =>
      Effect.zipRight(
        checkWellFormed({ accessToken }),
        Effect.suspend(() => Effect.flatMap(db.findByToken.one(accessTokenSha256(accessToken)), toToken))
      ),

    findActiveForSession: (session) => Effect.flatMap(db.findActiveForSession.one(session.id), toToken),

    add: (session, accessToken, expiresAfter) =>
      Effect.gen(function* () {
        yield* checkWellFormed({ accessToken })
        const at = yield* now
        const expiresAt = Option.isSome(expiresAfter) ? yield* expiryAfter(at, expiresAfter.value) : null
        const row = newPersonalAccessTokenRow(session, yield* generateUlid, at, expiresAt)
        yield* db.add.affectedOne(
          row.personal_access_token_id,
          row.personal_session_id,
          accessTokenSha256(accessToken),
          row.created_at,
          row.expires_at
        )
        return personalAccessTokenFromRow(row)
      }),

    revoke: (token) =>
      guardedTransition({
        ids: { token: token.id },
        transition: (at) => revokePersonalAccessToken(token, at),
        write: (at) => db.revoke.affectedOne(token.id, at)
      })
  })
})

export const layer: Layer.Layer<PersonalAccessTokenRepository, never, SqlClient.SqlClient> = Layer.effect(
  PersonalAccessTokenRepository,
  Effect.map(make, traced("personalAccessToken"))
)
