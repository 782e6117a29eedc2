// The `query` commands: describe SQL on a live database, prepare the committed query cache, check it offline.
import * as fs from "node:fs"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import { selectDatabase, throwawayDataDir } from "../db/DatabaseSelection.js"
import { defaultEmbeddedDataDir } from "../paths.js"
import { checkAll, formatReport, requireClean } from "../querycheck/check.js"
import { declaredQueries } from "../pg/queries.js"
import { openDescriber } from "../querycheck/describe.js"
import { prepareCache, statementCount } from "../querycheck/prepare.js"

const databaseUrl = Options.text("database-url").pipe(
  Options.withDescription("PostgreSQL URL (default: $DATABASE_URL, else an embedded database)"),
  Options.optional
)

export class SqlInputError extends Schema.TaggedError<SqlInputError>()("SqlInputError", {
  source: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `cannot read SQL from ${this.source}: ${this.detail}`
  }
}

/** Statements of a file: separated by a line `-- next`; blank pieces are dropped. */
export const splitQueries = (text: string): ReadonlyArray<string> =>
  text
    .split(/^[ \t]*--[ \t]*next[ \t]*$/im)
    .map((q) => q.trim().replace(/;\s*$/, ""))
    .filter((q) => q.replace(/--[^\n]*/g, "").trim() !== "")

const readSql = (file: Option.Option<string>) =>
  Effect.try({
    try: () =>
      Option.isNone(file) || file.value === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(file.value, "utf8"),
    catch: (cause) =>
      new SqlInputError({
        source: Option.getOrElse(file, () => "standard input"),
        detail: cause instanceof Error ? cause.message : String(cause)
      })
  })

const describe = Command.make(
  "describe",
  {
    databaseUrl,
    file: Args.file({ name: "file", exists: "either" }).pipe(
      Args.withDescription(
        "SQL file (several statements separated by a line `-- next`); default or `-`: standard input"
      ),
      Args.optional
    )
  },
  (options) =>
    Effect.scoped(
      Effect.gen(function* () {
        const queries = splitQueries(yield* readSql(options.file))
        const url = Option.isSome(options.databaseUrl)
          ? options.databaseUrl.value
          : (yield* selectDatabase({
              fallbacks: ["embedded"],
              embedded: { dataDir: defaultEmbeddedDataDir, persistent: true }
            })).url
        const describer = yield* openDescriber(url)
        const results = yield* Effect.forEach(queries, (text) =>
          Effect.map(describer.describe(text), (d) => ({ text, params: d.params, columns: d.columns }))
        )
        yield* Console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2))
      })
    )
).pipe(
  Command.withDescription(
    "print parameter and column types, nullability and reasons of SQL statements (the cache is not touched)"
  )
)

const prepare = Command.make(
  "prepare",
  {
    databaseUrl,
    check: Options.boolean("check").pipe(
      Options.withDescription("describe again and fail if the committed cache differs (writes nothing)")
    )
  },
  (options) =>
    Effect.scoped(
      Effect.gen(function* () {
        const queries = declaredQueries
        const adminUrl = Option.isSome(options.databaseUrl)
          ? options.databaseUrl.value
          : (yield* Effect.acquireRelease(Effect.sync(throwawayDataDir), (dir) =>
              Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
            ).pipe(
              Effect.flatMap((dir) =>
                selectDatabase({ fallbacks: ["embedded"], embedded: { dataDir: dir, persistent: false } })
              )
            )).url
        const started = Date.now()
        const result = yield* prepareCache({ adminUrl, queries, mode: options.check ? "check" : "write" })
        const seconds = ((Date.now() - started) / 1000).toFixed(2)
        const described = `${statementCount(result.entries)} statements of ${result.entries.length} queries described`
        yield* Console.log(
          options.check
            ? `query cache is up to date: ${described} (${seconds} s)`
            : `query cache written: ${described} into src/querycheck/cache (${seconds} s)`
        )
      })
    )
).pipe(
  Command.withDescription(
    "describe every declared statement (static queries, each combination of the dynamic ones) on a scratch database and write src/querycheck/cache"
  )
)

const check = Command.make(
  "check",
  {
    report: Options.boolean("report").pipe(
      Options.withDescription("list every statement (static, and each combination of a dynamic query) with its state")
    )
  },
  (options) =>
    Effect.gen(function* () {
      const report = yield* checkAll(declaredQueries)
      yield* Console.log(formatReport(report, { all: options.report }))
      yield* requireClean(report)
    })
).pipe(Command.withDescription("check the declared queries against the committed cache, without a database"))

export const queryCommand = Command.make("query").pipe(
  Command.withDescription("offline-checked SQL: describe, prepare the cache, check it"),
  Command.withSubcommands([describe, prepare, check])
)
