// OAuth2ClientRepository on PostgreSQL: its declared static queries, plus the filter and page queries assembled from declared pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { generateUlid, UlidFromUuid } from "../../model/Ulid.js"
import { GRANT_TYPES, Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  clientFromRow,
  newClientRow,
  OAUTH2_CLIENTS,
  OAuth2ClientRow,
  staticClientColumns
} from "../../rows/oauth2/client.js"
import { RowsAffectedError } from "../../storage/common/errors.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import {
  checkNewClient,
  checkOAuth2ClientFilter,
  checkStaticClient,
  type OAuth2ClientFilter,
  OAuth2ClientRepository,
  oAuth2ClientWithDerivedMethods
} from "../../storage/oauth2/OAuth2ClientRepository.js"
import { containsCriterion } from "../common/filters.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

const columns = [
  "oauth2_client_id",
  "metadata_digest",
  "encrypted_client_secret",
  "application_type",
  "redirect_uris",
  "grant_type_authorization_code",
  "grant_type_refresh_token",
  "grant_type_client_credentials",
  "grant_type_device_code",
  "client_name",
  "logo_uri",
  "client_uri",
  "policy_uri",
  "tos_uri",
  "jwks",
  "jwks_uri",
  "id_token_signed_response_alg",
  "userinfo_signed_response_alg",
  "token_endpoint_auth_method",
  "token_endpoint_auth_signing_alg",
  "initiate_login_uri",
  "is_static"
].join(", ")

const NullableString = Schema.NullOr(Schema.String)
// JSON goes as text and is cast: the driver would turn a JS array into a PostgreSQL array literal.
const NullableJson = Schema.NullOr(Schema.parseJson(Json))

const q = repositoryQueries({
  prefix: "oauth2Client",
  table: OAUTH2_CLIENTS,
  idColumn: "oauth2_client_id",
  row: OAuth2ClientRow
})

