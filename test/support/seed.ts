// Test-only row seeding on both backends: lets a contract suite create rows of tables whose repositories come in later issues.
import { SqlClient } from "@effect/sql"
import { Context, Effect, Either, Layer } from "effect"
import { MemoryStore } from "../../src/memory/MemoryStore.js"
import type { Row } from "../../src/memory/Database.js"
import { parseUlid, ulidToUuid } from "../../src/model/Ulid.js"

export class Seed extends Context.Tag("test/Seed")<
  Seed,
  {
    /** Inserts a row given as the memory backend stores it (ids as ULIDs, times as Dates, nulls as null). */
    readonly insert: (table: string, row: Row) => Effect.Effect<void, unknown>
  }
>() {}

// Id columns hold ULIDs in memory and uuids in PostgreSQL.
const toPg = (row: Row): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === "string" && (k.endsWith("_id") || k === "id") && parseUlid(v)._tag === "Some" ? ulidToUuid(parseUlid(v).pipe((o) => (o._tag === "Some" ? o.value : (v as never)))) : v
    ])
  )

export const SeedPg = Layer.effect(
  Seed,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return {
      insert: (table, row) => Effect.asVoid(sql`INSERT INTO ${sql(table)} ${sql.insert(toPg(row))}`)
    }
  })
)

export const SeedMemory = Layer.effect(
  Seed,
  Effect.gen(function* () {
    const store = yield* MemoryStore
    return {
      insert: (table, row) => store.write((db) => Either.map(db.insert(table, row), (next) => [undefined, next] as const))
    }
  })
)
