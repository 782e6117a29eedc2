// The migrator through a real PgBouncer: refused in transaction mode before anything is done, read-only calls answered, session mode and direct connections migrated.
import { PgClient } from "@effect/sql-pg"
import { expect, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import { describe } from "vitest"
import { MigrationConnectionNotSession } from "../../src/migrate/errors.js"
import type { MigratorService } from "../../src/migrate/Migrator.js"
import { probeSession, refuseUnlessSession } from "../../src/migrate/SessionCheck.js"
import { adminClient, adminDatabaseUrl, pgbouncerUrl, scopedDatabase, withDatabase } from "../support/database.js"
import { startPgBouncer } from "../support/pgbouncer.js"
import { clientFor, history, migrationDir, migratorOn, tableNames, testConfig } from "./helpers.js"

const FILES = {
  "1_create_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
  "2_index_users.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n"
}

const pooler = pgbouncerUrl()

const states = (migrator: MigratorService) =>
  Effect.map(migrator.info, (statuses) => statuses.map((s) => [s.version, s.state] as const))

/** Needs the admin client and a Scope: a fresh database, a client on it directly and one through `via`. */
const databaseVia = (via: string, maxConnections = 3) =>
  Effect.gen(function* () {
    const dir = yield* migrationDir(FILES)
    const db = yield* scopedDatabase({ prefix: "pooler" })
    const direct = yield* clientFor(db.url)
    const pooled = yield* Layer.build(
      PgClient.layer({ url: Redacted.make(withDatabase(via, db.name)), maxConnections })
    ).pipe(Effect.map((ctx) => ({ ctx, sql: Context.get(ctx, PgClient.PgClient) })))
    const config = testConfig(dir)
    return {
      direct,
      pooled,
      viaPooler: yield* migratorOn(pooled.ctx, config),
      viaDirect: yield* migratorOn(direct.ctx, config)
    }
  })

describe.skipIf(pooler === "")("Migrator through PgBouncer", () => {
  layer(adminClient, { excludeTestServices: true })("transaction mode", (it) => {
    it.scoped("run is refused as not a session, naming the direct-URL option, and the database is unchanged", () =>
      Effect.gen(function* () {
        const { direct, viaPooler } = yield* databaseVia(pooler)
        const error = yield* Effect.flip(viaPooler.run())
        expect(error).toBeInstanceOf(MigrationConnectionNotSession)
        expect(error.message).toContain("the migration connection is not a session")
        expect(error.message).toContain("pool_mode = transaction")
        expect(error.message).toContain("advisory lock")
        expect(error.message).toContain("--migrations-url")
        expect(error.message).toContain("MIGRATIONS_DATABASE_URL")
        expect(yield* tableNames(direct.sql)).toEqual([])
        // no lock was taken, so none is left behind on a server connection of the pool
        const locks = yield* direct.sql<{
          n: number
        }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
        expect(locks[0]!.n).toBe(0)
      })
    )

    it.scoped("a dry run is refused too, as the run it previews would be", () =>
      Effect.gen(function* () {
        const { direct, viaPooler } = yield* databaseVia(pooler)
        const error = yield* Effect.flip(viaPooler.run({ dryRun: true }))
        expect(error._tag).toBe("MigrationConnectionNotSession")
        expect(yield* tableNames(direct.sql)).toEqual([])
      })
    )

    it.scoped("info, validate and appliedChecksum need no lock and answer through the pooler as directly", () =>
      Effect.gen(function* () {
        const { viaDirect, viaPooler } = yield* databaseVia(pooler)
        // nothing applied yet: everything pending on both
        expect(yield* states(viaPooler)).toEqual([
          [1n, "pending"],
          [2n, "pending"]
        ])
        yield* viaDirect.run()
        expect(yield* states(viaPooler)).toEqual(yield* states(viaDirect))
        expect(yield* states(viaPooler)).toEqual([
          [1n, "applied"],
          [2n, "applied"]
        ])
        const report = yield* viaPooler.validate
        expect(report.appliedCount).toBe(2)
        expect(report.pending).toEqual([])
        const checksum = yield* viaPooler.appliedChecksum(1n)
        expect(checksum).toEqual(yield* viaDirect.appliedChecksum(1n))
        expect(checksum._tag).toBe("Some")
      })
    )

    it.scoped("the probe itself: the pooled connection is caught, a direct one passes", () =>
      Effect.gen(function* () {
        const { direct, pooled } = yield* databaseVia(pooler)
        const onPooled = yield* Effect.scoped(
          Effect.flatMap(pooled.sql.reserve, (conn) => Effect.flip(refuseUnlessSession(pooled.sql, conn)))
        )
        expect(onPooled._tag).toBe("MigrationConnectionNotSession")
        // the probe on a direct connection (which the fast path would skip) finds a session
        yield* Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* direct.sql.reserve
            const rows = yield* conn.execute("SELECT pg_backend_pid() AS pid", [], undefined)
            yield* probeSession(direct.sql, conn, Number((rows[0] as { pid: number }).pid))
          })
        )
      })
    )

    it.scoped(
      "a client of one connection cannot be checked through the pooler: refused after the wait, nothing done, the client still usable",
      () =>
        Effect.gen(function* () {
          const { direct, pooled, viaPooler } = yield* databaseVia(pooler, 1)
          const started = Date.now()
          const error = yield* Effect.flip(viaPooler.run())
          expect(Date.now() - started).toBeGreaterThanOrEqual(Duration.toMillis("1900 millis"))
          expect(error._tag).toBe("MigrationDatabaseError")
          expect(error.message).toContain("at least two connections")
          expect(yield* tableNames(direct.sql)).toEqual([])
          // the request for a second connection was answered once the migrator let go, and handed straight back
          expect(yield* pooled.sql<{ one: number }>`SELECT 1 AS one`).toEqual([{ one: 1 }])
        }),
      20_000
    )
  })

  layer(adminClient, { excludeTestServices: true })("session mode", (it) => {
    it.scoped("a session-mode pool keeps the migrator on one server session: the run applies both files", () =>
      Effect.gen(function* () {
        const session = yield* startPgBouncer(adminDatabaseUrl(), "session")
        const { direct, viaPooler } = yield* databaseVia(session.url)
        const report = yield* viaPooler.run()
        expect(report.applied.map((m) => m.version)).toEqual([1n, 2n])
        expect(yield* tableNames(direct.sql)).toEqual(["_sqlx_migrations", "users"])
        expect((yield* history(direct.sql)).map((row) => row.success)).toEqual([true, true])
      })
    )
  })
})
