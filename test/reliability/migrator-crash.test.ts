// kill -9 of a migrating CLI process: mid-transaction nothing is recorded; mid-CREATE INDEX CONCURRENTLY the
// invalid index left behind is detected and named by the next run, which never proceeds over it.
import { describe, expect, it as pureIt, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Option, Schedule } from "effect"
import { spawn } from "node:child_process"
import { childEnv, repoRoot, runProcess } from "../cli/helpers.js"
import { concurrentIndexTargets, parseConcurrentIndex } from "../../src/migrate/InvalidIndexes.js"
import { clientFor, history, migrationDir, migratorOn, tableNames, testConfig } from "../migrate/helpers.js"
import { adminClient, scopedDatabase } from "../support/database.js"

const cliArgs = (url: string, dir: string) => [
  "--import",
  "tsx",
  "src/cli/main.ts",
  "migrate",
  "run",
  "--database-url",
  url,
  "--source",
  dir
]

/** `migrate run` as a child process that the test can SIGKILL; `exited` resolves with its signal. */
const startMigrator = (url: string, dir: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, cliArgs(url, dir), {
        cwd: repoRoot,
        env: childEnv(),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.stdout.resume()
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_code, signal) => resolve(signal))
      )
      return { child, exited, stderr: () => stderr }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/** The backend pid of the CLI's statement matching `pattern`, once it is running (and, if asked, waiting on a lock). */
const backendRunning = (sql: SqlClient.SqlClient, pattern: string, waitingOnLock = false) =>
  sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = 'mas-data' AND state = 'active'
       AND query LIKE ${pattern} AND (NOT ${waitingOnLock} OR wait_event_type = 'Lock')`.pipe(
    Effect.filterOrFail((rows) => rows.length === 1),
    Effect.map((rows) => rows[0]!.pid),
    // a child Node process starts in seconds on a loaded machine
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 600 })
  )

const backendGone = (sql: SqlClient.SqlClient, pid: number) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}`.pipe(
    Effect.filterOrFail((rows) => rows[0]!.n === 0),
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 300 })
  )

const advisoryLocks = (sql: SqlClient.SqlClient) =>
  sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.pipe(
    Effect.map((rows) => rows[0]!.n)
  )

const indexState = (sql: SqlClient.SqlClient, name: string) =>
  sql<{ valid: boolean }>`
    SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relname = ${name} AND c.relnamespace = 'public'::regnamespace`.pipe(
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => r.valid))
  )

describe("CREATE INDEX CONCURRENTLY targets", () => {
  pureIt("parses the index and table names as PostgreSQL stores them", () => {
    const some = (index: string | undefined, table: string, schema?: string) =>
      Option.some({ index: Option.fromNullable(index), tableSchema: Option.fromNullable(schema), table })
    expect(
      parseConcurrentIndex("CREATE INDEX CONCURRENTLY IF NOT EXISTS Users_Lower_IDX ON users (lower(name))")
    ).toEqual(some("users_lower_idx", "users"))
    expect(parseConcurrentIndex('create unique index concurrently "Odd ""Name""" on only app."T" (x)')).toEqual(
      some('Odd "Name"', "T", "app")
    )
    expect(parseConcurrentIndex("-- why\n/* a /* nested */ note */ CREATE INDEX CONCURRENTLY ON t (x)")).toEqual(
      some(undefined, "t")
    )
    expect(parseConcurrentIndex(`CREATE INDEX CONCURRENTLY ${"x".repeat(70)} ON t (x)`)).toEqual(
      some("x".repeat(63), "t")
    )
    expect(parseConcurrentIndex("CREATE INDEX plain_idx ON t (x)")).toEqual(Option.none())
    expect(parseConcurrentIndex("REINDEX INDEX CONCURRENTLY t_x_idx")).toEqual(Option.none())
    expect(concurrentIndexTargets("-- no-transaction\nCREATE INDEX CONCURRENTLY a_idx ON a (x);\n")).toHaveLength(1)
  })
})

