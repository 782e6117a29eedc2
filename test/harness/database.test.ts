// The test database harness: a fresh empty database per file, and a shared migrated one emptied before each test.
import { expect, it, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { describe } from "vitest"
import { freshDatabaseLayer, sharedMigratedDatabase, TestDatabase } from "../support/database.js"

layer(freshDatabaseLayer())("fresh database", (it) => {
  it.effect("is connected to its own, empty database", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const [row] = yield* sql<{ name: string; tables: number }>`
        SELECT current_database() AS name,
               (SELECT count(*)::int FROM information_schema.tables WHERE table_schema = 'public') AS tables`
      expect(row!.name).toBe(db.name)
      expect(row!.tables).toBe(0)
    })
  )
})

describe("shared migrated database", () => {
  const database = sharedMigratedDatabase()
  // every table but the history, with its row count
  const counts = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ readonly name: string }>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
    const result: Record<string, number> = {}
    for (const { name } of tables) {
      const [row] = yield* sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM ${sql(name)}`
      result[name] = row!.n
    }
    return result
  })

  it.effect("the first test fills tables the schema links by foreign keys", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO users (user_id, username, created_at) VALUES (gen_random_uuid(), 'alice', now())`
      yield* sql`INSERT INTO user_emails (user_email_id, user_id, email, created_at)
                 SELECT gen_random_uuid(), user_id, 'alice@example.com', now() FROM users`
      const after = yield* counts
      expect([after["users"], after["user_emails"]]).toEqual([1, 1])
    }).pipe(Effect.provide(database()))
  )

  it.effect("the next test finds every table empty, the migration history kept, on the same database", () =>
    Effect.gen(function* () {
      const db = yield* TestDatabase
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ readonly name: string }>`SELECT current_database() AS name`
      expect(row!.name).toBe(db.name)
      const { _sqlx_migrations: history, ...rest } = yield* counts
      expect(history).toBeGreaterThan(70)
      expect(Object.keys(rest).length).toBeGreaterThan(30)
      expect(Object.entries(rest).filter(([, n]) => n > 0)).toEqual([])
    }).pipe(Effect.provide(database()))
  )
})
