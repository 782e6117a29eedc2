// Contract suite for QueueJobRepository: the status machine, reservation order and filtering, guards, retry, the schedule pointer and cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Worker } from "../../../src/model/queue.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFailWithoutWriting, noRowAffected } from "../refusals.js"

const JOBS = "queue_jobs"
const dumpJobs = Effect.flatMap(Seed, (seed) => seed.dump(JOBS, "queue_job_id"))
const dumpSchedules = Effect.flatMap(Seed, (seed) => seed.dump("queue_schedules", "schedule_name"))

const seedWorker = Effect.gen(function* () {
  const seed = yield* Seed
  const id = yield* generateUlid
  yield* seed.insert("queue_workers", {
    queue_worker_id: id,
    registered_at: new Date(EPOCH),
    last_seen_at: new Date(EPOCH),
    shutdown_at: null
  })
  return new Worker({ id })
})

const seedSchedule = (name: string) =>
  Effect.flatMap(Seed, (seed) =>
    seed.insert("queue_schedules", { schedule_name: name, last_scheduled_at: null, last_scheduled_job_id: null })
  )

const meta = { trace_id: "t", span_id: "s", trace_flags: 1 }

contract("QueueJobRepository", (test) => {
  test("schedule → reserve (oldest first, only the queues asked, up to count) → complete / fail", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      for (const [q, n] of [
        ["a", 1],
        ["b", 2],
        ["a", 3],
        ["c", 4]
      ] as const) {
        yield* queueJobs.schedule(q, { n }, meta)
        yield* TestClock.adjust(Duration.millis(1))
      }
      expect(yield* queueJobs.reserve(worker, ["a", "b"], 0)).toEqual([])
      expect(yield* queueJobs.reserve(worker, [], 10)).toEqual([])
      const first = yield* queueJobs.reserve(worker, ["a", "b"], 2)
      expect(first.map((j) => j.payload)).toEqual([{ n: 1 }, { n: 2 }])
      expect(first[0]!.metadata).toMatchObject({ traceId: "t", spanId: "s", traceFlags: 1 })
      expect(first[0]!.attempt).toBe(0)
      const rest = yield* queueJobs.reserve(worker, ["a", "b"], 10)
      expect(rest.map((j) => j.payload)).toEqual([{ n: 3 }])
      expect(yield* queueJobs.reserve(worker, ["a", "b"], 10)).toEqual([])
      const rows = yield* dumpJobs
      expect(rows.map((r) => r.status)).toEqual(["running", "running", "running", "available"])

      yield* queueJobs.markAsCompleted(first[0]!.id)
      yield* queueJobs.markAsFailed(first[1]!.id, "boom")
      const after = yield* dumpJobs
      expect(after.map((r) => r.status)).toEqual(["completed", "failed", "running", "available"])
      expect(after[1]!.failed_reason).toBe("boom")
      // guards: the job must be running
      expect(yield* Effect.flip(queueJobs.markAsCompleted(first[0]!.id))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(queueJobs.markAsFailed(first[1]!.id, "x"))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(queueJobs.markAsCompleted(after[3]!.queue_job_id as Ulid))).toMatchObject(noRowAffected)
    }))

  test("missing metadata keys default as MAS's; metadata reserve could not read is refused at schedule time", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* queueJobs.schedule("q", null, {})
      const [job] = yield* queueJobs.reserve(worker, ["q"], 1)
      expect(job!.metadata).toMatchObject({ traceId: "", spanId: "", traceFlags: 0 })
      yield* expectEachToFailWithoutWriting(dumpJobs, "InvalidOperationError", [
        ["array metadata", queueJobs.schedule("q", {}, [])],
        ["null trace_id", queueJobs.schedule("q", {}, { trace_id: null })],
        ["trace_flags 256", queueJobs.schedule("q", {}, { trace_flags: 256 })],
        ["empty queue", queueJobs.schedule("", {}, {})],
        ["lone surrogate", queueJobs.schedule("q", { s: "\uD800" }, {})],
        ["reserve count -1", queueJobs.reserve(worker, ["q"], -1)]
      ])
      yield* expectEachToFailWithoutWriting(dumpJobs, "DriverError", [
        ["NUL in payload", queueJobs.schedule("q", { s: "\u0000" }, {})],
        ["missing schedule", queueJobs.scheduleLater("q", {}, {}, new Date(EPOCH), Option.some("nope"))]
      ])
    }))

  test("scheduleLater, scheduleAvailableJobs at the boundary, retry once (schedule repointed), cleanup in batches", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* seedSchedule("nightly")
      yield* queueJobs.scheduleLater("q", { n: 1 }, meta, new Date(EPOCH + 1000), Option.some("nightly"))
      yield* queueJobs.scheduleLater("q", { n: 2 }, meta, new Date(EPOCH + 1001), Option.none())
      const [job1] = yield* dumpJobs
      expect(yield* dumpSchedules).toEqual([
        {
          schedule_name: "nightly",
          last_scheduled_at: new Date(EPOCH + 1000),
          last_scheduled_job_id: job1!.queue_job_id
        }
      ])
      yield* TestClock.adjust(Duration.millis(1000))
      expect(yield* queueJobs.scheduleAvailableJobs()).toBe(1)
      const [r] = yield* queueJobs.reserve(worker, ["q"], 5)
      expect(r!.payload).toEqual({ n: 1 })
      yield* queueJobs.markAsFailed(r!.id, "x")
      yield* queueJobs.retry(r!.id, Duration.seconds(5))
      expect(yield* Effect.flip(queueJobs.retry(r!.id, Duration.seconds(5)))).toMatchObject(noRowAffected)
      const rows = yield* dumpJobs
      expect(rows).toHaveLength(3)
      const retried = rows[2]!
      expect(retried).toMatchObject({ status: "scheduled", attempt: 1, schedule_name: "nightly", payload: { n: 1 } })
      expect(retried.scheduled_at).toEqual(new Date(EPOCH + 6000))
      expect(rows[0]!.next_attempt_id).toBe(retried.queue_job_id)
      expect((yield* dumpSchedules)[0]!.last_scheduled_job_id).toBe(retried.queue_job_id)

      // a lost job is retried too
      const seed = yield* Seed
      const lostId = yield* generateUlid
      yield* seed.insert(JOBS, { ...rows[1]!, queue_job_id: lostId, status: "lost", scheduled_at: null })
      yield* queueJobs.retry(lostId, Duration.zero)
      // due now: the lost job's retry; not yet: the job scheduled for now + 1 ms
      expect(yield* queueJobs.scheduleAvailableJobs()).toBe(1)

      // cleanup: only finished jobs (the failed and the lost one), batch by batch
      const until = (yield* dumpJobs).at(-1)!.queue_job_id as Ulid
      const [n1, last1] = yield* queueJobs.cleanup(Option.none(), until, 1)
      expect([n1, last1]).toEqual([1, Option.some(rows[0]!.queue_job_id)])
      const [n2] = yield* queueJobs.cleanup(last1, until, 10)
      expect(n2).toBe(1)
      expect((yield* dumpJobs).map((x) => x.status).sort()).toEqual(["available", "scheduled", "scheduled"])
      expect((yield* queueJobs.cleanup(Option.none(), until, 10))[0]).toBe(0)
    }))
})
