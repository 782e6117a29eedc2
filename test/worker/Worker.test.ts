// The worker runtime on the in-memory backend, under the TestClock: completion, retries with back-off, timeouts, the
// leader's promotions and recurring schedules, declared-dead workers, and the graceful stop.
import { expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Logger, Option, Ref, TestClock } from "effect"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import { Worker } from "../../src/model/queue.js"
import type { Ulid } from "../../src/model/Ulid.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { JobFailure, jobHandler } from "../../src/worker/JobHandler.js"
import { recurringJob } from "../../src/worker/RecurringJob.js"
import { exponentialBackoff, runWorker, type WorkerConfig } from "../../src/worker/Worker.js"
import { deterministic, EPOCH } from "../contract/backends.js"
import { dumpQueueJobs, Seed, SeedMemory } from "../support/seed.js"

type Row = Readonly<Record<string, unknown>>

const dumpWorkers = Effect.flatMap(Seed, (seed) => seed.dump("queue_workers", "queue_worker_id")) as Effect.Effect<
  ReadonlyArray<Row>,
  unknown,
  Seed
>

/** Short intervals, no jitter: ticks every second, heartbeats every 10 s, dead after 20 s, 5 s of grace. */
const fast: Partial<WorkerConfig> = {
  heartbeatInterval: Duration.seconds(10),
  deadThreshold: Duration.seconds(20),
  pollInterval: Duration.seconds(1),
  pollJitter: 0,
  gracePeriod: Duration.seconds(5)
}

interface LogLine {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs on a fresh memory database at EPOCH, with the log lines kept (and not printed). */
const test = (name: string, body: (logs: Array<LogLine>) => Effect.Effect<unknown, unknown, RepositoryAccess | Seed>) =>
  it.effect(name, () => {
    const logs: Array<LogLine> = []
    const logger = Logger.make(({ annotations, logLevel, message }) => {
      logs.push({
        level: logLevel.label,
        message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(annotations)
      })
    })
    return deterministic(body(logs)).pipe(
      Effect.provide(
        Layer.merge(
          Layer.provideMerge(SeedMemory, RepositoryAccessMemory.layer),
          Logger.replace(Logger.defaultLogger, logger)
        )
      )
    )
  })

/** Advances the clock in steps until `done` holds (at most `max` steps). */
const advanceUntil = <E, R>(done: Effect.Effect<boolean, E, R>, step = Duration.millis(500), max = 2000) =>
  Effect.gen(function* () {
    for (let i = 0; i < max; i++) {
      if (yield* done) return
      yield* TestClock.adjust(step)
    }
    throw new Error("condition never held")
  })

const advance = (total: Duration.DurationInput, step = Duration.millis(500)) =>
  Effect.gen(function* () {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) yield* TestClock.adjust(step)
  })

const finished = <A, E>(fiber: Fiber.Fiber<A, E>) => Effect.map(Fiber.poll(fiber), Option.isSome)

const schedule = (queue: string, payload: Record<string, number | string>) =>
  Effect.flatMap(RepositoryAccess, (access) => access.transaction(access.queueJobs.schedule(queue, payload, {})))

const now = Effect.map(TestClock.currentTimeMillis, (ms) => ms - EPOCH)

