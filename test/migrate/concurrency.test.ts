// The migration lock in real time: waiting for another holder, two migrators racing, interruption releasing it.
import { expect, layer } from "@effect/vitest"
import { Effect, Either, Fiber, Schedule } from "effect"
import { migrationLockKey } from "../../src/migrate/LockKey.js"
import { adminClient, scopedDatabase } from "../support/database.js"
import { captureLogs, clientFor, history, migrationDir, migratorOn, setup, tableNames, testConfig } from "./helpers.js"

const files = {
  "1_create_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\nSELECT pg_sleep(0.3);\n",
  "2_create_posts.sql": "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n",
  "3_create_tags.sql": "CREATE TABLE tags (name text PRIMARY KEY);\n"
}

const locksOnThisDatabase = (granted: boolean) =>
  `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted = ${granted}
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// live services: the lock back-off sleeps on the real clock
layer(adminClient, { excludeTestServices: true })("migration lock", (it) => {
  it.scoped("waits (polling) while another session holds the key, then proceeds", () =>
    Effect.gen(function* () {
      const { sql, db, migrator } = yield* setup(files)
      const key = migrationLockKey(db.name)
      const other = yield* clientFor(db.url)
      const holder = yield* other.sql.reserve
      yield* holder.execute(`SELECT pg_advisory_lock(${key})`, [], undefined)

      const started = Date.now()
      const running = yield* Effect.fork(captureLogs(migrator.run()))
      yield* Effect.sleep("350 millis")
      // polled with pg_try_advisory_lock: no session is queued on the lock, and nothing was created yet
      const [waiting] = yield* sql<{ n: number }>`${sql.unsafe(locksOnThisDatabase(false))}`
      expect(waiting!.n).toBe(0)
      expect(yield* tableNames(sql)).toEqual([])
      yield* Effect.sleep("350 millis")
      yield* holder.execute(`SELECT pg_advisory_unlock(${key})`, [], undefined)

      const { result, lines } = yield* Fiber.join(running)
      const report = Either.getOrThrow(result)
      expect(Date.now() - started).toBeGreaterThanOrEqual(700)
      expect(report.applied.map((m) => m.version)).toEqual([1n, 2n, 3n])
      const waits = lines.filter((l) => l.level === "INFO" && l.message.includes("waiting for the migration lock"))
      expect(waits.length).toBeGreaterThanOrEqual(1)
      expect(waits[0]!.message).toContain(`advisory lock ${key}`)
      // back-off: 250 ms, doubling (how many waits fit in ~700 ms depends on the machine's load)
      const delays = waits.map((l) => Number(/retrying in (\d+) ms/.exec(l.message)?.[1]))
      expect(delays).toEqual([250, 500, 1000, 2000, 4000].slice(0, delays.length))
      const [held] = yield* sql<{ n: number }>`${sql.unsafe(locksOnThisDatabase(true))}`
      expect(held!.n).toBe(0)
    })
  )

  it.scoped("two migrators started together on an empty database apply each migration once", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir(files)
      const db = yield* scopedDatabase({ prefix: "migrate_race" })
      const a = yield* clientFor(db.url)
      const b = yield* clientFor(db.url)
      const first = yield* migratorOn(a.ctx, testConfig(dir))
      const second = yield* migratorOn(b.ctx, testConfig(dir))

      const { result, lines } = yield* captureLogs(Effect.all([first.run(), second.run()], { concurrency: 2 }))
      const [ra, rb] = Either.getOrThrow(result)
      expect(lines.filter((l) => l.level === "WARN" || l.level === "ERROR")).toEqual([])
      const applied = [...ra.applied, ...rb.applied].map((m) => m.version).sort()
      expect(applied).toEqual([1n, 2n, 3n])
      // the lock is held for the whole run: one migrator did everything, the other nothing
      expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, 3])
      expect((yield* history(a.sql)).map((r) => [r.version, r.success])).toEqual([
        ["1", true],
        ["2", true],
        ["3", true]
      ])
      expect(yield* tableNames(a.sql)).toEqual(["_sqlx_migrations", "posts", "tags", "users"])
    })
  )

  it.scoped("interrupting a run mid-migration rolls back and releases the lock", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({
        "1_slow.sql": "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(30);\n"
      })
      const running = yield* Effect.fork(migrator.run())
      // wait until the migration's pg_sleep is running
      yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`.pipe(
        Effect.filterOrFail((rows) => rows[0]!.n === 1),
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 })
      )
      const [held] = yield* sql<{ n: number }>`${sql.unsafe(locksOnThisDatabase(true))}`
      expect(held!.n).toBe(1)
      yield* Fiber.interrupt(running)

      const [after] = yield* sql<{ n: number }>`${sql.unsafe(locksOnThisDatabase(true))}`
      expect(after!.n).toBe(0)
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations"])
      expect(yield* history(sql)).toEqual([])
    })
  )
})
