// The command-line program: `start`, the `migrate …` commands and `worker`, built with @effect/cli.
import { Args, Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Console, Duration, Effect, Layer, Option, ParseResult, Redacted, Schema } from "effect"
import { checkServerLocale } from "../db/ServerLocale.js"
import { addMigration } from "../migrate/MigrationSource.js"
import {
  type MigrationProgress,
  type MigrationStatus,
  migrateOnStartup,
  Migrator,
  type MigratorConfig
} from "../migrate/Migrator.js"
import { shippedMigrationsDir } from "../paths.js"
import { declaredQueries } from "../pg/queries.js"
import { requireNoDrift } from "../querycheck/drift.js"
import * as RepositoryAccessMemory from "../memory/RepositoryAccessMemory.js"
import * as RepositoryAccessPg from "../pg/RepositoryAccessPg.js"
import { cliDatabaseLayer } from "./database.js"
import { example } from "./example.js"
import { queryCommand } from "./query.js"
import { jsonOption, printJson, withJsonErrors } from "./output.js"
import { stderrTerminal, withProgress } from "./progress.js"
import { workerProgram } from "./worker.js"
import { alternateChecksumEntry, appliedLine, infoSummary, infoTable, stateCounts } from "./render.js"

const source = Options.directory("source", { exists: "yes" }).pipe(
  Options.withDescription(
    "folder of <VERSION>_<description>.sql files (default: the migrations shipped with the program)"
  ),
  Options.optional
)
const databaseUrl = Options.text("database-url").pipe(
  Options.withDescription("PostgreSQL URL (default: $DATABASE_URL, else the embedded database in .data/postgres)"),
  Options.optional
)
/** An empty value counts as unset, as for DATABASE_URL (shells make that easy to do by accident). */
const migrationsUrl = Options.text("migrations-url").pipe(
  Options.withDescription(
    "PostgreSQL URL for the migrator only (default: $MIGRATIONS_DATABASE_URL, else the program's own database): " +
      "a direct connection when the program's goes through PgBouncer in transaction mode, which cannot keep the " +
      "migration lock's session"
  ),
  Options.withFallbackConfig(Config.string("MIGRATIONS_DATABASE_URL")),
  Options.optional,
  Options.map(Option.filter((url) => url.trim() !== ""))
)
const outOfOrder = Options.choice("out-of-order", ["warn", "error"]).pipe(
  Options.withDescription("what to do with a pending version lower than the highest applied one"),
  Options.withDefault("warn" as const)
)
const noPreparedStatements = Options.boolean("no-prepared-statements").pipe(
  Options.withDescription(
    "send every statement unnamed (for a pooler in transaction mode that cannot keep prepared statements)"
  )
)
const connection = { source, databaseUrl, migrationsUrl, outOfOrder, noPreparedStatements }

interface ConnectionOptions {
  readonly source: Option.Option<string>
  readonly databaseUrl: Option.Option<string>
  readonly migrationsUrl: Option.Option<string>
  readonly outOfOrder: "warn" | "error"
  readonly noPreparedStatements: boolean
}

const migratorConfig = (options: ConnectionOptions): MigratorConfig => ({
  ...Migrator.defaultConfig,
  source: Option.getOrElse(options.source, () => shippedMigrationsDir),
  outOfOrder: options.outOfOrder
})

/** The migrator's own client, when --migrations-url (or MIGRATIONS_DATABASE_URL) names one: it holds one session. */
const migrationsDatabase = (options: ConnectionOptions, url: string) =>
  cliDatabaseLayer({ ...options, databaseUrl: Option.some(url), maxConnections: 2 })

/** A migrate command's Migrator: on the migrations URL when one is given, else on the program's database. */
const migratorOnly = (options: ConnectionOptions) =>
  Migrator.layer(migratorConfig(options)).pipe(
    Layer.provide(
      Option.match(options.migrationsUrl, {
        onNone: () => cliDatabaseLayer(options),
        onSome: (url) => migrationsDatabase(options, url)
      })
    )
  )

