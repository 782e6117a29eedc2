// UpstreamOAuthProviderRepository on PostgreSQL: its declared static queries, plus the filter and page queries assembled from declared pieces.
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option, Schema } from "effect"
import { generateUlid, type Ulid, UlidFromUuid } from "../../model/Ulid.js"
import { disableUpstreamOAuthProvider, type UpstreamOAuthProviderParams } from "../../model/upstream.js"
import { Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthProviderRow,
  UPSTREAM_OAUTH_PROVIDERS,
  upstreamOAuthProviderFromRow,
  UpstreamOAuthProviderRow
} from "../../rows/upstream/upstreamOAuthProvider.js"
import { RowsAffectedError } from "../../storage/common/errors.js"
import { now } from "../../storage/common/time.js"
import { guardedTransition } from "../../storage/common/transitions.js"
import {
  checkUpsertId,
  checkUpstreamOAuthProviderFilter,
  checkUpstreamOAuthProviderParams,
  type UpstreamOAuthProviderFilter,
  UpstreamOAuthProviderRepository,
  upstreamOAuthProviderWithDerivedMethods
} from "../../storage/upstream/UpstreamOAuthProviderRepository.js"
import { countQuery, filter, pageQuery, piece } from "../dynamic.js"
import { traced } from "../common/tracing.js"
import { bindAll, declarationsOf, NoRows, repositoryQueries } from "../query.js"

/** The columns `add` and `upsert` write besides the id and the creation time, in parameter order ($2 … $25). */
const paramColumns = [
  "issuer",
  "human_name",
  "brand_name",
  "discovery_mode",
  "pkce_mode",
  "jwks_uri_override",
  "authorization_endpoint_override",
  "token_endpoint_override",
  "userinfo_endpoint_override",
  "scope_list",
  "fetch_userinfo",
  "userinfo_signed_response_alg",
  "client_id",
  "encrypted_client_secret",
  "token_endpoint_signing_alg",
  "token_endpoint_auth_method",
  "id_token_signed_response_alg",
  "response_mode",
  "claims_imports",
  "additional_parameters",
  "forward_login_hint",
  "on_backchannel_logout",
  "registration_token_required",
  "ui_order"
] as const

const columns = ["upstream_oauth_provider_id", ...paramColumns, "created_at", "disabled_at"].join(", ")

const insertColumns = ["upstream_oauth_provider_id", ...paramColumns, "created_at"].join(", ")

// The JSON documents go as text and are cast: the driver would turn a JS array into a PostgreSQL array literal.
const insertValues = [
  "$1",
  ...paramColumns.map((c, i) =>
    c === "claims_imports" || c === "additional_parameters" ? `$${i + 2}::jsonb` : `$${i + 2}`
  ),
  `$${paramColumns.length + 2}`
].join(", ")

/** Every configurable column from the values `upsert` would have inserted; `created_at` is kept, the provider re-enabled. */
const upsertOverwrites = [...paramColumns.map((c) => `${c} = EXCLUDED.${c}`), "disabled_at = NULL"].join(", ")

const NullableString = Schema.NullOr(Schema.String)
const JsonText = Schema.parseJson(Json)

const InsertParams = Schema.Tuple(
  UlidFromUuid,
  NullableString,
  NullableString,
  NullableString,
  Schema.String,
  Schema.String,
  NullableString,
  NullableString,
  NullableString,
  NullableString,
  Schema.Array(Schema.String),
  Schema.Boolean,
  NullableString,
  Schema.String,
  NullableString,
  NullableString,
  Schema.String,
  Schema.String,
  NullableString,
  JsonText,
  JsonText,
  Schema.Boolean,
  Schema.String,
  Schema.Boolean,
  Schema.Number,
  Schema.DateFromSelf
)

const q = repositoryQueries({
  prefix: "upstreamOAuthProvider",
  table: UPSTREAM_OAUTH_PROVIDERS,
  idColumn: "upstream_oauth_provider_id",
  row: UpstreamOAuthProviderRow
})

const statements = q.statements({
  lookup: {
    text: `SELECT ${columns} FROM upstream_oauth_providers WHERE upstream_oauth_provider_id = $1`,
    params: Schema.Tuple(UlidFromUuid)
  },
  add: {
    text: `INSERT INTO upstream_oauth_providers (${insertColumns}) VALUES (${insertValues}) RETURNING ${columns}`,
    params: InsertParams
  },
  // The row comes back as stored (with the original created_at when it existed), which is what upsert returns.
  upsert: {
    text:
      `INSERT INTO upstream_oauth_providers (${insertColumns}) VALUES (${insertValues}) ` +
      `ON CONFLICT (upstream_oauth_provider_id) DO UPDATE SET ${upsertOverwrites} RETURNING ${columns}`,
    params: InsertParams
  },
  // Unguarded, as in MAS: a disabled provider is stamped again.
  disable: {
    text: `UPDATE upstream_oauth_providers SET disabled_at = $2 WHERE upstream_oauth_provider_id = $1`,
    params: Schema.Tuple(UlidFromUuid, Schema.DateFromSelf),
    row: NoRows
  },
  // One statement, so the deletion is atomic even outside a unit of work. Its parts share one snapshot and the foreign
  // keys are checked when it ends; authentications and registrations naming a deleted session are cleared by their
  // keys' ON DELETE SET NULL. The count is of the provider rows deleted.
  deleteById: {
    text: [
      "WITH deleted_sessions AS (DELETE FROM upstream_oauth_authorization_sessions WHERE upstream_oauth_provider_id = $1),",
      "deleted_links AS (DELETE FROM upstream_oauth_links WHERE upstream_oauth_provider_id = $1)",
      "DELETE FROM upstream_oauth_providers WHERE upstream_oauth_provider_id = $1"
    ].join(" "),
    params: Schema.Tuple(UlidFromUuid),
    row: NoRows
  },
  allEnabled: {
    text: `SELECT ${columns} FROM upstream_oauth_providers WHERE disabled_at IS NULL ORDER BY ui_order, upstream_oauth_provider_id`,
    params: Schema.Tuple()
  }
})

