// The server ends the migrator's connection mid-migration: a typed failure, no partial write, the lock gone, and
// the next run succeeds on a fresh connection.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Duration, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { captureLogs, history, setup, tableNames, writeMigration } from "../migrate/helpers.js"
import { adminClient } from "../support/database.js"

/** The pid of the other session running a statement matching `pattern` (and waiting on a lock, if asked). */
const backendRunning = (sql: SqlClient.SqlClient, pattern: string, waitingOnLock = false) =>
  sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
       AND query LIKE ${pattern} AND query NOT LIKE '%pg_stat_activity%'
       AND (NOT ${waitingOnLock} OR wait_event_type = 'Lock')`.pipe(
    Effect.filterOrFail((rows) => rows.length === 1),
    Effect.map((rows) => rows[0]!.pid),
    Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400 })
  )

const advisoryLocks = (sql: SqlClient.SqlClient) =>
  sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.pipe(
    Effect.map((rows) => rows[0]!.n)
  )

/** The typed failure of an exit, failing the test on success, defect or interruption. */
const typedFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected the run to fail")
  expect(Cause.isDie(exit.cause)).toBe(false)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

// a lost connection must surface well within this: neither a hang nor a wait for the statement to finish
const SURFACES_WITHIN = Duration.seconds(10)

layer(adminClient, { excludeTestServices: true })("migrator losing its connection", (it) => {
  it.scoped(
    "terminated mid-transaction: typed error, nothing written, lock released, next run succeeds",
    () =>
      Effect.gen(function* () {
        const { dir, sql, migrator } = yield* setup({
          "1_create_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\n",
          "2_lost.sql": "CREATE TABLE lost (id int);\nINSERT INTO lost VALUES (1);\nSELECT pg_sleep(30);\n"
        })
        const running = yield* Effect.fork(captureLogs(Effect.exit(migrator.run())))
        const pid = yield* backendRunning(sql, "%pg_sleep(30)%")
        expect(yield* advisoryLocks(sql)).toBe(1)
        const started = Date.now()
        yield* sql`SELECT pg_terminate_backend(${pid})`

        const joined = yield* Fiber.join(running).pipe(Effect.timeout(SURFACES_WITHIN))
        expect(Date.now() - started).toBeLessThan(Duration.toMillis(SURFACES_WITHIN))
        const error = typedFailure(joined.result.pipe(Option.getRight, Option.getOrThrow))
        expect(error._tag).toBe("MigrationFailed")
        expect(error).toMatchObject({ version: 2n })
        expect(error.message).toMatch(/terminating connection due to administrator command \(SQLSTATE 57P01\)/)

        // the lock went with the session; nothing of migration 2 is visible, migration 1 stays applied
        expect(yield* advisoryLocks(sql)).toBe(0)
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
        expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a"])

        // the same service, on a fresh connection from its pool; the pending file may change (now it is quick)
        yield* writeMigration(dir, "2_lost.sql", "CREATE TABLE lost (id int);\nINSERT INTO lost VALUES (1);\n")
        const report = yield* migrator.run().pipe(Effect.timeout(Duration.seconds(45)))
        expect(report.applied.map((m) => m.version)).toEqual([2n])
        expect((yield* history(sql)).map((r) => [r.version, r.success])).toEqual([
          ["1", true],
          ["2", true]
        ])
        const [lost] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM lost`
        expect(lost!.n).toBe(1)
      }),
    60_000
  )

  it.scoped(
    "terminated mid-CREATE INDEX CONCURRENTLY: typed error, no history row, next run refuses the invalid index",
    () =>
      Effect.gen(function* () {
        const { sql, ctx, migrator } = yield* setup({
          "1_create_t.sql": "CREATE TABLE t (id int PRIMARY KEY, v text);\n",
          "2_t_v_idx.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_v_idx ON t (v);\n"
        })
        yield* migrator.run({ targetVersion: 1n })
        const blocker = yield* SqlClient.SqlClient.pipe(
          Effect.flatMap((s) => s.reserve),
          Effect.provide(ctx)
        )
        yield* blocker.executeRaw("BEGIN", [])
        yield* blocker.executeRaw("LOCK TABLE t IN ROW EXCLUSIVE MODE", [])

        const running = yield* Effect.fork(captureLogs(Effect.exit(migrator.run())))
        const pid = yield* backendRunning(sql, "%CREATE INDEX CONCURRENTLY%", true)
        yield* sql`SELECT pg_terminate_backend(${pid})`
        const joined = yield* Fiber.join(running).pipe(Effect.timeout(SURFACES_WITHIN))
        const error = typedFailure(joined.result.pipe(Option.getRight, Option.getOrThrow))
        expect(error._tag).toBe("MigrationFailed")
        expect(error.message).toContain("SQLSTATE 57P01")
        yield* blocker.executeRaw("ROLLBACK", [])

        expect(yield* advisoryLocks(sql)).toBe(0)
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
        const refused = typedFailure(yield* Effect.exit(migrator.run()))
        expect(refused._tag).toBe("InvalidIndexLeftBehind")
        expect(refused.message).toContain("DROP INDEX CONCURRENTLY public.t_v_idx;")
        expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
      }),
    60_000
  )
})