/** The columns `upsertStatic` overwrites on conflict, from the values it would have inserted. */
const staticOverwrites = [
  "encrypted_client_secret",
  "redirect_uris",
  "grant_type_authorization_code",
  "grant_type_refresh_token",
  "grant_type_client_credentials",
  "grant_type_device_code",
  "token_endpoint_auth_method",
  "jwks",
  "client_name",
  "client_uri",
  "jwks_uri",
  "is_static"
]
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(", ")

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM oauth2_clients WHERE oauth2_client_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  findByMetadataDigest: {
    text: `SELECT ${columns} FROM oauth2_clients WHERE metadata_digest = $1`,
    params: Schema.Tuple(Schema.String)
  },
  loadBatch: {
    text: `SELECT ${columns} FROM oauth2_clients WHERE oauth2_client_id = ANY($1::uuid[]) ORDER BY oauth2_client_id`,
    params: Schema.Tuple(Schema.Array(UlidFromUuid))
  },
  // ON CONFLICT DO NOTHING keeps the unit of work usable when the digest is taken (storage rule: Conflicts).
  add: {
    text:
      `INSERT INTO oauth2_clients (${columns}) VALUES ` +
      `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, $19, $20, $21, FALSE) ` +
      `ON CONFLICT (metadata_digest) DO NOTHING RETURNING ${columns}`,
    params: Schema.Tuple(
      UlidFromUuid,
      NullableString,
      NullableString,
      NullableString,
      Schema.Array(Schema.String),
      Schema.Boolean,
      Schema.Boolean,
      Schema.Boolean,
      Schema.Boolean,
      NullableString,
      NullableString,
      NullableString,
      NullableString,
      NullableString,
      NullableJson,
      NullableString,
      NullableString,
      NullableString,
      NullableString,
      NullableString,
      NullableString
    )
  },
  // Every other column keeps its stored value; the row comes back as stored, which is what upsertStatic returns.
  upsertStatic: {
    text:
      `INSERT INTO oauth2_clients (oauth2_client_id, encrypted_client_secret, redirect_uris, ` +
      `grant_type_authorization_code, grant_type_refresh_token, grant_type_client_credentials, grant_type_device_code, ` +
      `token_endpoint_auth_method, jwks, client_name, client_uri, jwks_uri, is_static) ` +
      `VALUES ($1, $2, $3, TRUE, TRUE, TRUE, TRUE, $4, $5::jsonb, $6, $7, $8, TRUE) ` +
      `ON CONFLICT (oauth2_client_id) DO UPDATE SET ${staticOverwrites} RETURNING ${columns}`,
    params: Schema.Tuple(
      UlidFromUuid,
      NullableString,
      Schema.Array(Schema.String),
      NullableString,
      NullableJson,
      NullableString,
      NullableString,
      NullableString
    )
  },
  allStatic: {
    text: `SELECT ${columns} FROM oauth2_clients WHERE is_static = TRUE ORDER BY oauth2_client_id`,
    params: Schema.Tuple()
  },
  // One statement, so the whole deletion is atomic even outside a unit of work. Its parts share one snapshot and the
  // foreign keys are checked when it ends, so the order of the parts does not matter; the client's device-code grants
  // go by their cascade. The count is of the client rows deleted.
  deleteById: {
    text: [
      "WITH sessions AS (SELECT oauth2_session_id FROM oauth2_sessions WHERE oauth2_client_id = $1),",
      "personal AS (SELECT personal_session_id FROM personal_sessions WHERE owner_oauth2_client_id = $1),",
      "deleted_grants AS (DELETE FROM oauth2_authorization_grants WHERE oauth2_client_id = $1),",
      "deleted_access_tokens AS (DELETE FROM oauth2_access_tokens",
      "WHERE oauth2_session_id IN (SELECT oauth2_session_id FROM sessions)),",
      "deleted_refresh_tokens AS (DELETE FROM oauth2_refresh_tokens",
      "WHERE oauth2_session_id IN (SELECT oauth2_session_id FROM sessions)),",
      "deleted_sessions AS (DELETE FROM oauth2_sessions WHERE oauth2_client_id = $1),",
      "deleted_personal_tokens AS (DELETE FROM personal_access_tokens",
      "WHERE personal_session_id IN (SELECT personal_session_id FROM personal)),",
      "deleted_personal_sessions AS (DELETE FROM personal_sessions WHERE owner_oauth2_client_id = $1)",
      "DELETE FROM oauth2_clients WHERE oauth2_client_id = $1"
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  }
})

const activeSession =
  "EXISTS (SELECT 1 FROM oauth2_sessions s WHERE s.oauth2_client_id = oauth2_clients.oauth2_client_id AND s.finished_at IS NULL)"

