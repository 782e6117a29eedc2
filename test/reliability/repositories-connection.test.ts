// Connection loss under the PostgreSQL repositories: a terminated backend is a typed DriverError, writes nothing, and the pool recovers.
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { describe } from "vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Redacted, Schedule } from "effect"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { adminClient, migratedDatabaseLayer, TestDatabase } from "../support/database.js"

/** Runs `sql` on the admin database (another connection, as an operator would). */
const asAdmin = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(adminClient))

const terminate = (pid: number) => asAdmin((sql) => sql`SELECT pg_terminate_backend(${pid})`)

/** A fresh client on the test database, so what is read there was committed. */
const committedUsernames = Effect.gen(function* () {
  const { url } = yield* TestDatabase
  return yield* Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ username: string }>`SELECT username FROM users ORDER BY username`
  ).pipe(
    Effect.map((rows) => rows.map((r) => r.username)),
    Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
  )
})

const withinTimeBound = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.timeoutFail(self, {
    duration: Duration.seconds(20),
    onTimeout: () => new Error("hung: no answer within 20 s")
  })

// Real time: the bounds below must be measured by the real clock. Each test has its own database.
const repositoriesOnFreshDatabase = () =>
  Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 2 }))

describe("connection loss", () => {
  it.live(
    "terminated inside a unit of work after a first write: DriverError, nothing committed, next call succeeds",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const sql = yield* SqlClient.SqlClient
        const exit = yield* repos
          .transaction(
            Effect.gen(function* () {
              yield* repos.users.add("alice")
              const [{ pid }] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`
              yield* terminate(pid!)
              yield* repos.users.add("bob")
            })
          )
          .pipe(withinTimeBound, Effect.flip)
        expect(exit).toMatchObject({ _tag: "DriverError" })
        expect(yield* committedUsernames).toEqual([])
        // The broken connection is not handed out again: the next calls get a working one.
        const carol = yield* withinTimeBound(repos.users.add("carol"))
        expect(carol.username).toBe("carol")
        yield* withinTimeBound(repos.transaction(repos.users.add("dave")))
        expect(yield* committedUsernames).toEqual(["carol", "dave"])
      }).pipe(Effect.provide(repositoriesOnFreshDatabase()))
  )

  it.live(
    "terminated during a slow (blocked) statement: DriverError, not a hang; nothing written; next call succeeds",
    () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const { url } = yield* TestDatabase
        const locked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        // Another session holds a lock on users, so the repository's INSERT waits on it.
        const holder = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`
              yield* Deferred.succeed(locked, undefined)
              yield* Deferred.await(release)
            })
          )
        ).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.fork)
        yield* Deferred.await(locked)
        const blocked = yield* Effect.fork(withinTimeBound(repos.users.add("alice")))
        // Find the waiting INSERT and end its backend.
        const pid = yield* asAdmin((sql) =>
          sql<{
            pid: number
          }>`SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO users%' AND wait_event_type = 'Lock'`.pipe(
            Effect.flatMap((rows) =>
              rows.length === 1 ? Effect.succeed(rows[0]!.pid) : Effect.fail("not yet waiting")
            ),
            Effect.retry(Schedule.spaced(Duration.millis(50)).pipe(Schedule.upTo(Duration.seconds(10))))
          )
        )
        yield* terminate(pid)
        const error = yield* Effect.flip(Fiber.join(blocked))
        expect(error).toMatchObject({ _tag: "DriverError" })
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        expect(yield* committedUsernames).toEqual([])
        const bob = yield* withinTimeBound(repos.users.add("bob"))
        expect(bob.username).toBe("bob")
        expect(yield* committedUsernames).toEqual(["bob"])
      }).pipe(Effect.provide(repositoriesOnFreshDatabase()))
  )
})