test("runs the jobs of its queues, marks them completed and leaves other queues alone", (logs) =>
  Effect.gen(function* () {
    const seen = yield* Ref.make<ReadonlyArray<unknown>>([])
    for (let n = 1; n <= 7; n++) yield* schedule("demo", { n })
    yield* schedule("other", { n: 0 })
    const handler = jobHandler({ queue: "demo", run: (job) => Ref.update(seen, (s) => [...s, job.payload]) })
    const worker = yield* Effect.fork(runWorker({ ...fast, exitWhenIdle: true }, [handler]))
    yield* advanceUntil(finished(worker))
    yield* Fiber.join(worker)
    expect((yield* Ref.get(seen)).map((p) => (p as { n: number }).n).sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
    const jobs = yield* dumpQueueJobs
    expect(jobs.filter((j) => j.queue_name === "demo").map((j) => j.status)).toEqual(Array(7).fill("completed"))
    expect(jobs.find((j) => j.queue_name === "other")!.status).toBe("available")
    // registered, then shut down at the end
    const [w] = yield* dumpWorkers
    expect(w!.shutdown_at).not.toBeNull()
    const running = logs.filter((l) => l.message === "running job")
    expect(running).toHaveLength(7)
    expect(running[0]!.annotations).toMatchObject({ queue: "demo", attempt: 0, worker: w!.queue_worker_id })
    expect(logs.some((l) => l.message === "this worker is now the leader")).toBe(true)
    expect(logs.filter((l) => l.message === "job completed")).toHaveLength(7)
  }))

test("a failing handler is retried with back-off (5 s · 2^attempt) up to maxAttempts, then left failed", (logs) =>
  Effect.gen(function* () {
    const startedAt = yield* Ref.make<ReadonlyArray<number>>([])
    yield* schedule("flaky", { n: 1 })
    const handler = jobHandler({
      queue: "flaky",
      run: (job) =>
        Effect.gen(function* () {
          const t = yield* now
          yield* Ref.update(startedAt, (s) => [...s, t])
          return yield* Effect.fail(JobFailure.retry(`boom ${job.attempt}`))
        })
    })
    const worker = yield* Effect.fork(runWorker({ ...fast, maxAttempts: 3 }, [handler]))
    // attempts 0..3: back-offs of 5, 10 and 20 s, then no more
    yield* advance(Duration.seconds(60))
    const times = yield* Ref.get(startedAt)
    expect(times).toHaveLength(4)
    for (let attempt = 0; attempt < 3; attempt++) {
      const gap = times[attempt + 1]! - times[attempt]!
      const delay = Duration.toMillis(exponentialBackoff(attempt))
      // the retry is scheduled `delay` after the failure; the leader promotes it within a tick or two
      expect(gap).toBeGreaterThanOrEqual(delay)
      expect(gap).toBeLessThanOrEqual(delay + 2500)
    }
    const jobs = yield* dumpQueueJobs
    expect(jobs.map((j) => [j.attempt, j.status, j.failed_reason])).toEqual([
      [0, "failed", "boom 0"],
      [1, "failed", "boom 1"],
      [2, "failed", "boom 2"],
      [3, "failed", "boom 3"]
    ])
    expect(jobs[3]!.next_attempt_id).toBeNull()
    expect(logs.some((l) => l.message.startsWith("job failed 3 time(s), giving up"))).toBe(true)
    yield* Fiber.interrupt(worker)
  }))

test("a failure that is not retryable is not retried; a defect is", () =>
  Effect.gen(function* () {
    yield* schedule("fatal", { n: 1 })
    yield* schedule("buggy", { n: 2 })
    const handlers = [
      jobHandler({ queue: "fatal", run: () => Effect.fail(JobFailure.fail("bad payload")) }),
      jobHandler({ queue: "buggy", run: () => Effect.die(new Error("bug")) })
    ]
    const worker = yield* Effect.fork(runWorker({ ...fast, maxAttempts: 1 }, handlers))
    yield* advance(Duration.seconds(20))
    const jobs = yield* dumpQueueJobs
    const fatal = jobs.filter((j) => j.queue_name === "fatal")
    expect(fatal.map((j) => [j.status, j.failed_reason])).toEqual([["failed", "bad payload"]])
    const buggy = jobs.filter((j) => j.queue_name === "buggy")
    expect(buggy.map((j) => [j.attempt, j.status])).toEqual([
      [0, "failed"],
      [1, "failed"]
    ])
    expect(String(buggy[0]!.failed_reason)).toContain("bug")
    yield* Fiber.interrupt(worker)
  }))

test("a handler past its timeout is interrupted, its writes rolled back, and retried", () =>
  Effect.gen(function* () {
    yield* schedule("slow", { n: 1 })
    const handler = jobHandler({
      queue: "slow",
      timeout: "10 seconds",
      run: () =>
        Effect.gen(function* () {
          const access = yield* RepositoryAccess
          yield* access.policyData.set({ written: true }).pipe(Effect.orDie)
          yield* Effect.sleep("1 hour")
        })
    })
    const worker = yield* Effect.fork(runWorker({ ...fast, maxAttempts: 1 }, [handler]))
    yield* advance(Duration.seconds(40))
    const jobs = yield* dumpQueueJobs
    expect(jobs.map((j) => [j.attempt, j.status, j.failed_reason])).toEqual([
      [0, "failed", "timed out after 10s"],
      [1, "failed", "timed out after 10s"]
    ])
    const access = yield* RepositoryAccess
    expect(Option.isNone(yield* access.policyData.get())).toBe(true)
    yield* Fiber.interrupt(worker)
  }))

test("the leader promotes scheduled jobs when they are due", () =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    yield* access.transaction(
      access.queueJobs.scheduleLater("demo", { n: 1 }, {}, new Date(EPOCH + 10_000), Option.none())
    )
    const ran = yield* Ref.make<ReadonlyArray<number>>([])
    const handler = jobHandler({
      queue: "demo",
      run: () => Effect.flatMap(now, (t) => Ref.update(ran, (r) => [...r, t]))
    })
    const worker = yield* Effect.fork(runWorker(fast, [handler]))
    yield* advance(Duration.seconds(8))
    expect((yield* dumpQueueJobs).map((j) => j.status)).toEqual(["scheduled"])
    yield* advance(Duration.seconds(5))
    expect((yield* dumpQueueJobs).map((j) => j.status)).toEqual(["completed"])
    const [t] = yield* Ref.get(ran)
    expect(t).toBeGreaterThanOrEqual(10_000)
    expect(t).toBeLessThanOrEqual(12_000)
    yield* Fiber.interrupt(worker)
  }))