/** The OAuth2ClientFilter over `oauth2_clients` (unaliased, so it serves SELECT and COUNT alike). */
export const oauth2ClientFilter = filter<OAuth2ClientFilter>()(
  "OAuth2ClientFilter",
  {
    staticKind: piece("oauth2_clients.is_static = TRUE"),
    dynamicKind: piece("oauth2_clients.is_static = FALSE"),
    clientName: containsCriterion("oauth2_clients.client_name"),
    clientUri: containsCriterion("oauth2_clients.client_uri"),
    authorizationCodeGrant: piece("oauth2_clients.grant_type_authorization_code = TRUE"),
    refreshTokenGrant: piece("oauth2_clients.grant_type_refresh_token = TRUE"),
    clientCredentialsGrant: piece("oauth2_clients.grant_type_client_credentials = TRUE"),
    deviceCodeGrant: piece("oauth2_clients.grant_type_device_code = TRUE"),
    // a grant type without a column of its own: no client can have declared it
    otherGrant: piece("FALSE"),
    hasActiveSessions: piece(activeSession),
    hasNoActiveSessions: piece(`NOT ${activeSession}`)
  },
  (f, use) => {
    const grant = f.grantType as string | undefined
    return [
      f.kind === "static" && use.staticKind(),
      f.kind === "dynamic" && use.dynamicKind(),
      f.clientName !== undefined && use.clientName(f.clientName),
      f.clientUri !== undefined && use.clientUri(f.clientUri),
      grant === "authorization_code" && use.authorizationCodeGrant(),
      grant === "refresh_token" && use.refreshTokenGrant(),
      grant === "client_credentials" && use.clientCredentialsGrant(),
      grant === "urn:ietf:params:oauth:grant-type:device_code" && use.deviceCodeGrant(),
      grant !== undefined && !(GRANT_TYPES as ReadonlyArray<string>).includes(grant) && use.otherGrant(),
      f.hasActiveSessions === true && use.hasActiveSessions(),
      f.hasActiveSessions === false && use.hasNoActiveSessions()
    ]
  }
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "OAuth2 clients matching an OAuth2ClientFilter, one keyset page",
    row: OAuth2ClientRow,
    select: `SELECT ${columns} FROM oauth2_clients`,
    slots: { filter: oauth2ClientFilter },
    where: "filter",
    keyset: "oauth2_clients.oauth2_client_id"
  }),
  count: countQuery({
    description: "number of OAuth2 clients matching an OAuth2ClientFilter",
    from: "oauth2_clients",
    slots: { filter: oauth2ClientFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

const toClient = optionalEntity(clientFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  return OAuth2ClientRepository.of(
    oAuth2ClientWithDerivedMethods({
      lookup: (id) => Effect.flatMap(db.lookup.one(id), toClient),

      findByMetadataDigest: (digest) =>
        Effect.zipRight(checkWellFormed({ digest }), Effect.flatMap(db.findByMetadataDigest.one(digest), toClient)),

      loadBatch: (ids) =>
        Effect.map(
          db.loadBatch.all([...ids]),
          (rows) => new Map(rows.map((row) => [row.oauth2_client_id, clientFromRow(row)] as const))
        ),

      add: (params) =>
        Effect.gen(function* () {
          const checked = yield* checkNewClient(params)
          const id = yield* generateUlid
          const r = newClientRow(id, checked)
          const stored = yield* db.add.one(
            id,
            r.metadata_digest,
            r.encrypted_client_secret,
            r.application_type,
            r.redirect_uris,
            r.grant_type_authorization_code,
            r.grant_type_refresh_token,
            r.grant_type_client_credentials,
            r.grant_type_device_code,
            r.client_name,
            r.logo_uri,
            r.client_uri,
            r.policy_uri,
            r.tos_uri,
            r.jwks as Json | null,
            r.jwks_uri,
            r.id_token_signed_response_alg,
            r.userinfo_signed_response_alg,
            r.token_endpoint_auth_method,
            r.token_endpoint_auth_signing_alg,
            r.initiate_login_uri
          )
          // No row back: the digest is another client's and the insert was skipped.
          if (Option.isNone(stored)) return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
          return clientFromRow(stored.value)
        }),

      upsertStatic: (params) =>
        Effect.gen(function* () {
          const c = staticClientColumns(yield* checkStaticClient(params))
          const stored = yield* db.upsertStatic.one(
            c.oauth2_client_id,
            c.encrypted_client_secret,
            c.redirect_uris,
            c.token_endpoint_auth_method,
            c.jwks as Json | null,
            c.client_name,
            c.client_uri,
            c.jwks_uri
          )
          if (Option.isNone(stored)) return yield* Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 }))
          return clientFromRow(stored.value)
        }),

      allStatic: () => Effect.map(db.allStatic.all(), (rows) => rows.map(clientFromRow)),

      deleteById: (id) => db.deleteById.affectedOne(id),

      list: (filter, pagination) =>
        Effect.gen(function* () {
          yield* checkOAuth2ClientFilter(filter)
          const page = yield* dynamic.list.page(sql, { filter }, pagination)
          return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), clientFromRow))
        }),

      count: (filter) =>
        Effect.zipRight(
          checkOAuth2ClientFilter(filter),
          Effect.suspend(() => dynamic.count.count(sql, { filter }))
        )
    })
  )
})

export const layer: Layer.Layer<OAuth2ClientRepository, never, SqlClient.SqlClient> = Layer.effect(
  OAuth2ClientRepository,
  Effect.map(make, traced("oauth2Client"))
)
