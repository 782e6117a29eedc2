// The migrated template database of a test run: migrated once by the real Migrator, cloned by every test that needs the schema.
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, LogLevel, Logger, Redacted } from "effect"
import { withDatabase } from "../../src/db/probe.js"
import { Migrator } from "../../src/migrate/Migrator.js"

/**
 * Creates `name` on the server and applies the shipped migrations to it; the client is closed
 * before returning because `CREATE DATABASE … TEMPLATE` refuses a template with open connections.
 */
export const createMigratedTemplate = (adminUrl: string, name: string) =>
  Effect.gen(function* () {
    yield* Effect.gen(function* () {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      yield* sql.unsafe(`CREATE DATABASE "${name}"`)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })))
    yield* Effect.gen(function* () {
      yield* (yield* Migrator).run()
    }).pipe(
      // one line per applied migration would bury the test output
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.provide(
        Migrator.layer(Migrator.defaultConfig).pipe(
          Layer.provide(PgClient.layer({ url: Redacted.make(withDatabase(adminUrl, name)), maxConnections: 1 }))
        )
      )
    )
  })

export const dropDatabase = (adminUrl: string, name: string) =>
  Effect.gen(function* () {
    const sql = yield* PgClient.PgClient
    yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })))
