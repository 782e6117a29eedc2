// `npm run bench`: every benchmark of the README and BENCHMARKS.md on one server, printed as one table of interleaved A/B ratios.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { Effect, Schema } from "effect"
import { selectDatabase, throwawayDataDir } from "../src/db/DatabaseSelection.js"
import { benchCleanupUnderLoad, cleanupPlan } from "./cleanup.js"
import { createScratchDatabase, dropLeftovers, onAdmin, renderTable, type Row } from "./harness.js"
import { benchMigrate, benchValidate, PSQL } from "./migrations.js"
import { benchPagination } from "./pagination.js"
import { benchQueue } from "./queue.js"
import { benchMemoryVsPg, benchMix } from "./mix.js"
import { benchTokenLookups, benchRepository, migrateShipped, seedUsersSql } from "./repository.js"
import { benchSpanCost } from "./spans.js"

class BenchError extends Schema.TaggedError<BenchError>()("BenchError", {
  step: Schema.String,
  cause: Schema.Defect
}) {}

/** BENCH_QUICK=1 shrinks everything (a smoke run of the script, not a measurement). */
const quick = process.env.BENCH_QUICK === "1"

const plan = {
  tableRows: quick ? 110_000 : 1_000_000,
  repository: { rounds: quick ? 3 : 9, ops: { 1: quick ? 40 : 500, 16: quick ? 160 : 1_600 }, seededUsers: 10_000 },
  pagination: { rounds: quick ? 3 : 15, calls: quick ? 10 : 40, pageSize: 100, page: 1_000 },
  mix: { rounds: quick ? 3 : 9, operations: quick ? 600 : 10_000, concurrency: 32 },
  backends: { rounds: quick ? 3 : 9, iterations: quick ? 20 : 60 },
  migrate: { rounds: quick ? 1 : 5, count: 200 },
  validate: { rounds: quick ? 5 : 30, count: 1_000 },
  spans: { rounds: quick ? 3 : 15, calls: quick ? 10_000 : 200_000 },
  queue: { rounds: quick ? 3 : 9, jobs: quick ? 400 : 4_000 }
}

// Read from the installed package, as some packages' exports do not include their package.json.
const packageVersion = (name: string): string =>
  String(
    (
      JSON.parse(fs.readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")) as {
        version?: unknown
      }
    ).version
  )

const step = <A>(name: string, f: () => Promise<A>) =>
  Effect.gen(function* () {
    const started = performance.now()
    yield* Effect.sync(() => process.stderr.write(`bench: ${name}…`))
    const value = yield* Effect.tryPromise({ try: f, catch: (cause) => new BenchError({ step: name, cause }) })
    yield* Effect.sync(() => process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`))
    return value
  })

const program = Effect.gen(function* () {
  const dataDir = throwawayDataDir()
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
  const server = yield* selectDatabase({ fallbacks: ["local", "embedded"], embedded: { dataDir, persistent: false } })
  const adminUrl = server.url
  yield* Effect.addFinalizer(() => Effect.promise(() => dropLeftovers(adminUrl).catch(() => undefined)))
  const started = performance.now()

  const serverVersion = yield* step("server version", () =>
    onAdmin(
      adminUrl,
      async (c) => (await c.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version
    )
  )
  const rows: Array<Row> = []

  const main = yield* step("scratch database with the shipped migrations", async () => {
    const db = await createScratchDatabase(adminUrl, "main")
    await migrateShipped(db.url)
    return db
  })
  yield* step(`bulk load of ${plan.tableRows.toLocaleString("en")} users`, () =>
    onAdmin(main.url, async (c) => {
      await c.query(seedUsersSql(plan.tableRows))
      await c.query("VACUUM ANALYZE users")
    })
  )
  rows.push(
    yield* step("(d) keyset pagination", () =>
      benchPagination(main.url, { ...plan.pagination, tableRows: plan.tableRows })
    )
  )
  const repository = yield* step("(a) repository vs raw pg, (a′) vs Kysely, Drizzle, SqlSchema", () =>
    benchRepository(main.url, plan.repository)
  )
  rows.push(...repository.raw)
  rows.push(
    ...(yield* step("(a) OAuth2, compat and personal access-token lookups vs raw pg", () =>
      benchTokenLookups(main.url, plan.repository)
    ))
  )
  rows.push(...repository.peers)
  rows.push(yield* step("(a) tracing cost with no tracer", () => benchSpanCost(plan.spans)))
  rows.push(...(yield* step("(e) user-family mix, repository vs raw pg", () => benchMix(main.url, plan.mix))))
  rows.push(yield* step("(e′) memory vs PostgreSQL", () => benchMemoryVsPg(main.url, plan.backends)))
  rows.push(
    ...(yield* step("(f) queue reserve + complete, 4 workers vs raw pg", () => benchQueue(main.url, plan.queue)))
  )
  yield* step("drop the scratch database", () => main.drop())
  rows.push(...(yield* step("(b) migrating an empty database", () => benchMigrate(adminUrl, plan.migrate))))
  rows.push(...(yield* step("(c) startup validation", () => benchValidate(adminUrl, plan.validate))))
  rows.push(
    ...(yield* step("token lookups during the expired-token cleanup job", () =>
      benchCleanupUnderLoad(adminUrl, cleanupPlan(quick))
    ))
  )

  const psqlVersion = execFileSync(PSQL, ["--version"], { encoding: "utf8" }).trim()
  const libraries = ["effect", "@effect/sql", "@effect/sql-pg", "pg", "kysely", "drizzle-orm"].map(
    (name) => `${name} ${packageVersion(name)}`
  )
  const machine = [
    `machine: ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? "unknown"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    `PostgreSQL server ${serverVersion} (${server.source}), ${psqlVersion}, Node ${process.version}`,
    libraries.join(", "),
    `rounds: (a), (a′) ${plan.repository.rounds} × ${plan.repository.ops[1]} ops at concurrency 1 / ${plan.repository.ops[16]} at 16 ` +
      `(0.4 × that for the list page); (b) ${plan.migrate.rounds}; (c) ${plan.validate.rounds}; ` +
      `(d) ${plan.pagination.rounds} × ${plan.pagination.calls} calls; ` +
      `(e) ${plan.mix.rounds} × ${plan.mix.operations.toLocaleString("en")} ops at concurrency ${plan.mix.concurrency}; ` +
      `(e′) ${plan.backends.rounds} × ${plan.backends.iterations} iterations of 6 operations; ` +
      `(f) ${plan.queue.rounds} × ${plan.queue.jobs.toLocaleString("en")} jobs`,
    `total ${((performance.now() - started) / 1000).toFixed(0)} s${quick ? " (BENCH_QUICK: not a measurement)" : ""}`
  ]
  yield* Effect.sync(() => console.log(["", ...machine, "", renderTable(rows)].join("\n")))
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
