// OAuth2AuthorizationGrantRepository on PostgreSQL: declared static queries, the single-use transitions guarded in SQL.
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { exchangeAuthorizationGrant, fulfillAuthorizationGrant } from "../../model/oauth2/authorizationGrant.js"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { Json, PkceChallengeMethod, ResponseMode, Url } from "../../model/values.js"
import { ScopeListColumn } from "../../rows/common.js"
import {
  AUTHORIZATION_GRANTS,
  AuthorizationGrantRow,
  authorizationGrantFromRow,
  newAuthorizationGrantRow,
  readOptionalAuthorizationGrant
} from "../../rows/oauth2/authorizationGrant.js"
import { CleanupResult } from "../../storage/common/CleanupResult.js"
import { checkCleanupLimit, checkWellFormed } from "../../storage/common/limits.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkNewAuthorizationGrant,
  OAuth2AuthorizationGrantRepository
} from "../../storage/oauth2/OAuth2AuthorizationGrantRepository.js"
import { ulidCleanupText, UlidCleanupParams } from "../common/cleanup.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const insertedColumns = [
  "oauth2_authorization_grant_id",
  "oauth2_client_id",
  "redirect_uri",
  "scope_list",
  "state",
  "nonce",
  "response_mode",
  "response_type_code",
  "response_type_id_token",
  "authorization_code",
  "code_challenge",
  "code_challenge_method",
  "login_hint",
  "locale",
  "raw_parameters",
  "created_at"
]

const columns = [
  ...insertedColumns,
  "fulfilled_at",
  "exchanged_at",
  "cancelled_at",
  "user_session_id",
  "oauth2_session_id"
].join(", ")

// The stage columns as the decoder reads Pending and Fulfilled: the guards of the single-use transitions.
const isPending =
  "fulfilled_at IS NULL AND exchanged_at IS NULL AND cancelled_at IS NULL AND user_session_id IS NULL AND oauth2_session_id IS NULL"
const isFulfilled =
  "fulfilled_at IS NOT NULL AND exchanged_at IS NULL AND cancelled_at IS NULL AND user_session_id IS NOT NULL AND oauth2_session_id IS NULL"

const NullableString = Schema.NullOr(Schema.String)

const q = repositoryQueries({
  prefix: "oauth2AuthorizationGrant",
  table: AUTHORIZATION_GRANTS,
  idColumn: "oauth2_authorization_grant_id",
  row: AuthorizationGrantRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_authorization_grants WHERE oauth2_authorization_grant_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByCode: {
    text: `SELECT ${columns} FROM oauth2_authorization_grants WHERE authorization_code = $1`,
    params: Schema.Tuple(Schema.String)
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the code is taken (storage rule: Conflicts). JSON goes as
  // text and is cast: the driver would send a JS array as a PostgreSQL array literal.
  add: {
    text:
      `INSERT INTO oauth2_authorization_grants (${insertedColumns.join(", ")}) ` +
      `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16) ON CONFLICT DO NOTHING`,
    params: Schema.Tuple(
      UlidFromUuid,
      UlidFromUuid,
      Url,
      ScopeListColumn,
      NullableString,
      NullableString,
      ResponseMode,
      Schema.Boolean,
      Schema.Boolean,
      NullableString,
      NullableString,
      Schema.NullOr(PkceChallengeMethod),
      NullableString,
      NullableString,
      Schema.parseJson(Json),
      Schema.DateFromSelf
    ),
    row: NoRows
  },
  // Guarded: of concurrent fulfils only the first to lock the row finds it pending.
  fulfill: {
    text:
      `UPDATE oauth2_authorization_grants SET fulfilled_at = $2, user_session_id = $3 ` +
      `WHERE oauth2_authorization_grant_id = $1 AND ${isPending}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  // Guarded: the code is single-use, so of concurrent exchanges only the first to lock the row finds it fulfilled.
  exchange: {
    text:
      `UPDATE oauth2_authorization_grants SET exchanged_at = $2, oauth2_session_id = $3 ` +
      `WHERE oauth2_authorization_grant_id = $1 AND ${isFulfilled}`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf, UlidFromUuid),
    row: NoRows
  },
  cleanup: {
    text: ulidCleanupText("oauth2_authorization_grants", "oauth2_authorization_grant_id"),
    params: UlidCleanupParams,
    row: Schema.Struct({ oauth2_authorization_grant_id: UlidFromUuid })
  }
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements)

export const make = Effect.gen(function* () {
  const db = bindAll(yield* SqlClient.SqlClient, statements)

  return OAuth2AuthorizationGrantRepository.of({
    add: (params) =>
      Effect.gen(function* () {
        const redirectUri = yield* checkNewAuthorizationGrant(params)
        const at = yield* now
        const id = yield* generateUlid
        const row = newAuthorizationGrantRow(params, id, at, redirectUri)
        yield* db.add.affectedOne(
          row.oauth2_authorization_grant_id,
          row.oauth2_client_id,
          row.redirect_uri,
          row.scope_list,
          row.state,
          row.nonce,
          row.response_mode,
          row.response_type_code,
          row.response_type_id_token,
          row.authorization_code,
          row.code_challenge,
          row.code_challenge_method,
          row.login_hint,
          row.locale,
          row.raw_parameters,
          row.created_at
        )
        return authorizationGrantFromRow(row)
      }),

    lookup: (id) => Effect.flatMap(db.lookup.one(id), readOptionalAuthorizationGrant),

    findByCode: (code) =>
      Effect.zipRight(
        checkWellFormed({ code }),
        Effect.flatMap(db.findByCode.one(code), readOptionalAuthorizationGrant)
      ),

    fulfill: (browserSession, grant) =>
      guardedTransition({
        ids: { grant: grant.id, browserSession: browserSession.id },
        transition: (at) => fulfillAuthorizationGrant(grant, at, browserSession.id),
        write: (at) => db.fulfill.affectedOne(grant.id, at, browserSession.id)
      }),

    exchange: (grant, session) =>
      guardedTransition({
        ids: { grant: grant.id, session: session.id },
        transition: (at) => exchangeAuthorizationGrant(grant, at, session.id),
        write: (at) => db.exchange.affectedOne(grant.id, at, session.id)
      }),

    cleanup: (since, until, limit) =>
      Effect.gen(function* () {
        const batch = yield* checkCleanupLimit(limit)
        const deleted = yield* db.cleanup.all(Option.getOrNull(since), until, batch)
        return CleanupResult.fromKeys(deleted.map((r) => r.oauth2_authorization_grant_id))
      })
  })
})

export const layer: Layer.Layer<OAuth2AuthorizationGrantRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2AuthorizationGrantRepository,
  Effect.map(make, traced("oauth2AuthorizationGrant"))
)
