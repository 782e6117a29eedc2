// The worker runtime on PostgreSQL, in real time: jobs completed with the queue_available notifications as wake-ups,
// and a transactional handler's writes rolled back when its job was taken from it (then committed once, elsewhere).
import { expect, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Deferred, Duration, Effect, Fiber, Layer, Logger, LogLevel, Option, Ref } from "effect"
import { Worker } from "../../src/model/queue.js"
import type { Ulid } from "../../src/model/Ulid.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { cleanupHandlers, cleanupSchedules } from "../../src/worker/cleanupJobs.js"
import { JobFailure, jobHandler } from "../../src/worker/JobHandler.js"
import { runWorker, type WorkerConfig } from "../../src/worker/Worker.js"
import { migratedDatabaseLayer } from "../support/database.js"
import { dumpQueueJobs, Seed, SeedPg } from "../support/seed.js"

const database = () =>
  Layer.mergeAll(RepositoryAccessPg.layer, SeedPg).pipe(
    Layer.provideMerge(migratedDatabaseLayer({ maxConnections: 8 }))
  )

const fast: Partial<WorkerConfig> = {
  heartbeatInterval: Duration.seconds(5),
  deadThreshold: Duration.seconds(10),
  pollInterval: Duration.millis(200),
  gracePeriod: Duration.seconds(2)
}

const waitFor = <E, R>(done: Effect.Effect<boolean, E, R>, timeout = Duration.seconds(20)) =>
  Effect.gen(function* () {
    while (!(yield* done)) yield* Effect.sleep("50 millis")
  }).pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error("condition never held") }))

it.live(
  "completes jobs (with the cleanup jobs set up and scheduled), woken by queue_available",
  () =>
    Effect.gen(function* () {
      const access = yield* RepositoryAccess
      const pg = yield* PgClient.PgClient
      const seen = yield* Ref.make(0)
      const handler = jobHandler({ queue: "demo", run: () => Ref.update(seen, (n) => n + 1) })
      // a slow poll: the notifications must be what wakes it
      const worker = yield* Effect.fork(
        runWorker(
          { ...fast, pollInterval: Duration.seconds(30), wakeups: Option.some(pg.listen("queue_available")) },
          [handler, ...cleanupHandlers],
          cleanupSchedules
        )
      )
      yield* waitFor(Effect.map(dumpQueueJobs, (jobs) => jobs.length === cleanupSchedules.length))
      yield* Effect.sleep("300 millis")
      for (let n = 0; n < 5; n++) yield* access.transaction(access.queueJobs.schedule("demo", { n }, {}))
      yield* waitFor(
        Effect.map(
          dumpQueueJobs,
          (jobs) => jobs.filter((j) => j.queue_name === "demo" && j.status === "completed").length === 5
        ),
        Duration.seconds(10)
      )
      expect(yield* Ref.get(seen)).toBe(5)
      yield* Fiber.interrupt(worker)
      const jobs = yield* dumpQueueJobs
      expect(jobs.filter((j) => j.queue_name !== "demo").map((j) => j.status)).toEqual(
        Array(cleanupSchedules.length).fill("scheduled")
      )
    }).pipe(Effect.provide(database()), Logger.withMinimumLogLevel(LogLevel.None)),
  60_000
)

it.live(
  "a transactional handler's writes roll back when its job was taken from it, and commit once on the retry",
  () =>
    Effect.gen(function* () {
      const access = yield* RepositoryAccess
      yield* access.transaction(access.queueJobs.schedule("write", { n: 1 }, {}))
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const runs = yield* Ref.make(0)
      const handler = jobHandler({
        queue: "write",
        run: () =>
          Effect.gen(function* () {
            const run = yield* Ref.updateAndGet(runs, (n) => n + 1)
            yield* access.policyData.set({ run }).pipe(Effect.mapError(JobFailure.fromDatabaseError))
            yield* Deferred.succeed(started, undefined)
            yield* Deferred.await(release)
          })
      })
      const worker = yield* Effect.fork(runWorker(fast, [handler]))
      yield* Deferred.await(started)
      const [first] = yield* dumpQueueJobs
      expect(first!.status).toBe("running")
      // declared dead while its handler runs: the job is lost and retried
      const lost = yield* access.transaction(
        access.queueWorkers.shutdown(new Worker({ id: first!.started_by as Ulid }))
      )
      expect(lost).toEqual([first!.queue_job_id])
      yield* Deferred.succeed(release, undefined)
      yield* waitFor(Effect.map(dumpQueueJobs, (jobs) => jobs.some((j) => j.status === "completed")))
      yield* Fiber.interrupt(worker)
      const jobs = yield* dumpQueueJobs
      expect(jobs.map((j) => [j.attempt, j.status])).toEqual([
        [0, "lost"],
        [1, "completed"]
      ])
      expect(yield* Ref.get(runs)).toBe(2)
      // the first run's write was rolled back with its refused completion: one version, the second run's
      const seed = yield* Seed
      const versions = yield* seed.dump("policy_data", "policy_data_id")
      expect(versions.map((v) => v.data)).toEqual([{ run: 2 }])
    }).pipe(Effect.provide(database()), Logger.withMinimumLogLevel(LogLevel.None)),
  60_000
)
