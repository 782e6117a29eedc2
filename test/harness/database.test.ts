// The per-file database harness: each test file sees its own empty database.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { freshDatabaseLayer, TestDatabase } from "../support/database.js"

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