layer(adminClient, { excludeTestServices: true })("migrator killed with SIGKILL", (it) => {
  it.scoped(
    "mid-transaction: nothing recorded, schema unchanged, the next run applies it",
    () =>
      Effect.gen(function* () {
        const dir = yield* migrationDir({
          "1_create_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\n",
          "2_slow_b.sql": "CREATE TABLE b (id int PRIMARY KEY);\nINSERT INTO b VALUES (1);\nSELECT pg_sleep(3);\n"
        })
        const db = yield* scopedDatabase({ prefix: "rel_kill_tx" })
        const { ctx, sql } = yield* clientFor(db.url)

        const running = yield* startMigrator(db.url, dir)
        const pid = yield* backendRunning(sql, "%pg_sleep(3)%")
        expect(yield* advisoryLocks(sql)).toBe(1)
        running.child.kill("SIGKILL")
        expect(yield* Effect.promise(() => running.exited)).toBe("SIGKILL")

        // the orphaned backend finishes its statement, finds the client gone and ends, rolling back
        yield* backendGone(sql, pid)
        expect(yield* advisoryLocks(sql)).toBe(0)
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
        expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a"])

        const report = yield* (yield* migratorOn(ctx, testConfig(dir))).run()
        expect(report.applied.map((m) => m.version)).toEqual([2n])
        expect((yield* history(sql)).map((r) => [r.version, r.success])).toEqual([
          ["1", true],
          ["2", true]
        ])
        const [b] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM b`
        expect(b!.n).toBe(1)
      }),
    60_000
  )

  it.scoped(
    "mid-CREATE INDEX CONCURRENTLY: the next run names the invalid index and how to fix it, changing nothing",
    () =>
      Effect.gen(function* () {
        const dir = yield* migrationDir({
          "1_create_big.sql":
            "CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL);\n" +
            "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000) AS g;\n",
          "2_big_v_idx.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS big_v_idx ON big (v);\n",
          "3_create_c.sql": "CREATE TABLE c (id int);\n"
        })
        const db = yield* scopedDatabase({ prefix: "rel_kill_cic" })
        const { ctx, sql } = yield* clientFor(db.url)
        const migrator = yield* migratorOn(ctx, testConfig(dir))
        yield* migrator.run({ targetVersion: 1n })

        // An open writer on the table: the build creates its (invalid) catalog entry, commits it, then waits for
        // this transaction before building, which is where the crash hits.
        const blocker = yield* (yield* clientFor(db.url)).sql.reserve
        yield* blocker.executeRaw("BEGIN", [])
        yield* blocker.executeRaw("LOCK TABLE big IN ROW EXCLUSIVE MODE", [])

        const running = yield* startMigrator(db.url, dir)
        const pid = yield* backendRunning(sql, "%CREATE INDEX CONCURRENTLY%", true)
        running.child.kill("SIGKILL")
        expect(yield* Effect.promise(() => running.exited)).toBe("SIGKILL")
        // a backend waiting on a lock does not notice its client is gone: end it, as the server's crash would
        yield* sql`SELECT pg_terminate_backend(${pid})`
        yield* backendGone(sql, pid)
        yield* blocker.executeRaw("ROLLBACK", [])

        expect(yield* indexState(sql, "big_v_idx")).toEqual(Option.some(false))
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])

        // the next run refuses before applying anything, naming the index, the migration and the fix
        const refused = yield* Effect.either(migrator.run())
        const error = Either.getLeft(refused).pipe(Option.getOrThrow)
        expect(error._tag).toBe("InvalidIndexLeftBehind")
        expect(error).toMatchObject({ version: 2n, indexes: ["public.big_v_idx"] })
        expect(error.message).toContain("DROP INDEX CONCURRENTLY public.big_v_idx;")
        // a dry run says so too
        expect(
          Either.getLeft(yield* Effect.either(migrator.run({ dryRun: true }))).pipe(Option.map((e) => e._tag))
        ).toEqual(Option.some("InvalidIndexLeftBehind"))
        // the operator sees one clear line from the CLI
        const cli = yield* Effect.promise(() =>
          runProcess(process.execPath, cliArgs(db.url, dir), { cwd: repoRoot, env: childEnv(), timeoutMs: 60_000 })
        )
        expect(cli.code).toBe(1)
        expect(cli.stderr).toMatch(
          /^error: index public\.big_v_idx is invalid .* migration 2 \(big v idx\).*DROP INDEX CONCURRENTLY public\.big_v_idx;/m
        )
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
        expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "big"])
        expect(yield* indexState(sql, "big_v_idx")).toEqual(Option.some(false))

        // the danger the check exists for: IF NOT EXISTS accepts the invalid index as it is
        yield* sql.unsafe("CREATE INDEX CONCURRENTLY IF NOT EXISTS big_v_idx ON big (v)")
        expect(yield* indexState(sql, "big_v_idx")).toEqual(Option.some(false))

        // following the instructions lets the next run build it for real
        yield* sql.unsafe("DROP INDEX CONCURRENTLY public.big_v_idx")
        const report = yield* migrator.run()
        expect(report.applied.map((m) => m.version)).toEqual([2n, 3n])
        expect(yield* indexState(sql, "big_v_idx")).toEqual(Option.some(true))
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1", "2", "3"])
      }),
    90_000
  )
})
