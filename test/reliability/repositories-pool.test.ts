// An exhausted pool: with pg-pool's connectionTimeoutMillis (PgClient's connectTimeout) a waiting call fails with a typed error in bounded time.
import { PgClient } from "@effect/sql-pg"
import { expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Redacted } from "effect"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer, TestDatabase } from "../support/database.js"

// One connection only, and a wait for it bounded by connectTimeout (pg-pool applies connectionTimeoutMillis to
// queued requests too; without it a request waits for a free client forever).
const exhaustiblePool = Layer.unwrapEffect(
  Effect.map(TestDatabase, ({ url }) =>
    Layer.provideMerge(
      RepositoryAccessPg.layer,
      PgClient.layer({ url: Redacted.make(url), maxConnections: 1, connectTimeout: Duration.millis(500) })
    )
  )
).pipe(Layer.provide(migratedDatabaseLayer({ maxConnections: 1 })))

it.live(
  "while a unit of work holds the only connection, a second call fails with a DriverError within the timeout",
  () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.users.add("alice")
            yield* Deferred.succeed(holding, undefined)
            yield* Deferred.await(release)
          })
        )
      )
      yield* Deferred.await(holding)
      const started = Date.now()
      const error = yield* Effect.flip(
        repos.users
          .add("bob")
          .pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => "hung" as const }))
      )
      const waited = Date.now() - started
      expect(error).toMatchObject({ _tag: "DriverError" })
      expect(String((error as { message?: unknown }).message)).toContain("timeout exceeded when trying to connect")
      expect(waited).toBeGreaterThanOrEqual(400)
      expect(waited).toBeLessThan(5_000)
      // Once the connection is free again, calls succeed and the held unit committed.
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      expect((yield* repos.users.add("carol")).username).toBe("carol")
      expect(yield* repos.users.count({})).toBe(2)
    }).pipe(Effect.provide(exhaustiblePool))
)
