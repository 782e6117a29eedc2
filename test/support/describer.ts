// A describer on the test's own database and its schema, for the describe tests of the query check.
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { type Description, openDescriber } from "../../src/querycheck/describe.js"
import { TestDatabase } from "./database.js"

/** Runs `f` with `describe` on a describer connected to the test's database (closed with the test's scope). */
export const withDescriber = <A, E>(
  f: (describe: (text: string) => Effect.Effect<Description, unknown>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const db = yield* TestDatabase
    const describer = yield* openDescriber(db.url)
    return yield* f(describer.describe)
  })

/** Creates a test's schema on its database and checks that the named tables exist. */
export const createSchema = (schema: string, tables: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(schema)
    const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class WHERE relname IN ${sql.in(tables)}`
    expect(row!.n).toBe(tables.length)
  })
