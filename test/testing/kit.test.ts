// The testing kit on the run's server: a fresh database per build of `postgres()`, dropped after, and the same ids as in memory.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { RepositoryAccess } from "../../src/index.js"
import { backends, deterministic, postgres, testServer } from "../../src/testing/index.js"
import { clientFor } from "../cli/helpers.js"
import { adminDatabaseUrl } from "../support/database.js"

const body = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const user = yield* repos.users.add("dora")
  return { id: user.id, count: yield* repos.users.count({}) }
})

layer(testServer({ url: adminDatabaseUrl() }))("testing kit", (it) => {
  it.effect("each build of postgres() is a new migrated database, dropped when its scope closes", () =>
    Effect.gen(function* () {
      const names: Array<string> = []
      for (let i = 0; i < 2; i++) {
        const [name, count] = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const [row] = yield* sql<{ readonly name: string }>`SELECT current_database() AS name`
          const { count } = yield* body
          return [row!.name, count] as const
        }).pipe(Effect.provide(postgres()))
        names.push(name)
        expect(count).toBe(1)
      }
      expect(new Set(names).size).toBe(2)
      const { sql } = yield* clientFor(adminDatabaseUrl())
      const left = yield* sql<{ readonly n: number }>`
        SELECT count(*)::int AS n FROM pg_database WHERE datname IN ${sql.in(names)}`
      expect(left[0]!.n).toBe(0)
    }).pipe(Effect.scoped)
  )

  it.effect("deterministic() gives the same ids and times on both backends", () =>
    Effect.gen(function* () {
      const results: Array<unknown> = []
      for (const [, layer] of backends())
        results.push(yield* deterministic({ seed: 7 })(body).pipe(Effect.provide(layer)))
      expect(results[0]).toEqual(results[1])
      const other = yield* deterministic({ seed: 8 })(body).pipe(Effect.provide(backends()[0][1]))
      expect(other).not.toEqual(results[0])
    })
  )
})
