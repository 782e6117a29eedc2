// Test-only row seeding on both backends: lets a contract suite create rows of tables whose repositories come in later issues.
import { SqlClient } from "@effect/sql"
import { Context, Effect, Either, Layer } from "effect"
import { MemoryStore } from "../../src/memory/MemoryStore.js"
import type { Row } from "../../src/memory/Database.js"
import { generateUlid, parseUlid, ulidToUuid, uuidToUlid } from "../../src/model/Ulid.js"

export class Seed extends Context.Tag("test/Seed")<
  Seed,
  {
    /** Inserts a row given as the memory backend stores it (ids as ULIDs, times as Dates, nulls as null). */
    readonly insert: (table: string, row: Row) => Effect.Effect<void, unknown>
    /** How many rows `table` holds (to show that a refused call wrote nothing to tables without a list method). */
    readonly count: (table: string) => Effect.Effect<number, unknown>
    /**
     * Every row of `table` as the memory backend stores it (ids as ULIDs), in primary-key order: what both backends
     * left behind, comparable with `toEqual`.
     */
    readonly dump: (table: string, idColumn: string) => Effect.Effect<ReadonlyArray<Row>, unknown>
    /** Deletes the row of `table` whose `idColumn` is `id`, with the schema's ON DELETE rules (a bare DELETE). */
    readonly delete: (table: string, idColumn: string, id: string) => Effect.Effect<void, unknown>
  }
>() {}

/** The jsonb columns of the schema: node-postgres would send a JS array as a PostgreSQL array literal (`[]` as `{}`). */
const JSONB_COLUMNS: ReadonlySet<string> = new Set([
  "additional_parameters",
  "claims_imports",
  "data",
  "extra_callback_parameters",
  "id_token_claims",
  "jwks",
  "metadata",
  "payload",
  "post_auth_action",
  "raw_parameters",
  "userinfo"
])

/** Columns holding ids: `…_id`, `id`, and the few foreign keys named otherwise. */
const isIdColumn = (k: string): boolean => k.endsWith("_id") || k === "id" || k === "started_by"

// Id columns hold ULIDs in memory and uuids in PostgreSQL; an array bound for a jsonb column goes as its JSON text.
const toPg = (row: Row): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === "string" && isIdColumn(k) && parseUlid(v)._tag === "Some"
        ? ulidToUuid(parseUlid(v).pipe((o) => (o._tag === "Some" ? o.value : (v as never))))
        : Array.isArray(v) && JSONB_COLUMNS.has(k)
          ? JSON.stringify(v)
          : v
    ])
  )

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

// The reverse of toPg: uuid text in id columns back to ULIDs.
const fromPg = (row: Record<string, unknown>): Row =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === "string" && isIdColumn(k) && UUID.test(v)
        ? uuidToUlid(v).pipe((o) => (o._tag === "Some" ? o.value : v))
        : v
    ])
  ) as Row

export const SeedPg = Layer.effect(
  Seed,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return {
      insert: (table, row) => Effect.asVoid(sql`INSERT INTO ${sql(table)} ${sql.insert(toPg(row))}`),
      count: (table) =>
        Effect.map(sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql(table)}`, (rows) => Number(rows[0]!.n)),
      dump: (table, idColumn) =>
        Effect.map(sql<Record<string, unknown>>`SELECT * FROM ${sql(table)} ORDER BY ${sql(idColumn)}`, (rows) =>
          rows.map(fromPg)
        ),
      delete: (table, idColumn, id) =>
        Effect.asVoid(sql`DELETE FROM ${sql(table)} WHERE ${sql(idColumn)} = ${toPg({ [idColumn]: id })[idColumn]}`)
    }
  })
)

export const SeedMemory = Layer.effect(
  Seed,
  Effect.gen(function* () {
    const store = yield* MemoryStore
    return {
      insert: (table, row) =>
        store.write((db) => Either.map(db.insert(table, row), (next) => [undefined, next] as const)),
      count: (table) => store.read((db) => db.size(table)),
      dump: (table, idColumn) =>
        store.read((db) =>
          [...db.rows(table)].sort((a, b) => {
            const x = String(a[idColumn])
            const y = String(b[idColumn])
            return x < y ? -1 : x > y ? 1 : 0
          })
        ),
      delete: (table, idColumn, id) =>
        store.write((db) =>
          Either.map(
            db.deleteWhere(table, (r) => r[idColumn] === id),
            ([, next]) => [undefined, next] as const
          )
        )
    }
  })
)

/** When seeded rows say they were created: the contract suites' epoch (MAS's test clock start). */
const SEEDED_AT = new Date("2022-01-16T14:40:00Z")

/**
 * Seeds an OAuth2 client row and returns its id: dynamic, with the authorization_code and refresh_token grants and
 * nothing else set, unless `columns` say otherwise.
 */
export const seedOAuth2ClientRow = (columns: Row = {}) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_clients", {
      oauth2_client_id: id,
      metadata_digest: null,
      encrypted_client_secret: null,
      application_type: null,
      redirect_uris: [],
      grant_type_authorization_code: true,
      grant_type_refresh_token: true,
      grant_type_client_credentials: false,
      grant_type_device_code: false,
      client_name: null,
      logo_uri: null,
      client_uri: null,
      policy_uri: null,
      tos_uri: null,
      jwks: null,
      jwks_uri: null,
      id_token_signed_response_alg: null,
      userinfo_signed_response_alg: null,
      token_endpoint_auth_method: null,
      token_endpoint_auth_signing_alg: null,
      initiate_login_uri: null,
      is_static: false,
      ...columns
    })
    return id
  })

/** Seeds an OAuth2 client (a table whose repository comes later) and returns its id. */
export const seedOAuth2Client = seedOAuth2ClientRow()

/** Seeds an upstream OAuth provider (a table whose repository comes later) and returns its id. */
export const seedUpstreamProvider = (issuer = "https://issuer.example.com/") =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("upstream_oauth_providers", {
      upstream_oauth_provider_id: id,
      issuer,
      human_name: null,
      brand_name: null,
      discovery_mode: "oidc",
      pkce_mode: "auto",
      jwks_uri_override: null,
      authorization_endpoint_override: null,
      token_endpoint_override: null,
      userinfo_endpoint_override: null,
      scope_list: ["openid"],
      fetch_userinfo: false,
      userinfo_signed_response_alg: null,
      client_id: "client",
      encrypted_client_secret: null,
      token_endpoint_signing_alg: null,
      token_endpoint_auth_method: "none",
      id_token_signed_response_alg: "RS256",
      response_mode: null,
      created_at: SEEDED_AT,
      disabled_at: null,
      claims_imports: {},
      additional_parameters: [],
      forward_login_hint: false,
      on_backchannel_logout: "do_nothing",
      registration_token_required: false,
      ui_order: 0
    })
    return id
  })

/**
 * The queue's jobs as `dump` gives them, ordered by attempt and then id: a retry made in the millisecond of its first
 * attempt may have the smaller id.
 */
export const dumpQueueJobs: Effect.Effect<ReadonlyArray<Row>, unknown, Seed> = Effect.map(
  Effect.flatMap(Seed, (seed) => seed.dump("queue_jobs", "queue_job_id")),
  (rows) => [...rows].sort((a, b) => Number(a.attempt) - Number(b.attempt))
)
