// The command-line program: `start`, the `migrate …` commands and `worker`, built with @effect/cli.
import { Args, Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Console, Duration, Effect, Layer, Option, ParseResult, Schema } from "effect"
import { checkServerLocale } from "../db/ServerLocale.js"
import { addMigration } from "../migrate/MigrationSource.js"
import { migrateOnStartup, Migrator, type MigratorConfig } from "../migrate/Migrator.js"
import { shippedMigrationsDir } from "../paths.js"
import * as RepositoryAccessMemory from "../memory/RepositoryAccessMemory.js"
import * as RepositoryAccessPg from "../pg/RepositoryAccessPg.js"
import { cliDatabaseLayer } from "./database.js"
import { example } from "./example.js"
import { queryCommand } from "./query.js"
import { workerProgram } from "./worker.js"
import { alternateChecksumEntry, formatNanos, infoSummary, infoTable } from "./render.js"

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
const outOfOrder = Options.choice("out-of-order", ["warn", "error"]).pipe(
  Options.withDescription("what to do with a pending version lower than the highest applied one"),
  Options.withDefault("warn" as const)
)
const noPreparedStatements = Options.boolean("no-prepared-statements").pipe(
  Options.withDescription(
    "send every statement unnamed (for a pooler in transaction mode that cannot keep prepared statements)"
  )
)
const connection = { source, databaseUrl, outOfOrder, noPreparedStatements }

interface ConnectionOptions {
  readonly source: Option.Option<string>
  readonly databaseUrl: Option.Option<string>
  readonly outOfOrder: "warn" | "error"
  readonly noPreparedStatements: boolean
}

const migratorConfig = (options: ConnectionOptions): MigratorConfig => ({
  ...Migrator.defaultConfig,
  source: Option.getOrElse(options.source, () => shippedMigrationsDir),
  outOfOrder: options.outOfOrder
})

/** Runs a command body with a Migrator (and its SqlClient) on the database the options name. */
const withMigrator = <A, E>(options: ConnectionOptions, body: Effect.Effect<A, E, Migrator | SqlClient.SqlClient>) =>
  body.pipe(Effect.provide(Migrator.layer(migratorConfig(options)).pipe(Layer.provideMerge(cliDatabaseLayer(options)))))

const printInfo = Effect.gen(function* () {
  const statuses = yield* (yield* Migrator).info
  yield* Console.log(infoTable(statuses))
  yield* Console.log(`\n${infoSummary(statuses)}`)
})

const run = Command.make(
  "run",
  {
    ...connection,
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print what would be applied; change nothing")),
    targetVersion: Options.text("target-version").pipe(
      Options.withSchema(Schema.BigInt),
      Options.withDescription("apply pending migrations up to and including this version"),
      Options.optional
    )
  },
  (options) =>
    withMigrator(
      options,
      Effect.gen(function* () {
        const migrator = yield* Migrator
        const report = yield* migrator.run({
          dryRun: options.dryRun,
          ...(Option.isSome(options.targetVersion) ? { targetVersion: options.targetVersion.value } : {})
        })
        if (report.dryRun) {
          if (report.planned.length === 0) yield* Console.log("dry run: nothing to apply, the database is up to date")
          for (const m of report.planned) yield* Console.log(`would apply ${m.version} ${m.description}`)
        } else {
          if (report.applied.length === 0) yield* Console.log("nothing to apply: the database is up to date")
          for (const m of report.applied) {
            yield* Console.log(`applied ${m.version} ${m.description} (${formatNanos(m.durationNs)})`)
          }
        }
        for (const m of report.skipped)
          yield* Console.log(`left pending (above the target version) ${m.version} ${m.description}`)
      })
    )
).pipe(Command.withDescription("apply pending migrations"))

const info = Command.make("info", connection, (options) => withMigrator(options, printInfo)).pipe(
  Command.withDescription("one row per version: description, state, installed_on, execution time")
)

const validate = Command.make("validate", connection, (options) =>
  withMigrator(
    options,
    Effect.gen(function* () {
      yield* (yield* Migrator).validate
      yield* Console.log("applied migrations are valid")
    })
  )
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
    withMigrator(
      options,
      Effect.gen(function* () {
        const applied = yield* (yield* Migrator).appliedChecksum(options.version)
        if (Option.isNone(applied)) {
          return yield* Effect.fail(new NotApplied({ version: options.version }))
        }
        yield* Console.log("Add this entry to allowedAlternateChecksums in src/migrate/allowed.ts:\n")
        yield* Console.log(alternateChecksumEntry(applied.value))
      })
    )
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
  noMigrate: Options.boolean("no-migrate").pipe(
    Options.withDescription("do not apply migrations; refuse to start while any is pending")
  ),
  acceptServerLocale
}

const startHandler = (
  options: ConnectionOptions & { readonly noMigrate: boolean; readonly acceptServerLocale: boolean }
) =>
  withMigrator(
    options,
    Effect.gen(function* () {
      yield* checkServerLocale({ accept: options.acceptServerLocale })
      const report = yield* migrateOnStartup({ migrate: !options.noMigrate })
      for (const m of report.applied)
        yield* Console.log(`applied ${m.version} ${m.description} (${formatNanos(m.durationNs)})`)
      yield* printInfo
    })
  )

const start = Command.make("start", startOptions, startHandler).pipe(
  Command.withDescription("connect (embedded database when none is named), migrate, validate, print the schema state")
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
    const database = cliDatabaseLayer(options)
    return checkServerLocale({ accept: options.acceptServerLocale }).pipe(
      Effect.zipRight(migrateOnStartup({ migrate: true })),
      Effect.zipRight(example(username)),
      Effect.provide(
        Layer.merge(Migrator.layer(migratorConfig(options)), RepositoryAccessPg.layer).pipe(
          Layer.provideMerge(database)
        )
      )
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
      const report = yield* migrateOnStartup({ migrate: true })
      for (const m of report.applied)
        yield* Console.log(`applied ${m.version} ${m.description} (${formatNanos(m.durationNs)})`)
      const pg = yield* PgClient.PgClient
      yield* workerProgram(options, Option.some(pg.listen("queue_available")))
    }).pipe(
      Effect.provide(
        Layer.merge(Migrator.layer(migratorConfig(options)), RepositoryAccessPg.layer).pipe(
          Layer.provideMerge(database)
        )
      )
    )
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