test("a recurring schedule fires once per period, at its cron ticks", () =>
  Effect.gen(function* () {
    const ran = yield* Ref.make<ReadonlyArray<number>>([])
    const handler = jobHandler({
      queue: "every-10s",
      run: () => Effect.flatMap(now, (t) => Ref.update(ran, (r) => [...r, t]))
    })
    const worker = yield* Effect.fork(
      runWorker(fast, [handler], [recurringJob("every-10s", "every-10s", "*/10 * * * * *", { kind: "tick" })])
    )
    yield* advance(Duration.seconds(65))
    const times = yield* Ref.get(ran)
    // EPOCH is on a minute: ticks at 10, 20, …, 60 s, each run within a tick or two of its time
    const periods = times.map((t) => Math.floor(t / 10_000))
    expect(periods).toEqual([1, 2, 3, 4, 5, 6])
    for (const t of times) expect(t % 10_000).toBeLessThanOrEqual(2000)
    const jobs = yield* dumpQueueJobs
    expect(jobs.every((j) => j.schedule_name === "every-10s")).toBe(true)
    expect(jobs.filter((j) => j.status === "completed")).toHaveLength(6)
    // the next one is waiting for its time
    expect(jobs.filter((j) => j.status === "scheduled")).toHaveLength(1)
    yield* Fiber.interrupt(worker)
  }))

test("interrupted, it lets running jobs finish within the grace period, then shuts down; the rest are retried", (logs) =>
  Effect.gen(function* () {
    yield* schedule("quick", { n: 1 })
    yield* schedule("stuck", { n: 2 })
    const handlers = [
      jobHandler({ queue: "quick", transactional: false, run: () => Effect.sleep("3 seconds") }),
      jobHandler({ queue: "stuck", transactional: false, timeout: "1 hour", run: () => Effect.never })
    ]
    const worker = yield* Effect.fork(runWorker(fast, handlers))
    yield* advance(Duration.millis(500))
    expect((yield* dumpQueueJobs).map((j) => j.status)).toEqual(["running", "running"])
    const interrupting = yield* Effect.fork(Fiber.interrupt(worker))
    yield* advanceUntil(finished(interrupting))
    const jobs = yield* dumpQueueJobs
    const quick = jobs.filter((j) => j.queue_name === "quick")
    expect(quick.map((j) => j.status)).toEqual(["completed"])
    const stuck = jobs.filter((j) => j.queue_name === "stuck")
    // lost, and its new attempt is available at once for another worker
    expect(stuck.map((j) => [j.attempt, j.status])).toEqual([
      [0, "lost"],
      [1, "scheduled"]
    ])
    expect(Number(new Date(stuck[1]!.scheduled_at as string | Date))).toBeLessThanOrEqual(
      yield* TestClock.currentTimeMillis
    )
    const [w] = yield* dumpWorkers
    expect(w!.shutdown_at).not.toBeNull()
    expect(logs.some((l) => l.message.startsWith("grace period over: interrupting 1 job(s)"))).toBe(true)
    expect(
      logs.some((l) => l.message === "worker shut down" && l.annotations.lostJobs === stuck[0]!.queue_job_id)
    ).toBe(true)
  }))

test("a worker declared dead interrupts its jobs and registers again; the lost job runs once more elsewhere", (logs) =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    yield* schedule("long", { n: 1 })
    const release = yield* Deferred.make<void>()
    const runs = yield* Ref.make(0)
    const handler = jobHandler({
      queue: "long",
      transactional: false,
      timeout: "1 hour",
      run: () =>
        Effect.zipRight(
          Ref.update(runs, (n) => n + 1),
          Deferred.await(release)
        )
    })
    const worker = yield* Effect.fork(runWorker(fast, [handler]))
    yield* advance(Duration.millis(500))
    const [first] = yield* dumpQueueJobs
    expect(first!.status).toBe("running")
    // what the leader does to a worker it found dead
    yield* access.transaction(access.queueWorkers.shutdown(new Worker({ id: first!.started_by as Ulid })))
    yield* Deferred.succeed(release, undefined).pipe(Effect.delay("1 minute"), Effect.fork)
    yield* advanceUntil(Effect.map(dumpQueueJobs, (jobs) => jobs.some((j) => j.status === "completed")))
    const jobs = yield* dumpQueueJobs
    expect(jobs.map((j) => [j.attempt, j.status])).toEqual([
      [0, "lost"],
      [1, "completed"]
    ])
    expect(jobs[1]!.started_by).not.toBe(first!.started_by)
    expect(yield* Ref.get(runs)).toBe(2)
    expect((yield* dumpWorkers).length).toBe(2)
    expect(logs.some((l) => l.level === "ERROR" && l.message.startsWith("this worker was declared dead"))).toBe(true)
    yield* Fiber.interrupt(worker)
  }))
