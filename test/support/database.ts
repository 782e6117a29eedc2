// Per-test-file databases: each file gets its own fresh database on the shared server, dropped when the file ends.
import { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Layer, Redacted, Context } from "effect"
import { inject } from "vitest"
import { withDatabase } from "../../src/db/probe.js"
import * as Client from "../../src/pg/client.js"

export { withDatabase }

/** The admin URL of the server the whole test run uses. */
export const adminDatabaseUrl = (): string => inject("adminDatabaseUrl")

let counter = 0
const uniqueName = (prefix: string) =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** A client on the admin database, for creating and dropping test databases. */
export const adminClient = PgClient.layer({ url: Redacted.make(adminDatabaseUrl()), maxConnections: 1 })

/** Needs an admin `PgClient`. A scoped, freshly created database (optionally cloned from a template); its URL is returned and it is dropped at scope end. */
export const scopedDatabase = (options?: {
  readonly template?: string
  readonly prefix?: string
  /** More of the CREATE DATABASE statement, e.g. `ENCODING 'UTF8' LC_CTYPE 'C'`. */
  readonly clause?: string
}) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const sql = yield* PgClient.PgClient
      const name = uniqueName(options?.prefix ?? "t")
      const template = options?.template ? ` TEMPLATE "${options.template}"` : ""
      yield* sql.unsafe(`CREATE DATABASE "${name}"${template}${options?.clause ? ` ${options.clause}` : ""}`)
      return { name, url: withDatabase(adminDatabaseUrl(), name) }
    }),
    ({ name }) =>
      Effect.gen(function* () {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      }).pipe(Effect.orDie)
  )

export class TestDatabase extends Context.Tag("test/TestDatabase")<
  TestDatabase,
  { readonly name: string; readonly url: string }
>() {}

/** A layer with a fresh empty database and a client on it (prepared statements on unless `preparedStatements: false`). */
export const freshDatabaseLayer = (options?: {
  readonly template?: string
  readonly maxConnections?: number
  readonly preparedStatements?: boolean
}): Layer.Layer<TestDatabase | PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
  Layer.unwrapScoped(
    Effect.map(scopedDatabase(options), (db) =>
      Layer.merge(
        Layer.succeed(TestDatabase, db),
        Client.layer({
          url: Redacted.make(db.url),
          maxConnections: options?.maxConnections ?? 4,
          preparedStatements: options?.preparedStatements
        })
      )
    )
  ).pipe(Layer.provide(adminClient))

/** The run's migrated template database (see template.ts). */
export const migratedTemplate = (): string => inject("migratedTemplate")

/** A layer with a fresh database holding the current schema (cloned from the migrated template). */
export const migratedDatabaseLayer = (options?: {
  readonly maxConnections?: number
  readonly preparedStatements?: boolean
}) => freshDatabaseLayer({ template: migratedTemplate(), ...options })