/** The UpstreamOAuthProviderFilter over `upstream_oauth_providers` (unaliased, so it serves SELECT and COUNT alike). */
export const upstreamOAuthProviderFilter = filter<UpstreamOAuthProviderFilter>()(
  "UpstreamOAuthProviderFilter",
  {
    enabled: piece("upstream_oauth_providers.disabled_at IS NULL"),
    disabled: piece("upstream_oauth_providers.disabled_at IS NOT NULL")
  },
  (f, use) => [f.enabled === true && use.enabled(), f.enabled === false && use.disabled()]
)

const dynamic = q.dynamic({
  list: pageQuery({
    description: "upstream OAuth providers matching an UpstreamOAuthProviderFilter, one keyset page",
    row: UpstreamOAuthProviderRow,
    select: `SELECT ${columns} FROM upstream_oauth_providers`,
    slots: { filter: upstreamOAuthProviderFilter },
    where: "filter",
    keyset: "upstream_oauth_providers.upstream_oauth_provider_id"
  }),
  count: countQuery({
    description: "number of upstream OAuth providers matching an UpstreamOAuthProviderFilter",
    from: "upstream_oauth_providers",
    slots: { filter: upstreamOAuthProviderFilter },
    where: "filter"
  })
})

/** Every query this repository sends, for the offline check. */
export const queries = declarationsOf(statements, dynamic)

/** The parameters of `add` and `upsert`, from the row both write. */
const insertParams = (id: Ulid, createdAt: Date, params: UpstreamOAuthProviderParams) => {
  const r = newUpstreamOAuthProviderRow(id, createdAt, params)
  return [
    r.upstream_oauth_provider_id,
    r.issuer,
    r.human_name,
    r.brand_name,
    r.discovery_mode,
    r.pkce_mode,
    r.jwks_uri_override,
    r.authorization_endpoint_override,
    r.token_endpoint_override,
    r.userinfo_endpoint_override,
    r.scope_list,
    r.fetch_userinfo,
    r.userinfo_signed_response_alg,
    r.client_id,
    r.encrypted_client_secret,
    r.token_endpoint_signing_alg,
    r.token_endpoint_auth_method,
    r.id_token_signed_response_alg,
    r.response_mode,
    r.claims_imports as Json,
    r.additional_parameters as Json,
    r.forward_login_hint,
    r.on_backchannel_logout,
    r.registration_token_required,
    r.ui_order,
    r.created_at
  ] as const
}

const toProvider = optionalEntity(upstreamOAuthProviderFromRow)

export const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const db = bindAll(sql, statements)

  const stored = (row: Option.Option<UpstreamOAuthProviderRow>) =>
    Option.match(row, {
      onNone: () => Effect.fail(new RowsAffectedError({ expected: 1, actual: 0 })),
      onSome: (r) => Effect.succeed(upstreamOAuthProviderFromRow(r))
    })

  return UpstreamOAuthProviderRepository.of(
    upstreamOAuthProviderWithDerivedMethods({
      lookup: (id) => Effect.flatMap(db.lookup.one(id), toProvider),

      add: (params) =>
        Effect.gen(function* () {
          const checked = yield* checkUpstreamOAuthProviderParams(params)
          const createdAt = yield* now
          const id = yield* generateUlid
          return yield* Effect.flatMap(db.add.one(...insertParams(id, createdAt, checked)), stored)
        }),

      upsert: (id, params) =>
        Effect.gen(function* () {
          yield* checkUpsertId(id)
          const checked = yield* checkUpstreamOAuthProviderParams(params)
          const createdAt = yield* now
          return yield* Effect.flatMap(db.upsert.one(...insertParams(id, createdAt, checked)), stored)
        }),

      disable: (provider) =>
        guardedTransition({
          ids: { provider: provider.id },
          transition: (at) => disableUpstreamOAuthProvider(provider, at),
          write: (at) => db.disable.affectedOne(provider.id, at)
        }),

      deleteById: (id) => db.deleteById.affectedOne(id),

      list: (filter, pagination) =>
        Effect.gen(function* () {
          yield* checkUpstreamOAuthProviderFilter(filter)
          const page = yield* dynamic.list.page(sql, { filter }, pagination)
          return yield* page.tryMap((raw) => Either.map(q.decodeRow(raw), upstreamOAuthProviderFromRow))
        }),

      count: (filter) =>
        Effect.zipRight(
          checkUpstreamOAuthProviderFilter(filter),
          Effect.suspend(() => dynamic.count.count(sql, { filter }))
        ),

      allEnabled: () => Effect.map(db.allEnabled.all(), (rows) => rows.map(upstreamOAuthProviderFromRow))
    })
  )
})

export const layer: Layer.Layer<UpstreamOAuthProviderRepository, never, SqlClient.SqlClient> = Layer.effect(
  UpstreamOAuthProviderRepository,
  Effect.map(make, traced("upstreamOAuthProvider"))
)
