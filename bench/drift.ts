// Speed report of the schema drift check (a script, not a test): every declared statement against a migrated database, warm (open connection, cache loaded) and cold (cache read, connect, describe).
import * as fs from "node:fs"
import { Effect, Layer, Logger, LogLevel } from "effect"
import pg from "pg"
import { selectDatabase, throwawayDataDir } from "../src/db/DatabaseSelection.js"
import { declaredQueries } from "../src/pg/queries.js"
import { defaultCacheDir } from "../src/querycheck/cache.js"
import { checkDrift, driftOn, loadCacheEntries } from "../src/querycheck/drift.js"
import { scratchDatabase } from "../src/querycheck/prepare.js"
import * as Startup from "../src/startup/index.js"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const value = yield* effect
    return { value, ms: performance.now() - start }
  })

const show = (label: string, runs: ReadonlyArray<number>) =>
  console.log(
    `${label}: median ${median(runs).toFixed(1)} ms (min ${Math.min(...runs).toFixed(1)}, max ${Math.max(...runs).toFixed(1)}, ${runs.length} runs)`
  )

const program = Effect.gen(function* () {
  const dataDir = throwawayDataDir()
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
  const server = yield* selectDatabase({ fallbacks: ["local", "embedded"], embedded: { dataDir, persistent: false } })
  const db = yield* scratchDatabase(server.url)

  // the first run in the process: modules loaded, but the cache's schema decoding and the driver not yet warmed up
  const first = yield* timed(checkDrift({ url: db.url, queries: declaredQueries }))
  if (first.value.differences.length > 0)
    throw new Error(`the migrated database drifted: ${first.value.differences.length}`)
  console.log(
    `${first.value.statements} statements (every static query and dynamic combination), PostgreSQL ${server.url.replace(/\/\/[^@]*@/, "//")}`
  )
  console.log(`cold, first run in the process (read cache, connect, describe, compare): ${first.ms.toFixed(1)} ms`)

  const cold: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) cold.push((yield* timed(checkDrift({ url: db.url, queries: declaredQueries }))).ms)
  show("cold (read cache, connect, describe, compare)", cold)

  const reads: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) reads.push((yield* timed(loadCacheEntries(defaultCacheDir))).ms)
  show("  of which reading and decoding the cache", reads)

  const entries = yield* loadCacheEntries(defaultCacheDir)
  const client = yield* Effect.acquireRelease(
    Effect.promise(async () => {
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      return c
    }),
    (c) => Effect.promise(() => c.end())
  )
  const warm: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) warm.push((yield* timed(driftOn(client, declaredQueries, entries))).ms)
  show("warm (open connection, cache loaded: one pipeline, two catalog queries, compare)", warm)

  // what the option adds to a start: the startup layer built with and without it, alternately, on the same database
  const start = (checkDrift: boolean) =>
    timed(
      Effect.scoped(Layer.build(Layer.fresh(Startup.layer({ databaseUrl: db.url, checkDrift })))).pipe(
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
    )
  const without: Array<number> = []
  const withDrift: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) {
    without.push((yield* start(false)).ms)
    withDrift.push((yield* start(true)).ms)
  }
  show("startup layer (connect, locale, migrations validated, no migration pending)", without)
  show("startup layer with checkDrift: true", withDrift)
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
