// The cleanup jobs: one for every cleanup method of every repository, each runnable, batched and resumable.
import { expect, it } from "@effect/vitest"
import { Cron, Duration, Effect, Either, Layer, Logger, LogLevel, Option, TestClock } from "effect"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import { Job, JobMetadata } from "../../src/model/queue.js"
import { RepositoryAccess, repositoryTags } from "../../src/storage/RepositoryAccess.js"
import { CLEANUP_BATCH_SIZE, cleanupHandlers, cleanupJobs, cleanupSchedules } from "../../src/worker/cleanupJobs.js"
import { deterministic } from "../contract/backends.js"
import { Seed, SeedMemory } from "../support/seed.js"

const memory = Layer.provideMerge(SeedMemory, RepositoryAccessMemory.layer)

const aJob = (queue: string) =>
  Job.make({
    id: "01FSHN9AG0MZAA6S4AF7CTV32E" as Job["id"],
    queueName: queue,
    payload: {},
    metadata: JobMetadata.make({ traceId: "", spanId: "", traceFlags: 0 }),
    attempt: 0
  })

it.effect("every cleanup method of every repository has a cleanup job, and each job names real methods", () =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    // from the repositories themselves: a new cleanup method without a job fails here
    const methods = Object.keys(repositoryTags).flatMap((accessor) =>
      Object.keys(access[accessor as keyof typeof repositoryTags])
        .filter((name) => /^(cleanup|prune)/.test(name))
        .map((name) => `${accessor}.${name}`)
    )
    expect(methods).toContain("queueJobs.cleanup")
    expect(methods).toContain("policyData.prune")
    expect(cleanupJobs.flatMap((j) => j.covers).sort()).toEqual([...methods].sort())
    // one job per queue, each with its handler (not transactional) and its schedule
    const names = cleanupJobs.map((j) => j.name)
    expect(new Set(names).size).toBe(names.length)
    expect(cleanupHandlers.map((h) => [h.queue, h.transactional])).toEqual(names.map((n) => [n, false]))
    expect(cleanupSchedules.map((s) => [s.scheduleName, s.queue])).toEqual(names.map((n) => [n, n]))
    for (const job of cleanupJobs) expect(Either.isRight(Cron.parse(job.cron, "UTC"))).toBe(true)
  }).pipe(Effect.provide(memory))
)

it.effect("every cleanup handler runs on an empty database", () =>
  deterministic(
    Effect.gen(function* () {
      for (const handler of cleanupHandlers) yield* handler.run(aJob(handler.queue))
    })
  ).pipe(Effect.provide(memory), Logger.withMinimumLogLevel(LogLevel.None))
)

it.effect(
  "the queue-job cleanup deletes in batches until a short one, keeping what is younger than 30 days",
  () =>
    deterministic(
      Effect.gen(function* () {
        const access = yield* RepositoryAccess
        const seed = yield* Seed
        const total = 2 * CLEANUP_BATCH_SIZE + 37
        const worker = yield* access.queueWorkers.register()
        for (let i = 0; i < total; i++) yield* access.queueJobs.schedule("q", { i }, {})
        const jobs = yield* access.queueJobs.reserve(worker, ["q"], total)
        for (const job of jobs) yield* access.queueJobs.markAsCompleted(job.id)
        yield* TestClock.adjust(Duration.days(31))
        // a younger finished job stays
        yield* access.queueJobs.schedule("q", { young: true }, {})
        const [young] = yield* access.queueJobs.reserve(worker, ["q"], 1)
        yield* access.queueJobs.markAsCompleted(young!.id)

        const handler = cleanupHandlers.find((h) => h.queue === "cleanup-queue-jobs")!
        const calls: Array<number> = []
        const counting = {
          ...access,
          queueJobs: {
            ...access.queueJobs,
            cleanup: (since: Option.Option<string>, until: string, limit: number) => {
              calls.push(limit)
              return access.queueJobs.cleanup(since as never, until as never, limit)
            }
          }
        }
        yield* handler.run(aJob(handler.queue)).pipe(Effect.provideService(RepositoryAccess, counting))
        expect(calls).toEqual([CLEANUP_BATCH_SIZE, CLEANUP_BATCH_SIZE, CLEANUP_BATCH_SIZE])
        const left = yield* seed.dump("queue_jobs", "queue_job_id")
        expect(left.map((r) => r.queue_job_id)).toEqual([young!.id])
      })
    ).pipe(Effect.provide(memory), Logger.withMinimumLogLevel(LogLevel.None)),
  60_000
)
