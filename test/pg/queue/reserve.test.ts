// PostgreSQL only: concurrent reservations never share a job, and a job becoming available notifies `queue_available`.
import { PgClient } from "@effect/sql-pg"
import { expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Layer, Option, Ref, Stream } from "effect"
import { Worker } from "../../../src/model/queue.js"
import { generateUlid } from "../../../src/model/Ulid.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { Seed, SeedPg } from "../../support/seed.js"

const layer = () =>
  Layer.provideMerge(Layer.mergeAll(RepositoryAccessPg.layer, SeedPg), migratedDatabaseLayer({ maxConnections: 6 }))

const seedWorker = Effect.gen(function* () {
  const seed = yield* Seed
  const id = yield* generateUlid
  yield* seed.insert("queue_workers", { queue_worker_id: id, registered_at: new Date(), last_seen_at: new Date() })
  return new Worker({ id })
})

it.live(
  "N units of work reserving at once, each holding its rows until all have reserved, never share a job and take all",
  () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const N = 4
      const PER = 5
      for (let i = 0; i < N * PER; i++) yield* repos.queueJobs.schedule("q", { i }, {})
      const workers = yield* Effect.all(Array.from({ length: N }, () => seedWorker))
      const arrived = yield* Ref.make(0)
      const allReserved = yield* Deferred.make<void>()
      const results = yield* Effect.all(
        workers.map((worker) =>
          repos.transaction(
            Effect.gen(function* () {
              const jobs = yield* repos.queueJobs.reserve(worker, ["q"], PER)
              // the barrier: nobody commits before every unit has reserved, so their locks overlap
              if ((yield* Ref.updateAndGet(arrived, (n) => n + 1)) === N)
                yield* Deferred.succeed(allReserved, undefined)
              yield* Deferred.await(allReserved)
              return jobs.map((j) => j.id)
            })
          )
        ),
        { concurrency: "unbounded" }
      )
      const ids = results.flat()
      expect(ids).toHaveLength(N * PER)
      expect(new Set(ids).size).toBe(N * PER)
      for (const r of results) expect(r).toHaveLength(PER)
    }).pipe(Effect.provide(layer())),
  30_000
)

it.live(
  "a job becoming available (scheduled now, or made available later) notifies queue_available with its queue",
  () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const pg = yield* PgClient.PgClient
      const ready = yield* Deferred.make<void>()
      const listener = yield* pg.listen("queue_available").pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      // give LISTEN time to be issued on its own connection
      yield* Effect.sleep("300 millis")
      yield* Deferred.succeed(ready, undefined)
      yield* repos.queueJobs.schedule("now-queue", {}, {})
      yield* repos.queueJobs.scheduleLater("later-queue", {}, {}, new Date(Date.now() - 1000), Option.none())
      expect(yield* repos.queueJobs.scheduleAvailableJobs()).toBe(1)
      const got = Chunk.toReadonlyArray(yield* Fiber.join(listener).pipe(Effect.timeout("5 seconds")))
      expect(got.map((p) => JSON.parse(p))).toEqual([{ queue: "now-queue" }, { queue: "later-queue" }])
    }).pipe(Effect.provide(layer())),
  30_000
)
