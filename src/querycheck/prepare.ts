// `query prepare`: migrates a scratch database, describes every declared statement (static, and each dynamic combination), and writes (or checks) the committed cache.
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Logger, LogLevel, Redacted, Schema, type Scope } from "effect"
import { withDatabase } from "../db/probe.js"
import { loadMigrations } from "../migrate/MigrationSource.js"
import { Migrator } from "../migrate/Migrator.js"
import { type AnyQuery, combinationId } from "./declaration.js"
import { shippedMigrationsDir } from "../paths.js"
import {
  type AnyCacheEntry,
  cacheContents,
  defaultCacheDir,
  diffCache,
  dynamicEntryOf,
  entryOf,
  isDynamicEntry,
  fingerprintOf,
  type MigrationFingerprint,
  writeCache
} from "./cache.js"
import { type Describer, openDescriber } from "./describe.js"

export class QueryDescribeFailed extends Schema.TaggedError<QueryDescribeFailed>()("QueryDescribeFailed", {
  query: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `query ${this.query} cannot be described: ${this.detail}`
  }
}

export class ScratchDatabaseError extends Schema.TaggedError<ScratchDatabaseError>()("ScratchDatabaseError", {
  detail: Schema.String
}) {
  override get message() {
    return `scratch database: ${this.detail}`
  }
}

export class CacheOutOfDate extends Schema.TaggedError<CacheOutOfDate>()("CacheOutOfDate", {
  differences: Schema.Array(Schema.String)
}) {
  override get message() {
    return `the committed query cache is out of date (run npm run query:prepare and commit src/querycheck/cache):\n${this.differences.map((d) => `  ${d}`).join("\n")}`
  }
}

/** Describes every static query and every combination of each dynamic one into cache entries (in declaration order). */
export const describeAll = (describer: Describer, queries: ReadonlyArray<AnyQuery>, migrations: MigrationFingerprint) =>
  Effect.forEach(
    // a dynamic query declared by description only has nothing to describe (the check reports it unchecked)
    queries.filter((q) => q.kind === "static" || q.combinations.length > 0),
    (query): Effect.Effect<AnyCacheEntry, QueryDescribeFailed> =>
      query.kind === "static"
        ? describer.describe(query.text).pipe(
            Effect.mapError((e) => new QueryDescribeFailed({ query: query.name, detail: e.message })),
            Effect.map((description) => entryOf(query.name, query.text, migrations, description))
          )
        : Effect.map(
            Effect.forEach(query.combinations, (combination) =>
              describer.describe(combination.text).pipe(
                Effect.mapError(
                  (e) =>
                    new QueryDescribeFailed({
                      query: `${query.name} [${combinationId(combination)}]`,
                      detail: e.message
                    })
                ),
                Effect.map((description) => ({ ...combination, description }))
              )
            ),
            (combinations) => dynamicEntryOf(query.name, migrations, combinations)
          )
  )

/** The number of statements the entries describe (each combination of a dynamic query is one). */
export const statementCount = (entries: ReadonlyArray<AnyCacheEntry>): number =>
  entries.reduce((n, e) => n + (isDynamicEntry(e) ? e.combinations.length : 1), 0)

/**
 * A fresh database on the server of `adminUrl`, migrated with the shipped migrations (or `migrationsDir`), dropped
 * when the scope closes. Only the database created here is ever dropped.
 */
export const scratchDatabase = (adminUrl: string, migrationsDir: string = shippedMigrationsDir) =>
  Effect.gen(function* () {
    const name = `mas_querycheck_${process.pid}_${Date.now().toString(36)}`
    const admin = PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })
    const onAdmin = (statement: string) =>
      Effect.gen(function* () {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(statement)
      }).pipe(
        Effect.provide(admin),
        Effect.mapError((e) => new ScratchDatabaseError({ detail: `${statement}: ${e.message}` }))
      )
    yield* Effect.acquireRelease(onAdmin(`CREATE DATABASE "${name}"`), () =>
      onAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).pipe(
        Effect.catchAll((e) => Effect.logWarning(`could not drop the scratch database ${name}: ${e.message}`))
      )
    )
    const url = withDatabase(adminUrl, name)
    yield* Effect.gen(function* () {
      yield* (yield* Migrator).run()
    }).pipe(
      // one log line per migration would bury the prepare output
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.provide(
        Migrator.layer({ ...Migrator.defaultConfig, source: migrationsDir }).pipe(
          Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
        )
      ),
      Effect.mapError((e) => new ScratchDatabaseError({ detail: `migrating ${name}: ${e.message}` }))
    )
    return { name, url }
  })

export interface PrepareResult {
  readonly entries: ReadonlyArray<AnyCacheEntry>
  readonly database: string
}

/**
 * On the server of `adminUrl`: scratch database, migrations, describe of `queries`, then writes the cache folder
 * (`mode: "write"`) or fails with CacheOutOfDate when it differs (`mode: "check"`).
 */
export const prepareCache = (options: {
  readonly adminUrl: string
  readonly queries: ReadonlyArray<AnyQuery>
  readonly mode: "write" | "check"
  readonly cacheDir?: string
  readonly migrationsDir?: string
}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const migrationsDir = options.migrationsDir ?? shippedMigrationsDir
      const migrations = fingerprintOf(yield* loadMigrations(migrationsDir))
      const db = yield* scratchDatabase(options.adminUrl, migrationsDir)
      const entries = yield* describeWith(db.url, options.queries, migrations)
      const files = cacheContents(entries)
      const dir = options.cacheDir ?? defaultCacheDir
      if (options.mode === "write") yield* writeCache(dir, files)
      else {
        const differences = yield* diffCache(dir, files)
        if (differences.length > 0) return yield* new CacheOutOfDate({ differences })
      }
      return { entries, database: db.name } satisfies PrepareResult
    })
  )

const describeWith = (url: string, queries: ReadonlyArray<AnyQuery>, migrations: MigrationFingerprint) =>
  Effect.gen(function* () {
    const describer: Describer = yield* openDescriber(url)
    return yield* describeAll(describer, queries, migrations)
  }) satisfies Effect.Effect<unknown, unknown, Scope.Scope>