/**
 * The program's database (`database`, with `rest` built on it) and a Migrator: on the same client, or on its own
 * when a migrations URL is given, so that only the migrator bypasses a pooler.
 */
const withMigratorAnd = <ROut, E, EDb>(
  options: ConnectionOptions,
  database: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, EDb>,
  rest: Layer.Layer<ROut, E, SqlClient.SqlClient>
) => {
  const migrator = Migrator.layer(migratorConfig(options))
  return Option.match(options.migrationsUrl, {
    onNone: () => Layer.merge(migrator, rest).pipe(Layer.provideMerge(database)),
    onSome: (url) =>
      Layer.merge(
        migrator.pipe(Layer.provide(migrationsDatabase(options, url))),
        rest.pipe(Layer.provideMerge(database))
      )
  })
}

const statusDocument = (statuses: ReadonlyArray<MigrationStatus>) => ({
  migrations: statuses,
  summary: Object.fromEntries(stateCounts(statuses))
})

const printInfo = (json: boolean) =>
  Effect.gen(function* () {
    const statuses = yield* (yield* Migrator).info
    if (json) return yield* printJson(statusDocument(statuses))
    yield* Console.log(infoTable(statuses))
    yield* Console.log(`\n${infoSummary(statuses)}`)
  })

/**
 * Runs `body` with an `onProgress` that shows slow migrations on stderr and, with `printApplied`, prints each applied
 * migration on stdout as it is done: a run that fails later still shows what it applied.
 */
const reportingProgress = <A, E, R>(
  printApplied: boolean,
  body: (onProgress: (progress: MigrationProgress) => Effect.Effect<void>) => Effect.Effect<A, E, R>
) =>
  withProgress({ terminal: stderrTerminal() }, (show) =>
    body((progress) =>
      show(progress).pipe(
        Effect.zipRight(
          printApplied && progress._tag === "Finished" ? Console.log(appliedLine(progress.migration)) : Effect.void
        )
      )
    )
  )

const run = Command.make(
  "run",
  {
    ...connection,
    json: jsonOption,
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print what would be applied; change nothing")),
    targetVersion: Options.text("target-version").pipe(
      Options.withSchema(Schema.BigInt),
      Options.withDescription("apply pending migrations up to and including this version"),
      Options.optional
    )
  },
  (options) =>
    Effect.gen(function* () {
      const migrator = yield* Migrator
      const report = yield* reportingProgress(!options.json, (onProgress) =>
        migrator.run({
          dryRun: options.dryRun,
          targetVersion: Option.getOrUndefined(options.targetVersion),
          onProgress
        })
      )
      if (options.json) return yield* printJson(report)
      if (report.dryRun) {
        if (report.planned.length === 0) yield* Console.log("dry run: nothing to apply, the database is up to date")
        for (const m of report.planned) yield* Console.log(`would apply ${m.version} ${m.description}`)
      } else if (report.applied.length === 0) {
        yield* Console.log("nothing to apply: the database is up to date")
      }
      for (const m of report.skipped)
        yield* Console.log(`left pending (above the target version) ${m.version} ${m.description}`)
    }).pipe(Effect.provide(migratorOnly(options)), withJsonErrors(options.json))
).pipe(Command.withDescription("apply pending migrations"))

const info = Command.make("info", { ...connection, json: jsonOption }, (options) =>
  printInfo(options.json).pipe(Effect.provide(migratorOnly(options)), withJsonErrors(options.json))
).pipe(Command.withDescription("one row per version: description, state, installed_on, execution time"))

const validate = Command.make("validate", { ...connection, json: jsonOption }, (options) =>
  Effect.gen(function* () {
    const report = yield* (yield* Migrator).validate
    if (options.json) return yield* printJson({ valid: true, ...report })
    yield* Console.log("applied migrations are valid")
  }).pipe(Effect.provide(migratorOnly(options)), withJsonErrors(options.json))
).pipe(Command.withDescription("check applied migrations against the files (checksums, unknown versions, dirty rows)"))

