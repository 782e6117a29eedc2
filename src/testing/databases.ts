// Test databases on a real server: a template migrated once, and fresh databases cloned from it, dropped after use.

import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, LogLevel, Logger, Redacted } from "effect"
import { withDatabase } from "../db/probe.js"
import { Migrator } from "../migrate/Migrator.js"

let counter = 0
/** A database name no other test of any process picks: pid, time and a counter, with random letters. */
export const uniqueDatabaseName = (prefix: string) =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A one-connection client on the server's admin database, for creating and dropping databases. */
export const adminClientLayer = (adminUrl: string) =>
  PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })

/** Needs a `PgClient` on the admin database. A new database (cloned from `template` if given), dropped at scope end. */
export const scopedDatabase = (
  adminUrl: string,
  options?: {
    readonly template?: string | undefined
    readonly prefix?: string | undefined
    /** More of the CREATE DATABASE statement, e.g. `ENCODING 'UTF8' LC_CTYPE 'C'`. */
    readonly clause?: string | undefined
  }
) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const sql = yield* PgClient.PgClient
      const name = uniqueDatabaseName(options?.prefix ?? "t")
      const template = options?.template ? ` TEMPLATE "${options.template}"` : ""
      yield* sql.unsafe(`CREATE DATABASE "${name}"${template}${options?.clause ? ` ${options.clause}` : ""}`)
      return { name, url: withDatabase(adminUrl, name) }
    }),
    ({ name }) =>
      Effect.gen(function* () {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      }).pipe(Effect.orDie)
  )

/**
 * Creates `name` and applies the shipped migrations to it with the real Migrator. Its client is closed before this
 * returns: `CREATE DATABASE … TEMPLATE` refuses a template that has open connections.
 */
export const createMigratedTemplate = (adminUrl: string, name: string): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    yield* Effect.gen(function* () {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      yield* sql.unsafe(`CREATE DATABASE "${name}"`)
    }).pipe(Effect.provide(adminClientLayer(adminUrl)))
    yield* Effect.flatMap(Migrator, (migrator) => migrator.run()).pipe(
      // one line per applied migration would bury the test output
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.provide(
        Migrator.layer(Migrator.defaultConfig).pipe(
          Layer.provide(PgClient.layer({ url: Redacted.make(withDatabase(adminUrl, name)), maxConnections: 1 }))
        )
      )
    )
  })

/** Drops `name` on the server, closing its connections. */
export const dropDatabase = (adminUrl: string, name: string): Effect.Effect<void, SqlError> =>
  Effect.gen(function* () {
    const sql = yield* PgClient.PgClient
    yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }).pipe(Effect.provide(adminClientLayer(adminUrl)))
