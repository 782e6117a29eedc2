// The package's startup entry point: one layer that runs config → client → migrator → validation → RepositoryAccess, in that order.
import { Config, Effect, Layer, Option, Redacted } from "effect"
import * as path from "node:path"
import { selectDatabase } from "../db/DatabaseSelection.js"
import { checkServerLocale } from "../db/ServerLocale.js"
import { migrateOnStartup, Migrator, type MigratorConfig } from "../migrate/Migrator.js"
import { validateMigrations } from "../migrate/index.js"
import * as Client from "../pg/client.js"
import { declaredQueries } from "../pg/queries.js"
import * as RepositoryAccessPg from "../pg/RepositoryAccessPg.js"
import { requireNoDrift } from "../querycheck/drift.js"

export { type Drift, SchemaDrift } from "../querycheck/drift.js"

export interface StartupOptions {
  /** The application's database. Default: `DATABASE_URL`, else an embedded PostgreSQL kept in `embeddedDataDir`. */
  readonly databaseUrl?: Redacted.Redacted | string | undefined
  /**
   * A direct connection for the migrator, when the application's goes through a pooler in transaction mode (the
   * migrator's advisory lock needs a session). Default: `MIGRATIONS_DATABASE_URL`, else the application's database.
   */
  readonly migrationsUrl?: Redacted.Redacted | string | undefined
  /** Apply pending migrations (the default); with `false`, refuse to start while any is pending. */
  readonly migrate?: boolean | undefined
  /** Where the embedded server keeps its data when no URL is given. Default: `.data/postgres` under the working directory. */
  readonly embeddedDataDir?: string | undefined
  /** Start on a server whose locale cannot fold case as the repositories assume, with a warning instead of a refusal. */
  readonly acceptServerLocale?: boolean | undefined
  /** The migrations and their review lists. Default: the shipped migrations. */
  readonly migrator?: Partial<MigratorConfig> | undefined
  /** The application pool's client settings (pool size, prepared statements, timeouts…). */
  readonly client?: Omit<Client.ClientOptions, "url"> | undefined
  /**
   * After the migrations, describe every declared statement on the database and refuse to start (SchemaDrift) when
   * a parameter or column no longer matches the committed query cache (a column altered, renamed or dropped by
   * hand). Index changes do not count. Off by default; it takes a few tens of milliseconds.
   */
  readonly checkDrift?: boolean | undefined
}

const redacted = (url: Redacted.Redacted | string): Redacted.Redacted =>
  typeof url === "string" ? Redacted.make(url) : url

/** `MIGRATIONS_DATABASE_URL`, empty counted as unset. */
const migrationsUrlFromEnv = Config.option(Config.redacted("MIGRATIONS_DATABASE_URL")).pipe(
  Config.map(Option.filter((url) => Redacted.value(url).trim().length > 0))
)

/**
 * The data layer, started as the design orders it: the config names the database (or the embedded one starts); the
 * client connects; the server's locale is checked; the migrator applies what is pending (or, with `migrate: false`,
 * refuses while anything is); the applied history is validated against the files; with `checkDrift`, every declared
 * statement is described and compared with the query cache; then RepositoryAccess and every
 * repository are given, with the client for the program's own queries. Each step's failure is typed and stops the
 * start before the next.
 */
export const layer = (options: StartupOptions = {}) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url =
        options.databaseUrl !== undefined
          ? redacted(options.databaseUrl)
          : Redacted.make(
              (yield* selectDatabase({
                fallbacks: ["embedded"],
                embedded: {
                  dataDir: options.embeddedDataDir ?? path.join(process.cwd(), ".data", "postgres"),
                  persistent: true
                }
              })).url
            )
      const client = yield* Layer.build(Client.layer({ ...options.client, url }))
      yield* checkServerLocale({ accept: options.acceptServerLocale === true }).pipe(Effect.provide(client))

      const migrationsUrl =
        options.migrationsUrl !== undefined ? Option.some(redacted(options.migrationsUrl)) : yield* migrationsUrlFromEnv
      const migrator = Migrator.layer({ ...Migrator.defaultConfig, ...options.migrator })
      yield* Effect.gen(function* () {
        yield* migrateOnStartup({ migrate: options.migrate !== false })
        yield* validateMigrations
      }).pipe(
        Effect.provide(
          Option.match(migrationsUrl, {
            // its own small pool, closed once the migrations are done
            onSome: (direct) => migrator.pipe(Layer.provide(Client.layer({ url: direct, maxConnections: 2 }))),
            onNone: () => migrator.pipe(Layer.provide(Layer.succeedContext(client)))
          })
        )
      )
      if (options.checkDrift === true) {
        const report = yield* requireNoDrift({ url: Redacted.value(url), queries: declaredQueries })
        yield* Effect.logInfo(`the schema matches the query cache: ${report.statements} statements described`)
      }
      return Layer.provideMerge(RepositoryAccessPg.layer, Layer.succeedContext(client))
    })
  )
