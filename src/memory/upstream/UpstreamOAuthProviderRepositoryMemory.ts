// UpstreamOAuthProviderRepository in memory: the same rows, checks and deletions as PostgreSQL, over the MemoryStore's tables.
import { Effect, Either, Layer, Option } from "effect"
import { generateUlid, type Ulid } from "../../model/Ulid.js"
import { disableUpstreamOAuthProvider, type UpstreamOAuthProviderParams } from "../../model/upstream.js"
import type { Json } from "../../model/values.js"
import { optionalEntity } from "../../rows/common.js"
import {
  newUpstreamOAuthProviderRow,
  UPSTREAM_OAUTH_PROVIDERS,
  upstreamOAuthProviderFromRow,
  UpstreamOAuthProviderRow,
  upsertedUpstreamOAuthProviderRow
} from "../../rows/upstream/upstreamOAuthProvider.js"
import { type DriverError, RowsAffectedError } from "../../storage/common/errors.js"
import { compareCodePoints } from "../../storage/common/filters.js"
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
import { toSafeCountOrFail } from "../common/count.js"
import { checkCursors, paginate } from "../common/pagination.js"
import { requireUlid } from "../common/parameters.js"
import type { Database, Row } from "../Database.js"
import { MemoryStore } from "../MemoryStore.js"
import { memoryTable } from "../Table.js"
import { checkJsonb } from "../user/UserRegistrationRepositoryMemory.js"

/** The twin of the PostgreSQL filter fragment. */
const matches =
  (filter: UpstreamOAuthProviderFilter) =>
  (row: UpstreamOAuthProviderRow): boolean =>
    filter.enabled === undefined || (row.disabled_at === null) === filter.enabled

/** A private copy of a document, as jsonb reads it back: through its JSON text. */
const copyJson = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A

/** The row as PostgreSQL receives it: its own copies of the JSON documents. */
const storedRow = (row: UpstreamOAuthProviderRow): UpstreamOAuthProviderRow => ({
  ...row,
  scope_list: [...row.scope_list],
  claims_imports: copyJson(row.claims_imports),
  additional_parameters: copyJson(row.additional_parameters)
})

/** What PostgreSQL refuses while binding the parameters: NUL in text (22021), then in the JSON documents (22P05). */
const checkParameters = (db: Database, row: UpstreamOAuthProviderRow): Either.Either<void, DriverError> =>
  Either.flatMap(db.checkValues(row as unknown as Row), () =>
    Either.flatMap(checkJsonb(row.claims_imports as Json), () => checkJsonb(row.additional_parameters as Json))
  )

const toProvider = optionalEntity(upstreamOAuthProviderFromRow)

export const make = Effect.gen(function* () {
  const store = yield* MemoryStore
  const providers = memoryTable(store, {
    table: UPSTREAM_OAUTH_PROVIDERS,
    idColumn: "upstream_oauth_provider_id",
    row: UpstreamOAuthProviderRow
  })

  /** Not decoded yet: as in PostgreSQL, a page decodes only its own rows and counting decodes none. */
  const selectProviders = (filter: UpstreamOAuthProviderFilter) =>
    store.read((db) => providers.rows(db).filter(matches(filter)))

  /** One write: the parameter checks, then the insert (or the overwrite of the stored row), as the one statement. */
  const write = (
    id: Ulid,
    createdAt: Date,
    params: UpstreamOAuthProviderParams,
    mode: "add" | "upsert"
  ): Effect.Effect<UpstreamOAuthProviderRow, DriverError> =>
    store.write((db) =>
      Either.gen(function* () {
        const current =
          mode === "upsert" ? db.get<UpstreamOAuthProviderRow>(UPSTREAM_OAUTH_PROVIDERS, id) : Option.none()
        const row = storedRow(
          mode === "upsert"
            ? upsertedUpstreamOAuthProviderRow(current, id, createdAt, params)
            : newUpstreamOAuthProviderRow(id, createdAt, params)
        )
        yield* checkParameters(db, row)
        const next = Option.isSome(current)
          ? yield* db.update(UPSTREAM_OAUTH_PROVIDERS, id, () => row as unknown as Row)
          : yield* db.insert(UPSTREAM_OAUTH_PROVIDERS, row as unknown as Row)
        return [row, next] as const
      })
    )

  /** The row as stored, decoded as PostgreSQL decodes the row its RETURNING gives back. */
  const returned = (row: UpstreamOAuthProviderRow) => Either.map(providers.decode(row), upstreamOAuthProviderFromRow)

  return UpstreamOAuthProviderRepository.of(
    upstreamOAuthProviderWithDerivedMethods({
      lookup: (id) => Effect.flatMap(providers.get(id), toProvider),

      add: (params) =>
        Effect.gen(function* () {
          const checked = yield* checkUpstreamOAuthProviderParams(params)
          const createdAt = yield* now
          const id = yield* generateUlid
          return yield* returned(yield* write(id, createdAt, checked, "add"))
        }),

      upsert: (id, params) =>
        Effect.gen(function* () {
          yield* checkUpsertId(id)
          const checked = yield* checkUpstreamOAuthProviderParams(params)
          const createdAt = yield* now
          return yield* returned(yield* write(id, createdAt, checked, "upsert"))
        }),

      disable: (provider) =>
        guardedTransition({
          ids: { provider: provider.id },
          transition: (at) => disableUpstreamOAuthProvider(provider, at),
          write: (at) => providers.updateOne(provider.id, (row) => ({ ...row, disabled_at: at }))
        }),

      // One write, in the order of the PostgreSQL statement's parts; the ON DELETE SET NULL keys of browser-session
      // authentications and registrations clear their references to the deleted sessions.
      deleteById: (id) =>
        Effect.zipRight(
          requireUlid(id),
          store.write((db) =>
            Either.gen(function* () {
              if (Option.isNone(db.get(UPSTREAM_OAUTH_PROVIDERS, id))) {
                return yield* Either.left(new RowsAffectedError({ expected: 1, actual: 0 }))
              }
              const steps: ReadonlyArray<readonly [string, (row: Row) => boolean]> = [
                ["upstream_oauth_authorization_sessions", (s) => s.upstream_oauth_provider_id === id],
                ["upstream_oauth_links", (l) => l.upstream_oauth_provider_id === id],
                [UPSTREAM_OAUTH_PROVIDERS, (p) => p.upstream_oauth_provider_id === id]
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
          Effect.zipRight(checkUpstreamOAuthProviderFilter(filter), checkCursors(pagination)),
          Effect.flatMap(selectProviders(filter), (rows) =>
            paginate(rows, pagination, (r) => r.upstream_oauth_provider_id).tryMap((row) =>
              Either.map(providers.decode(row), upstreamOAuthProviderFromRow)
            )
          )
        ),

      count: (filter) =>
        Effect.zipRight(
          checkUpstreamOAuthProviderFilter(filter),
          Effect.flatMap(selectProviders(filter), (rows) => toSafeCountOrFail(rows.length))
        ),

      allEnabled: () =>
        Effect.map(
          providers.select((r) => r.disabled_at === null),
          (rows) =>
            [...rows]
              .sort(
                (a, b) =>
                  a.ui_order - b.ui_order ||
                  compareCodePoints(a.upstream_oauth_provider_id, b.upstream_oauth_provider_id)
              )
              .map(upstreamOAuthProviderFromRow)
        )
    })
  )
})

export const layer: Layer.Layer<UpstreamOAuthProviderRepository, never, MemoryStore> = Layer.effect(
  UpstreamOAuthProviderRepository,
  make
)
