// The package's testing kit: the in-memory RepositoryAccess, deterministic time and ids, and a fresh real-PostgreSQL RepositoryAccess per test.
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Random, Redacted, Schema, TestClock, TestContext } from "effect"
import { rm } from "node:fs/promises"
import { selectDatabase, throwawayDataDir } from "../db/DatabaseSelection.js"
import * as RepositoryAccessMemory from "../memory/RepositoryAccessMemory.js"
import * as Client from "../pg/client.js"
import * as RepositoryAccessPg from "../pg/RepositoryAccessPg.js"
import type { AnyRepository, RepositoryAccess } from "../storage/RepositoryAccess.js"
import {
  adminClientLayer,
  createMigratedTemplate,
  dropDatabase,
  scopedDatabase,
  uniqueDatabaseName
} from "./databases.js"

/** What either backend gives a test: RepositoryAccess and each repository's Tag. */
export type Repositories = RepositoryAccess | AnyRepository

/** Every repository over a new, empty in-memory database (one per build of the layer, so one per test). */
export const memory: Layer.Layer<Repositories> = RepositoryAccessMemory.layer

/** MAS's test epoch, 2022-01-16T14:40:00Z: the default time of {@link deterministic}. */
export const testEpoch = new Date("2022-01-16T14:40:00Z")

/**
 * Runs `effect` with a test clock set to `at` (default {@link testEpoch}) and `Random` seeded with `seed` (default
 * 42): ids are ULIDs made from `Clock` and `Random`, so they and every timestamp come out the same on every run and on
 * both backends. The clock moves only with `TestClock.adjust`.
 */
export const deterministic =
  (options?: { readonly at?: Date | number | undefined; readonly seed?: unknown }) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.zipRight(TestClock.setTime(new Date(options?.at ?? testEpoch).getTime()), effect).pipe(
      Effect.withRandom(Random.make(options?.seed ?? 42)),
      Effect.provide(TestContext.TestContext)
    )

export class TestServerError extends Schema.TaggedError<TestServerError>()("TestServerError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/** The server a test run uses and its database migrated with the shipped migrations, to clone per test. */
export class TestServer extends Context.Tag("mas-data-layer/testing/TestServer")<
  TestServer,
  { readonly adminUrl: string; readonly template: string }
>() {}

/**
 * A server for the tests that share this layer (a file, a `describe` block): `url` (an admin URL, its role allowed to
 * create databases) or `DATABASE_URL`, else a throw-away embedded PostgreSQL started here and removed at the end.
 * The shipped migrations are applied once, to a template database that {@link postgres} clones for each test.
 */
export const testServer = (options?: { readonly url?: string | undefined }): Layer.Layer<TestServer, TestServerError> =>
  Layer.scoped(
    TestServer,
    Effect.gen(function* () {
      const adminUrl =
        options?.url ??
        (yield* Effect.gen(function* () {
          const dataDir = throwawayDataDir()
          yield* Effect.addFinalizer(() => Effect.promise(() => rm(dataDir, { recursive: true, force: true })))
          return (yield* selectDatabase({ fallbacks: ["embedded"], embedded: { dataDir, persistent: false } })).url
        }))
      const template = uniqueDatabaseName("mas_template")
      yield* Effect.acquireRelease(createMigratedTemplate(adminUrl, template), () =>
        dropDatabase(adminUrl, template).pipe(Effect.ignore)
      )
      return { adminUrl, template }
    }).pipe(
      Effect.mapError((cause) =>
        cause instanceof TestServerError
          ? cause
          : new TestServerError({ message: `the test server did not start: ${String(cause)}`, cause })
      )
    )
  )

/**
 * Every repository on a new database cloned from the {@link TestServer}'s migrated template (about 10–50 ms), with
 * its own client; the database is dropped when the layer's scope closes. Provide it per test, as {@link memory}.
 */
export const postgres = (options?: {
  readonly maxConnections?: number | undefined
  readonly preparedStatements?: boolean | undefined
}): Layer.Layer<Repositories | PgClient.PgClient | SqlClient.SqlClient, SqlError, TestServer> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const server = yield* TestServer
      // the admin client stays open until the drop at the end of the scope
      const admin = yield* Layer.build(adminClientLayer(server.adminUrl))
      const db = yield* scopedDatabase(server.adminUrl, { template: server.template }).pipe(Effect.provide(admin))
      return Layer.provideMerge(
        RepositoryAccessPg.layer,
        Client.layer({
          url: Redacted.make(db.url),
          maxConnections: options?.maxConnections ?? 4,
          preparedStatements: options?.preparedStatements
        })
      )
    })
  )

/** The two backends by name, for running one test body on each: `for (const [name, layer] of backends) …`. */
export const backends = (options?: Parameters<typeof postgres>[0]) =>
  [
    ["memory", memory],
    ["postgres", postgres(options)]
  ] as const
