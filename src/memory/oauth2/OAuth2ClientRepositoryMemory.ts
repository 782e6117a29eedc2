// OAuth2ClientRepository in memory: the same rows, conflicts and deletions as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import type { GrantType, Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  clientFromRow,
  newClientRow,
  OAUTH2_CLIENTS,
  OAuth2ClientRow,
  staticClientColumns,
  upsertedStaticRow
} from "../../rows/oauth2/client.js"
import { type DriverError, RowsAffectedError } from "../../storage/common/errors.js"
import { containsInsensitive } from "../../storage/common/filters.js"
import { checkWellFormed } from "../../storage/common/limits.js"
import {
  checkNewClient,
  checkOAuth2ClientFilter,
  checkStaticClient,
  type OAuth2ClientFilter,
  OAuth2ClientRepository,
  oAuth2ClientWithDerivedMethods
} from "../../storage/oauth2/OAuth2ClientRepository.js"
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { rejectNul, requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { checkJsonb } from "../user/UserRegistrationRepositoryMemory.js"

type GrantTypeColumn =
  | "grant_type_authorization_code"
  | "grant_type_refresh_token"
  | "grant_type_client_credentials"
  | "grant_type_device_code"

const grantTypeColumns: Readonly<Record<GrantType, GrantTypeColumn>> = {
  authorization_code: "grant_type_authorization_code",
  refresh_token: "grant_type_refresh_token",
  client_credentials: "grant_type_client_credentials",
  "urn:ietf:params:oauth:grant-type:device_code": "grant_type_device_code"
}

/** The twin of the PostgreSQL filter fragment; the sessions `hasActiveSessions` looks at are read from the same state. */
const matches = (db: Database, filter: OAuth2ClientFilter) => {
  const withActiveSessions =
    filter.hasActiveSessions === undefined
      ? undefined
      : new Set(
          db
            .rows<Row>("oauth2_sessions")
            .filter((s) => s.finished_at === null)
            .map((s) => s.oauth2_client_id)
        )
  const grantColumn =
    filter.grantType !== undefined && Object.hasOwn(grantTypeColumns, filter.grantType)
      ? grantTypeColumns[filter.grantType]
      : undefined
  return (row: OAuth2ClientRow): boolean =>
    (filter.kind === undefined || row.is_static === (filter.kind === "static")) &&
    (filter.clientName === undefined ||
      (row.client_name !== null && containsInsensitive(row.client_name, filter.clientName))) &&
    (filter.clientUri === undefined ||
      (row.client_uri !== null && containsInsensitive(row.client_uri, filter.clientUri))) &&
    // A grant type without a column of its own: no client can have declared it.
    (filter.grantType === undefined || (grantColumn !== undefined && row[grantColumn])) &&
    (withActiveSessions === undefined || withActiveSessions.has(row.oauth2_client_id) === filter.hasActiveSessions)
}

/** A private copy of a key set, as a database holds its own (and as jsonb reads it back: through its JSON text). */
const copyJson = (value: unknown): unknown => (value === null ? null : JSON.parse(JSON.stringify(value)))

/** What PostgreSQL refuses while binding the row's parameters: NUL in text (22021), bad jsonb text (22P05, 22P02). */
const checkParameters = (db: Database, row: Row): Either.Either<void, DriverError> =>
  Either.flatMap(db.checkValues(row), () => (row.jwks === null ? Either.void : checkJsonb(row.jwks as Json)))

const toClient = optionalEntity(clientFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const clients = memoryTable(store, { table: OAUTH2_CLIENTS, idColumn: "oauth2_client_id", row: OAuth2ClientRow })

  /** Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none. */
  const selectClients = (filter: OAuth2ClientFilter) =>
    Effect.zipRight(
      rejectNul(filter.clientName, filter.clientUri),
      store.read((db) => clients.rows(db).filter(matches(db, filter)))
    )

  return OAuth2ClientRepository.of(
    oAuth2ClientWithDerivedMethods({
      lookup: (id) => Effect.flatMap(clients.get(id), toClient),

      findByMetadataDigest: (digest) =>
        Effect.zipRight(
          checkWellFormed({ digest }),
          Effect.flatMap(
            clients.find((r) => r.metadata_digest === digest, digest),
            toClient
          )
        ),

      loadBatch: (ids) =>
        Effect.gen(function* () {
          const wanted = new Set<string>(ids)
          yield* requireUlid(...wanted)
          const rows = yield* clients.select((r) => wanted.has(r.oauth2_client_id))
          return new Map<Ulid, ReturnType<typeof clientFromRow>>(
            rows.map((row) => [row.oauth2_client_id, clientFromRow(row)] as const)
          )
        }),

      // One write: the parameter checks, the conflict and the insert, as the one INSERT … ON CONFLICT DO NOTHING.
      add: (params) =>
        Effect.gen(function* () {
          const checked = yield* checkNewClient(params)
          const id = yield* generateUlid
          const built = newClientRow(id, checked)
          const row: OAuth2ClientRow = { ...built, jwks: copyJson(built.jwks) }
          yield* store.write((db) =>
            Either.gen(function* () {
              yield* checkParameters(db, row)
              const [next, inserted] = yield* db.insertIgnoringConflict(OAUTH2_CLIENTS, row)
              // Not inserted: the digest is another client's.
              if (!inserted) return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
              return [undefined, next] as const
            })
          )
          return clientFromRow(row)
        }),

      upsertStatic: (params) =>
        Effect.gen(function* () {
          const built = staticClientColumns(yield* checkStaticClient(params))
          const columns = { ...built, jwks: copyJson(built.jwks) }
          const id = columns.oauth2_client_id
          const stored = yield* store.write((db) =>
            Either.gen(function* () {
              yield* checkParameters(db, columns)
              const current = db.get<OAuth2ClientRow>(OAUTH2_CLIENTS, id)
              const row = upsertedStaticRow(current, columns)
              const next = Option.isSome(current)
                ? yield* db.update(OAUTH2_CLIENTS, id, () => row)
                : yield* db.insert(OAUTH2_CLIENTS, row)
              return [row, next] as const
            })
          )
          // The row as stored, decoded as PostgreSQL decodes the row its RETURNING gives back.
          return clientFromRow(yield* clients.decode(stored))
        }),

      allStatic: () =>
        Effect.map(
          clients.select((r) => r.is_static),
          (rows) => rows.map(clientFromRow)
        ),

      // One write, in the order of the PostgreSQL statement's parts; device-code grants go by the cascade.
      deleteById: (id) =>
        Effect.zipRight(
          requireUlid(id),
          store.write((db) =>
            Either.gen(function* () {
              if (Option.isNone(db.get(OAUTH2_CLIENTS, id))) {
                return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
              }
              const sessions = new Set(
                db
                  .rows<Row>("oauth2_sessions")
                  .filter((s) => s.oauth2_client_id === id)
                  .map((s) => s.oauth2_session_id)
              )
              const personal = new Set(
                db
                  .rows<Row>("personal_sessions")
                  .filter((p) => p.owner_oauth2_client_id === id)
                  .map((p) => p.personal_session_id)
              )
              const steps: ReadonlyArray<readonly [string, (row: Row) => boolean]> = [
                ["oauth2_authorization_grants", (g) => g.oauth2_client_id === id],
                ["oauth2_access_tokens", (t) => sessions.has(t.oauth2_session_id)],
                ["oauth2_refresh_tokens", (t) => sessions.has(t.oauth2_session_id)],
                ["oauth2_sessions", (s) => s.oauth2_client_id === id],
                ["personal_access_tokens", (t) => personal.has(t.personal_session_id)],
                ["personal_sessions", (p) => p.owner_oauth2_client_id === id],
                [OAUTH2_CLIENTS, (c) => c.oauth2_client_id === id]
              ]
              let next = db
              for (const [table, predicate] of steps) {
                next = (yield* next.deleteWhere(table, predicate))[1]
              }
              return [undefined, next] as const
            })
          )
        ),

      list: (filter, pagination) =>
        Effect.zipRight(
          Effect.zipRight(checkOAuth2ClientFilter(filter), checkCursors(pagination)),
          Effect.flatMap(selectClients(filter), (rows) =>
            paginate(rows, pagination, (r) => r.oauth2_client_id).tryMap((row) =>
              Either.map(clients.decode(row), clientFromRow)
            )
          )
        ),

      count: (filter) =>
        Effect.zipRight(
          checkOAuth2ClientFilter(filter),
          Effect.flatMap(selectClients(filter), (rows) => toSafeCountOrFail(rows.length))
        )
    })
  )
})

export const layer: Layer.Layer<OAuth2ClientRepository, never, MemoryStore> = Layer.effect(OAuth2ClientRepository, make)
