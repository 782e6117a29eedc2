// Per-test-file databases: each file gets its own fresh database on the shared server, dropped when the file ends.
import { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit, Layer, Redacted, Context, Scope } from "effect"
import { afterAll, beforeAll, inject } from "vitest"
import { withDatabase } from "../../src/db/probe.js"
import * as Client from "../../src/pg/client.js"
import { adminClientLayer, scopedDatabase as scopedDatabaseOn } from "../../src/testing/databases.js"

export { withDatabase }

/** The admin URL of the server the whole test run uses. */
export const adminDatabaseUrl = (): string => inject("adminDatabaseUrl")

/** The admin URL through the run's PgBouncer (transaction mode); empty when pgbouncer is not installed. */
export const pgbouncerUrl = (): string => inject("pgbouncerUrl")

/** `url`'s database reached through `via` (a pooler's URL): via's host, port and user, url's database. */
const reachedVia = (url: string, via: string | undefined) =>
  via === undefined ? url : withDatabase(via, decodeURIComponent(new URL(url).pathname.slice(1)))

/** A client on the admin database, for creating and dropping test databases. */
export const adminClient = adminClientLayer(adminDatabaseUrl())

/** Needs an admin `PgClient`. A scoped, freshly created database (optionally cloned from a template); its URL is returned and it is dropped at scope end. */
export const scopedDatabase = (options?: {
  readonly template?: string
  readonly prefix?: string
  /** More of the CREATE DATABASE statement, e.g. `ENCODING 'UTF8' LC_CTYPE 'C'`. */
  readonly clause?: string
}) => scopedDatabaseOn(adminDatabaseUrl(), options)

export class TestDatabase extends Context.Tag("test/TestDatabase")<
  TestDatabase,
  { readonly name: string; readonly url: string }
>() {}

/**
 * A layer with a fresh empty database and a client on it (prepared statements on unless `preparedStatements: false`;
 * through the pooler at `via` when given, the database being made directly on the server).
 */
export const freshDatabaseLayer = (options?: {
  readonly template?: string
  readonly maxConnections?: number
  readonly preparedStatements?: boolean
  readonly via?: string
}): Layer.Layer<TestDatabase | PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
  Layer.unwrapScoped(
    Effect.map(scopedDatabase(options), (db) =>
      Layer.merge(
        Layer.succeed(TestDatabase, db),
        Client.layer({
          url: Redacted.make(reachedVia(db.url, options?.via)),
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
  readonly via?: string
}) => freshDatabaseLayer({ template: migratedTemplate(), ...options })

/**
 * Empties every table of the current database but the migration history, in one statement. Foreign keys are not
 * checked while it runs (the schema has cycles, so no deletion order exists), which needs a superuser.
 */
const emptyTables = Effect.gen(function* () {
  const sql = yield* PgClient.PgClient
  yield* sql.unsafe(`DO $$
DECLARE t text;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR t IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations' LOOP
    EXECUTE 'DELETE FROM ' || t;
  END LOOP;
END $$`)
})

/**
 * A migrated database shared by the tests of one `describe` block (made before its first test, dropped after its
 * last), and a layer giving each test a client on it with every table emptied first. A test so starts from the
 * state a fresh clone of the template has, at a hundredth of the cost of `CREATE DATABASE` (which copies the whole
 * template, about 10 MB, through the WAL). On a server where the test role is not a superuser the tables cannot be
 * emptied past their foreign keys, and each test gets a fresh clone instead.
 */
export const sharedMigratedDatabase = () => {
  const scope = Effect.runSync(Scope.make())
  const database = Effect.runSync(
    Effect.cached(
      Effect.gen(function* () {
        // the admin client lives in the block's scope too: the drop at the end needs it
        const admin = yield* Layer.build(adminClient)
        const db = yield* scopedDatabase({ template: migratedTemplate() }).pipe(Effect.provide(admin))
        const sql = Context.get(admin, PgClient.PgClient)
        const rows = yield* sql<{
          readonly super: boolean
        }>`SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user`
        return { ...db, canEmpty: rows[0]?.super === true }
      }).pipe(Scope.extend(scope), Effect.orDie)
    )
  )
  beforeAll(() => Effect.runPromise(database), 120_000)
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), 120_000)
  return (options?: {
    readonly maxConnections?: number
    readonly preparedStatements?: boolean
    /** A pooler's URL: the client reaches the block's database through it (emptying the tables goes there too). */
    readonly via?: string
  }): Layer.Layer<TestDatabase | PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
    Layer.unwrapEffect(
      Effect.map(database, (db) => {
        if (!db.canEmpty) return migratedDatabaseLayer(options)
        const client = Client.layer({
          url: Redacted.make(reachedVia(db.url, options?.via)),
          maxConnections: options?.maxConnections ?? 4,
          preparedStatements: options?.preparedStatements
        })
        return Layer.mergeAll(
          Layer.succeed(TestDatabase, { name: db.name, url: db.url }),
          Layer.effectDiscard(emptyTables).pipe(Layer.provideMerge(client))
        )
      })
    )
}
