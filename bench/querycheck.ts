// Speed report of the query cache (a script, not a test): the offline check of every declared query, and a prepare of 200 generated queries.
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { selectDatabase, throwawayDataDir } from "../src/db/DatabaseSelection.js"
import { loadMigrations } from "../src/migrate/MigrationSource.js"
import type { AnyStaticQuery } from "../src/pg/query.js"
import { fingerprintOf, readCache } from "../src/querycheck/cache.js"
import { checkAll, checkDeclarations } from "../src/querycheck/check.js"
import { declaredQueries } from "../src/pg/queries.js"
import { openDescriber } from "../src/querycheck/describe.js"
import { describeAll, prepareCache, scratchDatabase } from "../src/querycheck/prepare.js"

const ms = (start: number) => `${(performance.now() - start).toFixed(1)} ms`

const generated = (n: number): ReadonlyArray<AnyStaticQuery> =>
  Array.from({ length: n }, (_, i) => {
    const shapes = [
      `SELECT user_id, username, locked_at FROM users WHERE user_id = $1 AND username <> 'u${i}'`,
      `SELECT u.user_id, e.email, e.created_at FROM users u LEFT JOIN user_emails e ON e.user_id = u.user_id WHERE u.username = $1 OR ${i} = 0`,
      `SELECT count(*) AS n, max(created_at) AS newest FROM users WHERE username LIKE $1 || '${i}%'`,
      `WITH x AS (UPDATE users SET locked_at = $2 WHERE user_id = $1 RETURNING user_id) SELECT x.user_id, ${i} AS k FROM x`,
      `INSERT INTO users (user_id, username, created_at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING RETURNING user_id, ${i} AS k`
    ]
    return {
      kind: "static",
      name: `bench.q${String(i).padStart(3, "0")}`,
      text: shapes[i % shapes.length]!,
      params: Schema.Tuple(),
      row: Schema.Struct({}),
      table: "users"
    } as unknown as AnyStaticQuery
  })

const program = Effect.gen(function* () {
  // offline check
  let start = performance.now()
  const first = yield* checkAll(declaredQueries)
  console.log(
    `offline check, cold (imports every repository module, reads migrations and cache): ${ms(start)} for ${first.totals.statements} statements (${first.totals.static} static, ${first.totals.dynamic} dynamic combinations), ${first.errors.length} error(s)`
  )
  const queries = declaredQueries
  const cache = yield* readCache(join(process.cwd(), "src", "querycheck", "cache"))
  const migrations = fingerprintOf(yield* loadMigrations(join(process.cwd(), "migrations")))
  start = performance.now()
  const rounds = 100
  for (let i = 0; i < rounds; i++) checkDeclarations({ queries, cache, migrations })
  console.log(
    `offline check, warm (declarations against loaded cache): ${((performance.now() - start) / rounds).toFixed(2)} ms per run`
  )
  start = performance.now()
  yield* checkAll(declaredQueries)
  console.log(`offline check, second full run (files re-read, modules cached): ${ms(start)}`)

  // prepare of 200 generated queries
  const dataDir = throwawayDataDir()
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
  const server = yield* selectDatabase({ fallbacks: ["local", "embedded"], embedded: { dataDir, persistent: false } })
  const many = generated(200)
  const out = fs.mkdtempSync(join(os.tmpdir(), "querycheck-bench-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(out, { recursive: true, force: true })))
  start = performance.now()
  yield* prepareCache({ adminUrl: server.url, queries: many, mode: "write", cacheDir: out })
  console.log(
    `prepare of ${many.length} generated queries (scratch database, migrations, describe, write): ${ms(start)}`
  )
  yield* Effect.scoped(
    Effect.gen(function* () {
      const db = yield* scratchDatabase(server.url)
      const describer = yield* openDescriber(db.url)
      const t = performance.now()
      yield* describeAll(describer, many, migrations)
      console.log(`  of which describing ${many.length} queries on one connection: ${ms(t)}`)
    })
  )
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
