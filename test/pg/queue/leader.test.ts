// PostgreSQL only: workers racing for the leader lease in concurrent units of work get exactly one leader a round, and a leader's shutdown notifies `queue_leader_stepdown`.
import { PgClient } from "@effect/sql-pg"
import { expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Ref, Schedule, Stream } from "effect"
import type { Worker } from "../../../src/model/queue.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { migratedDatabaseLayer } from "../../support/database.js"
import { Seed, SeedPg } from "../../support/seed.js"

const RACERS = 8
const ROUNDS = 12

const layer = () =>
  Layer.provideMerge(
    Layer.mergeAll(RepositoryAccessPg.layer, SeedPg),
    migratedDatabaseLayer({ maxConnections: RACERS + 2 })
  )

/**
 * Every worker calls tryGetLeaderLease in its own unit of work, all of them open when the first statement goes: each
 * waits at the barrier after BEGIN (its first statement, a read, opens the transaction) until all have arrived.
 */
const race = (workers: ReadonlyArray<Worker>) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const seed = yield* Seed
    const arrived = yield* Ref.make(0)
    const open = yield* Deferred.make<void>()
    return yield* Effect.forEach(
      workers,
      (worker) =>
        repos.transaction(
          Effect.gen(function* () {
            yield* seed.count("queue_workers")
            if ((yield* Ref.updateAndGet(arrived, (n) => n + 1)) === workers.length)
              yield* Deferred.succeed(open, undefined)
            yield* Deferred.await(open).pipe(Effect.timeout("20 seconds"), Effect.orDie)
            const won = yield* repos.queueWorkers.tryGetLeaderLease(worker)
            // hold the lease row's lock a moment, so the others really wait on it
            if (won) yield* Effect.sleep("20 millis")
            return won
          })
        ),
      { concurrency: "unbounded" }
    )
  })

it.live(
  "racing workers: exactly one leader each round, the leader alone extends it, and its shutdown frees it for the next round",
  () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const winners: Array<number> = []
      for (let round = 0; round < ROUNDS; round++) {
        const workers = yield* Effect.all(Array.from({ length: RACERS }, () => repos.queueWorkers.register()))
        const first = yield* race(workers)
        expect(first.filter((w) => w)).toHaveLength(1)
        const leader = first.indexOf(true)
        winners.push(leader)
        // again: the holder extends, every other worker is refused
        const second = yield* race(workers)
        expect(second).toEqual(workers.map((_, i) => i === leader))
        const seed = yield* Seed
        expect((yield* seed.dump("queue_leader", "active")).map((r) => r.queue_worker_id)).toEqual([
          workers[leader]!.id
        ])
        for (const w of workers) yield* repos.queueWorkers.shutdown(w)
        expect(yield* seed.count("queue_leader")).toBe(0)
      }
      expect(winners).toHaveLength(ROUNDS)
    }).pipe(Effect.provide(layer())),
  60_000
)

it.live(
  "shutdown of the leader notifies queue_leader_stepdown once (its id as payload), at commit; a follower's shutdown or a rolled-back one does not",
  () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const pg = yield* PgClient.PgClient
      const heard = yield* Ref.make<ReadonlyArray<string>>([])
      const listener = yield* pg.listen("queue_leader_stepdown").pipe(
        Stream.runForEach((payload) => Ref.update(heard, (all) => [...all, payload])),
        Effect.fork
      )
      // give LISTEN time to be issued on its own connection
      yield* Effect.sleep("300 millis")
      const leader = yield* repos.queueWorkers.register()
      const follower = yield* repos.queueWorkers.register()
      expect(yield* repos.queueWorkers.tryGetLeaderLease(leader)).toBe(true)
      expect(yield* repos.queueWorkers.tryGetLeaderLease(follower)).toBe(false)

      yield* repos.queueWorkers.shutdown(follower)
      const abandoned = yield* Effect.flip(
        repos.transaction(Effect.zipRight(repos.queueWorkers.shutdown(leader), Effect.fail("abandon" as const)))
      )
      expect(abandoned).toBe("abandon")
      yield* Effect.sleep("500 millis")
      expect(yield* Ref.get(heard)).toEqual([])

      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.queueWorkers.shutdown(leader)
          // not before commit
          yield* Effect.sleep("300 millis")
          expect(yield* Ref.get(heard)).toEqual([])
        })
      )
      yield* Ref.get(heard).pipe(
        Effect.repeat({ until: (all) => all.length > 0, schedule: Schedule.spaced(Duration.millis(20)) }),
        Effect.timeout("5 seconds")
      )
      yield* Effect.sleep("300 millis")
      expect(yield* Ref.get(heard)).toEqual([leader.id])
      yield* Fiber.interrupt(listener)
    }).pipe(Effect.provide(layer())),
  30_000
)
