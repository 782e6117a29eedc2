// The deployment behind a pooler: application instances through a real PgBouncer in transaction mode, migrations over a direct URL.
import { readdir } from "node:fs/promises"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { describe } from "vitest"
import { RepositoryAccess } from "../../src/index.js"
import { shippedMigrationsDir } from "../../src/paths.js"
import * as Startup from "../../src/startup/index.js"
import { clientFor } from "../migrate/helpers.js"
import { adminClient, pgbouncerUrl, scopedDatabase, withDatabase } from "../support/database.js"

const pooler = pgbouncerUrl()

/** One application instance: the startup layer built on its own, one user added through the repositories. */
const instance = (options: Startup.StartupOptions, username: string) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const user = yield* repos.transaction(repos.users.add(username))
    return user.username
  }).pipe(Effect.provide(Layer.fresh(Startup.layer(options))), Effect.scoped)

/** Needs a Scope: the history rows, applied ones, and the users of the database at `url`, read directly. */
const state = (url: string) =>
  Effect.gen(function* () {
    const { sql } = yield* clientFor(url)
    const [table] = yield* sql<{
      readonly exists: boolean
    }>`SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS exists`
    if (!table!.exists) return { history: null, users: null }
    const [history] = yield* sql<{ readonly rows: number }>`SELECT count(*)::int AS rows FROM _sqlx_migrations`
    const users = yield* sql<{ readonly username: string }>`SELECT username FROM users ORDER BY username`
    return { history: history!.rows, users: users.map((u) => u.username) }
  }).pipe(Effect.scoped)

describe.skipIf(pooler === "")("deployment behind PgBouncer (transaction mode)", () => {
  layer(adminClient, { excludeTestServices: true })("startup", (it) => {
    it.scoped("an instance that would migrate through the pooler refuses to start, and the database is untouched", () =>
      Effect.gen(function* () {
        const db = yield* scopedDatabase({ prefix: "pooler_startup" })
        const error = yield* Effect.flip(
          instance(
            {
              databaseUrl: withDatabase(pooler, db.name),
              client: { preparedStatements: false },
              migrationsUrl: undefined
            },
            "alice"
          )
        )
        expect(error._tag).toBe("MigrationConnectionNotSession")
        expect(error.message).toContain("MIGRATIONS_DATABASE_URL")
        expect(yield* state(db.url)).toEqual({ history: null, users: null })
      })
    )

    it.scoped(
      "three instances start at once through the pooler, migrating over the direct URL under its lock: every migration recorded, all three serve",
      () =>
        Effect.gen(function* () {
          const db = yield* scopedDatabase({ prefix: "pooler_startup" })
          const options: Startup.StartupOptions = {
            databaseUrl: withDatabase(pooler, db.name),
            migrationsUrl: db.url,
            client: { preparedStatements: false, maxConnections: 4 }
          }
          const names = yield* Effect.all(
            ["alice", "bob", "carol"].map((name) => instance(options, name)),
            { concurrency: "unbounded" }
          )
          expect(names).toEqual(["alice", "bob", "carol"])
          const after = yield* state(db.url)
          // every shipped migration recorded (an instance migrating past the lock would have failed on a history row)
          const shipped = yield* Effect.promise(() => readdir(shippedMigrationsDir))
          expect(after.history).toBe(shipped.filter((name) => name.endsWith(".sql")).length)
          expect(after.users).toEqual(["alice", "bob", "carol"])
        }),
      120_000
    )
  })
})
