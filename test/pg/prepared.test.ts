// Prepared statements on a real server: a declared statement is parsed once per connection and then only executed, on the transaction's connection inside a unit of work; off, nothing is prepared.
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import { declaredQueries } from "../../src/pg/queries.js"
import { preparedStatementName } from "../../src/pg/client.js"
import { isTraced } from "../../src/pg/common/tracing.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../support/database.js"

interface Prepared {
  readonly name: string
  readonly statement: string
  readonly executions: number
}

/** The statements prepared on the connection this runs on, with how often each was executed (PostgreSQL 14+). */
const preparedHere = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<Prepared>`SELECT name, statement, (generic_plans + custom_plans)::int AS executions
                  FROM pg_prepared_statements ORDER BY name`.pipe(Effect.orDie)
)

const staticText = (name: string): string => {
  const query = declaredQueries.find((q) => q.name === name)
  if (query?.kind !== "static") throw new Error(`no static query ${name}`)
  return query.text
}

// One connection, so that what the repository prepared is visible to the query that reads pg_prepared_statements.
const onOneConnection = (preparedStatements: boolean) =>
  Layer.provideMerge(RepositoryAccessPg.layer, migratedDatabaseLayer({ maxConnections: 1, preparedStatements }))

describe("prepared statements", () => {
  layer(onOneConnection(true))("on (the default)", (it) => {
    it.effect("a declared statement is prepared once under its query name and executed by name after that", () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const alice = yield* repos.users.add("alice")
        for (let i = 0; i < 3; i++) expect(Option.isSome(yield* repos.users.lookup(alice.id))).toBe(true)
        const prepared = yield* preparedHere
        const lookup = prepared.filter((p) => p.statement === staticText("user.lookup"))
        expect(lookup).toEqual([{ name: "user.lookup", statement: staticText("user.lookup"), executions: 3 }])
        expect(prepared.map((p) => p.name)).toContain("user.add")
        // nothing but declared statements is prepared: the dynamic list, and this query itself, go unnamed
        yield* repos.users.list({}, yield* Pagination.first(10))
        for (const p of yield* preparedHere) expect(preparedStatementName(p.statement)).toBe(p.name)
      })
    )

    it.effect("inside a unit of work the statements run, prepared, on the transaction's connection", () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const sql = yield* SqlClient.SqlClient
        const [outside] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.pipe(Effect.orDie)
        const inside = yield* repos
          .transaction(
            Effect.gen(function* () {
              const bob = yield* repos.users.add("bob")
              yield* repos.users.lookup(bob.id)
              const [pid] = yield* sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.pipe(Effect.orDie)
              // the INSERT of add gave this transaction an id; a statement of its own would have none
              const [xact] = yield* sql<{ assigned: boolean }>`
                SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS assigned`.pipe(Effect.orDie)
              return { pid: pid!.pid, inTransaction: xact!.assigned, prepared: yield* preparedHere }
            })
          )
          .pipe(Effect.orDie)
        // one connection: the transaction's is the pool's, and the statements prepared there are counted there
        expect(inside.pid).toBe(outside!.pid)
        expect(inside.inTransaction).toBe(true)
        expect(inside.prepared.map((p) => p.name)).toEqual(expect.arrayContaining(["user.add", "user.lookup"]))
      })
    )
  })

  layer(onOneConnection(false))("off (for a pooler in transaction mode)", (it) => {
    it.effect("nothing is prepared, and the calls give the same results", () =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const carol = yield* repos.users.add("carol")
        expect(Option.map(yield* repos.users.lookup(carol.id), (u) => u.username)).toEqual(Option.some("carol"))
        expect(Option.isSome(yield* repos.users.findByUsername("carol"))).toBe(true)
        expect(yield* preparedHere).toEqual([])
      })
    )
  })
})

describe("isTraced", () => {
  const tracedHere = Effect.withFiberRuntime((fiber) => Effect.succeed(isTraced(fiber)))
  const installed = Tracer.make({
    span: (...args) => Effect.runSync(Effect.tracer).span(...args),
    context: (f) => f()
  })

  layer(Layer.empty)((it) => {
    it.effect(
      "is false under Effect's built-in tracer, true under one the application installed, false when disabled",
      () =>
        Effect.gen(function* () {
          expect(yield* tracedHere).toBe(false)
          expect(yield* Effect.withTracer(tracedHere, installed)).toBe(true)
          expect(yield* Effect.withTracer(tracedHere, installed).pipe(Effect.withTracerEnabled(false))).toBe(false)
        })
    )
  })
})
