// The startup layer: config → client → locale check → migrator → validation → RepositoryAccess, each step stopping the start before the next.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Layer } from "effect"
import { RepositoryAccess } from "../../src/index.js"
import * as Startup from "../../src/startup/index.js"
import { clientFor } from "../cli/helpers.js"
import { adminClient, migratedTemplate, scopedDatabase } from "../support/database.js"

/** Whether `url`'s database has the migration history, and how many rows it holds. */
const history = (url: string) =>
  Effect.gen(function* () {
    const { sql } = yield* clientFor(url)
    const [table] = yield* sql<{ readonly exists: boolean }>`
      SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS exists`
    if (!table!.exists) return null
    const [row] = yield* sql<{ readonly rows: number }>`SELECT count(*)::int AS rows FROM _sqlx_migrations`
    return row!.rows
  }).pipe(Effect.scoped)

/** Builds the startup layer and runs one repository call through it. */
const start = (options: Startup.StartupOptions) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const user = yield* repos.transaction(repos.users.add("alice"))
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ readonly name: string }>`SELECT current_database() AS name`
    return { username: user.username, database: row!.name }
  }).pipe(Effect.provide(Layer.fresh(Startup.layer(options))), Effect.scoped)

layer(adminClient, { excludeTestServices: true })("startup layer", (it) => {
  it.scoped("on an empty database: applies every migration, validates, then gives the repositories on it", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase({ prefix: "startup" })
      const result = yield* start({ databaseUrl: db.url })
      expect(result).toEqual({ username: "alice", database: db.name })
      expect(yield* history(db.url)).toBeGreaterThan(70)
    })
  )

  it.scoped("with migrate: false it refuses while migrations are pending, and creates nothing", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase({ prefix: "startup" })
      const exit = yield* Effect.exit(start({ databaseUrl: db.url, migrate: false }))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe(
        "PendingMigrations"
      )
      expect(yield* history(db.url)).toBeNull()
    })
  )

  it.scoped("with migrationsUrl the migrator works on that database, the repositories on the application's", () =>
    Effect.gen(function* () {
      const app = yield* scopedDatabase({ prefix: "startup", template: migratedTemplate() })
      const direct = yield* scopedDatabase({ prefix: "startup" })
      const before = yield* history(app.url)
      const result = yield* start({ databaseUrl: app.url, migrationsUrl: direct.url })
      expect(result.database).toBe(app.name)
      expect(yield* history(direct.url)).toBe(before)
      expect(yield* history(app.url)).toBe(before)
    })
  )

  it.scoped("a server whose ctype cannot fold case is refused before any migration", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase({
        prefix: "startup",
        template: "template0",
        clause: "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
      })
      const exit = yield* Effect.exit(start({ databaseUrl: db.url }))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe(
        "ServerLocaleRefused"
      )
      expect(yield* history(db.url)).toBeNull()
    })
  )
})