const add = Command.make("add", { source, description: Args.text({ name: "description" }) }, (options) =>
  Effect.gen(function* () {
    const path = yield* addMigration(
      Option.getOrElse(options.source, () => shippedMigrationsDir),
      options.description
    )
    yield* Console.log(path)
  })
).pipe(Command.withDescription("create a new, empty, timestamped migration file"))

const checksum = Command.make(
  "checksum",
  { ...connection, version: Args.text({ name: "version" }).pipe(Args.withSchema(Schema.BigInt)) },
  (options) =>
    Effect.gen(function* () {
      const applied = yield* (yield* Migrator).appliedChecksum(options.version)
      if (Option.isNone(applied)) {
        return yield* Effect.fail(new NotApplied({ version: options.version }))
      }
      yield* Console.log("Add this entry to allowedAlternateChecksums in src/migrate/allowed.ts:\n")
      yield* Console.log(alternateChecksumEntry(applied.value))
    }).pipe(Effect.provide(migratorOnly(options)))
).pipe(Command.withDescription("print the applied checksum of a version as an allowedAlternateChecksums entry"))

export class NotApplied extends Schema.TaggedError<NotApplied>()("NotApplied", { version: Schema.BigIntFromSelf }) {
  override get message() {
    return `version ${this.version} is not applied in this database: there is no checksum to accept`
  }
}

const migrate = Command.make("migrate").pipe(
  Command.withDescription("manage the database schema"),
  Command.withSubcommands([run, info, add, validate, checksum])
)

const acceptServerLocale = Options.boolean("accept-server-locale").pipe(
  Options.withDescription(
    "start even when the database cannot fold case as the repositories assume (not UTF-8, a C/POSIX or Turkic ctype); logs a warning instead of refusing"
  )
)

const startOptions = {
  ...connection,
  json: jsonOption,
  noMigrate: Options.boolean("no-migrate").pipe(
    Options.withDescription("do not apply migrations; refuse to start while any is pending")
  ),
  acceptServerLocale,
  checkDrift: Options.boolean("check-drift").pipe(
    Options.withDescription(
      "after migrating, describe every statement the program sends on the database and refuse to start when a parameter or column no longer matches the shipped query cache (a column altered, renamed or dropped by hand; index changes do not count)"
    )
  )
}

/** The drift check on the program's database, by the URL its client was opened with. */
const checkDriftOnDatabase = Effect.gen(function* () {
  const url = (yield* PgClient.PgClient).config.url
  if (url === undefined) return yield* Effect.dieMessage("the database client has no URL to check drift on")
  return yield* requireNoDrift({ url: Redacted.value(url), queries: declaredQueries })
})

const startHandler = (
  options: ConnectionOptions & {
    readonly json: boolean
    readonly noMigrate: boolean
    readonly acceptServerLocale: boolean
    readonly checkDrift: boolean
  }
) =>
  Effect.gen(function* () {
    yield* checkServerLocale({ accept: options.acceptServerLocale })
    const report = yield* reportingProgress(!options.json, (onProgress) =>
      migrateOnStartup({ migrate: !options.noMigrate, onProgress })
    )
    const drift = options.checkDrift ? yield* checkDriftOnDatabase : undefined
    if (!options.json) {
      if (drift !== undefined)
        yield* Console.log(`the schema matches the query cache: ${drift.statements} statements described`)
      return yield* printInfo(false)
    }
    const statuses = yield* (yield* Migrator).info
    yield* printJson({
      applied: report.applied,
      ...statusDocument(statuses),
      ...(drift === undefined ? {} : { drift: { statements: drift.statements, differences: 0 } })
    })
  }).pipe(
    Effect.provide(withMigratorAnd(options, cliDatabaseLayer(options), Layer.empty)),
    withJsonErrors(options.json)
  )

