// The scheduled cleanup of expired access tokens on PostgreSQL, 100,000 rows in committed batches, while lookups of live tokens keep being answered.
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Ref } from "effect"
import { seedKeptAccessTokensSql } from "../../bench/cleanup.js"
import { seedAccessTokensSql } from "../../bench/repository.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess, type RepositoryAccessShape } from "../../src/storage/RepositoryAccess.js"
import { CLEANUP_BATCH_SIZE, cleanupJobs } from "../../src/worker/cleanupJobs.js"
import { migratedDatabaseLayer } from "../support/database.js"

const EXPIRED = 100_000
const KEPT = 300
const LOOKUP_FIBERS = 4

const job = cleanupJobs.find((j) => j.covers.includes("oauth2AccessTokens.cleanupExpired"))!

// Lookups, the cleanup's batches and the counts after each commit each take a connection.
const repositories = Layer.provideMerge(
  RepositoryAccessPg.layer,
  migratedDatabaseLayer({ maxConnections: LOOKUP_FIBERS + 2 })
)

it.live(
  `the expired-token cleanup job deletes ${EXPIRED.toLocaleString("en")} rows in committed batches while every concurrent lookup of a live token finds it`,
  () =>
    Effect.gen(function* () {
      expect(job).toBeDefined()
      const access = yield* RepositoryAccess
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(seedAccessTokensSql(EXPIRED))
      yield* sql.unsafe(seedKeptAccessTokensSql(KEPT))
      yield* sql.unsafe("VACUUM ANALYZE oauth2_access_tokens")
      const count = (prefix: string) =>
        Effect.map(
          sql<{
            n: number
          }>`SELECT count(*)::int AS n FROM oauth2_access_tokens WHERE access_token LIKE ${prefix + "%"}`,
          (rows) => rows[0]!.n
        )
      expect(yield* count("token-")).toBe(EXPIRED)
      expect(yield* count("kept-")).toBe(KEPT)

      // Each unit of work the job opens is one batch; after it commits, a read outside it sees what is left.
      const remainingAfterCommit: Array<number> = []
      const counted: RepositoryAccessShape = {
        ...access,
        transaction: (effect) =>
          Effect.tap(access.transaction(effect), () =>
            Effect.map(Effect.orDie(count("token-")), (n) => {
              remainingAfterCommit.push(n)
            })
          )
      }

      const cleaning = yield* Ref.make(true)
      const lookups = yield* Ref.make({ total: 0, duringCleanup: 0 })
      const lookupLoop = (fiber: number) =>
        Effect.gen(function* () {
          for (let i = fiber; ; i += LOOKUP_FIBERS) {
            const stillCleaning = yield* Ref.get(cleaning)
            const token = `kept-${(i % KEPT) + 1}`
            const found = yield* access.oauth2AccessTokens.findByToken(token)
            expect(Option.map(found, (t) => t.accessToken)).toEqual(Option.some(token))
            yield* Ref.update(lookups, (l) => ({
              total: l.total + 1,
              duringCleanup: l.duringCleanup + (stillCleaning ? 1 : 0)
            }))
            if (!stillCleaning) return
          }
        })
      const fibers = yield* Effect.forEach(
        Array.from({ length: LOOKUP_FIBERS }, (_, f) => f),
        (f) => Effect.fork(lookupLoop(f))
      )

      const deleted = yield* job.run(counted, new Date()).pipe(Effect.ensuring(Ref.set(cleaning, false)))
      yield* Fiber.joinAll(fibers)

      expect(deleted).toBe(EXPIRED)
      expect(yield* count("token-")).toBe(0)
      expect(yield* count("kept-")).toBe(KEPT)
      // Full batches and one short (empty) batch that ends the run, each committed on its own: what is left after
      // each commit goes down by one batch at a time.
      const batches = EXPIRED / CLEANUP_BATCH_SIZE
      expect(remainingAfterCommit.length).toBe(batches + 1)
      expect(remainingAfterCommit).toEqual(
        Array.from({ length: batches + 1 }, (_, b) => Math.max(0, EXPIRED - (b + 1) * CLEANUP_BATCH_SIZE))
      )
      const { total, duringCleanup } = yield* Ref.get(lookups)
      // Every lookup answered and found its token (a miss or an error fails its fiber, and the join above); the
      // lookups kept going during the whole run, several per batch on average.
      expect(duringCleanup).toBeGreaterThanOrEqual(batches)
      expect(total).toBeGreaterThanOrEqual(duringCleanup + LOOKUP_FIBERS)
    }).pipe(Effect.provide(repositories)),
  60_000
)
