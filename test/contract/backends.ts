// The backends every contract suite runs on, each test on an emptied database of its own block, a fixed clock and a seeded Random.
import { it } from "@effect/vitest"
import { Effect, Layer, Random, TestClock } from "effect"
import type { TestServices } from "effect/TestServices"
import { describe } from "vitest"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import type { AnyRepository, RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { pgbouncerUrl, sharedMigratedDatabase } from "../support/database.js"
import { Seed, SeedMemory, SeedPg } from "../support/seed.js"

/** What a contract test gets: every repository, RepositoryAccess and the seeding helper. */
export type Repositories = RepositoryAccess | AnyRepository | Seed

export interface Backend {
  readonly name: "postgres" | "postgres, unprepared" | "postgres, pgbouncer" | "memory"
  /** Called once per `describe` block, at collection: returns the per-test layer. */
  readonly layers: () => () => Layer.Layer<Repositories, unknown>
}

// The run's PgBouncer in transaction mode; without the binary the backend is left out (globalSetup said so, once).
const pooler = pgbouncerUrl()

export const backends: ReadonlyArray<Backend> = [
  {
    name: "postgres",
    layers: () => {
      const database = sharedMigratedDatabase()
      return () => Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(Layer.provide(database({ maxConnections: 4 })))
    }
  },
  {
    // as behind a pooler in transaction mode: every statement unnamed
    name: "postgres, unprepared",
    layers: () => {
      const database = sharedMigratedDatabase()
      return () =>
        Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(
          Layer.provide(database({ maxConnections: 4, preparedStatements: false }))
        )
    }
  },
  ...(pooler === ""
    ? []
    : [
        {
          // a real PgBouncer in transaction mode (1.18: no prepared statements across transactions), every unit of
          // work on whichever server connection it gets; the block's database is made directly on the server
          name: "postgres, pgbouncer" as const,
          layers: () => {
            const database = sharedMigratedDatabase()
            return () =>
              Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(
                Layer.provide(database({ maxConnections: 4, preparedStatements: false, via: pooler }))
              )
          }
        }
      ]),
  {
    name: "memory",
    layers: () => () => Layer.provideMerge(SeedMemory, RepositoryAccessMemory.layer)
  }
]

/** MAS's test epoch: 2022-01-16T14:40:00Z. */
export const EPOCH = Date.parse("2022-01-16T14:40:00Z")

/** Runs with the TestClock at EPOCH and Random seeded with 42, so ids and times are the same on every run. */
export const deterministic = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.zipRight(TestClock.setTime(EPOCH), effect).pipe(Effect.withRandom(Random.make(42)))

export interface ContractTest {
  (name: string, body: () => Effect.Effect<unknown, unknown, Repositories | TestServices>, timeout?: number): void
  /** Real time (for tests that wait on locks); still a fresh database and a seeded Random. */
  readonly live: (name: string, body: () => Effect.Effect<unknown, unknown, Repositories>, timeout?: number) => void
}

/** Declares a contract suite: `body` runs once per backend, each test on a database with every table empty. */
export const contract = (title: string, body: (test: ContractTest, backend: Backend) => void) => {
  for (const backend of backends) {
    describe(`${title} [${backend.name}]`, () => {
      const layer = backend.layers()
      const test = ((name, fn, timeout) =>
        it.effect(name, () => deterministic(fn()).pipe(Effect.provide(layer())), timeout)) as ContractTest
      ;(test as { live: ContractTest["live"] }).live = (name, fn, timeout) =>
        it.live(name, () => fn().pipe(Effect.withRandom(Random.make(42)), Effect.provide(layer())), timeout)
      body(test, backend)
    })
  }
}