const start = Command.make("start", startOptions, startHandler).pipe(
  Command.withDescription(
    "connect (embedded database when none is named), migrate, validate, (with --check-drift) compare the schema with the query cache, print the schema state"
  )
)

const exampleCommand = Command.make(
  "example",
  {
    ...connection,
    username: Options.text("username").pipe(
      Options.withDescription("the user to register (default: a new name each run)"),
      Options.optional
    ),
    memory: Options.boolean("memory").pipe(
      Options.withDescription("run on the in-memory backend instead of PostgreSQL")
    ),
    acceptServerLocale
  },
  (options) => {
    const username = Option.getOrElse(options.username, () => `example-${Date.now().toString(36)}`)
    if (options.memory) return example(username).pipe(Effect.provide(RepositoryAccessMemory.layer))
    return checkServerLocale({ accept: options.acceptServerLocale }).pipe(
      Effect.zipRight(reportingProgress(false, (onProgress) => migrateOnStartup({ migrate: true, onProgress }))),
      Effect.zipRight(example(username)),
      Effect.provide(withMigratorAnd(options, cliDatabaseLayer(options), RepositoryAccessPg.layer))
    )
  }
).pipe(Command.withDescription("register a user, add an email and a password, open sessions, list them page by page"))

const DurationText = Schema.String.pipe(
  Schema.transformOrFail(Schema.DurationFromSelf, {
    strict: true,
    decode: (text, _, ast) =>
      Option.match(Duration.decodeUnknown(text), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, `not a duration: ${text} (say "30 seconds")`)),
        onSome: ParseResult.succeed
      }),
    encode: (duration) => ParseResult.succeed(Duration.format(duration))
  })
)

const workerCommand = Command.make(
  "worker",
  {
    ...connection,
    enqueue: Options.integer("enqueue").pipe(
      Options.withDescription("schedule this many demonstration jobs (queue demo) before starting"),
      Options.withDefault(0)
    ),
    exitWhenIdle: Options.boolean("exit-when-idle").pipe(
      Options.withDescription("stop once a tick finds no job to run and none running")
    ),
    runFor: Options.text("for").pipe(
      Options.withSchema(DurationText),
      Options.withDescription('stop after this long (e.g. "30 seconds")'),
      Options.optional
    ),
    maxConcurrentJobs: Options.integer("max-concurrent-jobs").pipe(
      Options.withDescription("jobs run at once"),
      Options.withDefault(10)
    ),
    memory: Options.boolean("memory").pipe(
      Options.withDescription("run on the in-memory backend instead of PostgreSQL (jobs last as long as the process)")
    ),
    acceptServerLocale
  },
  (options) => {
    if (options.memory) return workerProgram(options, Option.none()).pipe(Effect.provide(RepositoryAccessMemory.layer))
    // one connection per running transactional job, one for the ticks, one for the notifications
    const database = cliDatabaseLayer({ ...options, maxConnections: options.maxConcurrentJobs + 3 })
    return Effect.gen(function* () {
      yield* checkServerLocale({ accept: options.acceptServerLocale })
      yield* reportingProgress(true, (onProgress) => migrateOnStartup({ migrate: true, onProgress }))
      const pg = yield* PgClient.PgClient
      yield* workerProgram(options, Option.some(pg.listen("queue_available")))
    }).pipe(Effect.provide(withMigratorAnd(options, database, RepositoryAccessPg.layer)))
  }
).pipe(
  Command.withDescription(
    "run a job worker (the cleanup jobs and a demonstration queue) until Ctrl-C; migrates like start"
  )
)

/** The root command: with no subcommand it does what `start` does. */
export const command = Command.make("mas-data", startOptions, startHandler).pipe(
  Command.withDescription("data layer of the authentication service"),
  Command.withSubcommands([start, migrate, exampleCommand, queryCommand, workerCommand])
)

export const cli = Command.run(command, { name: "mas-data", version: "0.1.0" })
