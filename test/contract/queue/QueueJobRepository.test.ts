// Contract suite for QueueJobRepository: the status machine, reservation order and filtering, guards, retry, the schedule pointer and cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Worker } from "../../../src/model/queue.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"

const JOBS = "queue_jobs"
const dumpJobs = Effect.flatMap(Seed, (seed) => seed.dump(JOBS, "queue_job_id"))
const dumpSchedules = Effect.flatMap(Seed, (seed) => seed.dump("queue_schedules", "schedule_name"))

const dumpBoth = Effect.all([dumpJobs, dumpSchedules])

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

  test("retry of a job that is not failed or lost, or does not exist, is a RowsAffectedError; nothing is written", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* seedSchedule("nightly")
      yield* queueJobs.schedule("q", { n: 1 }, meta)
      yield* queueJobs.schedule("q", { n: 2 }, meta)
      const [running, completed] = yield* queueJobs.reserve(worker, ["q"], 2)
      yield* queueJobs.markAsCompleted(completed!.id)
      yield* queueJobs.schedule("q", { n: 3 }, meta)
      yield* queueJobs.scheduleLater("q", { n: 4 }, meta, new Date(EPOCH + 1000), Option.some("nightly"))
      const rows = yield* dumpJobs
      const idOf = (n: number) => rows.find((r) => (r.payload as { n: number }).n === n)!.queue_job_id as Ulid
      expect(rows.map((r) => r.status).sort()).toEqual(["available", "completed", "running", "scheduled"])
      const missing = yield* generateUlid
      const before = yield* dumpBoth
      for (const [name, id] of [
        ["available", idOf(3)],
        ["running", running!.id],
        ["completed", completed!.id],
        ["scheduled", idOf(4)],
        ["missing", missing]
      ] as const) {
        expect([name, yield* Effect.flip(queueJobs.retry(id, Duration.seconds(1)))]).toMatchObject([
          name,
          noRowAffected
        ])
      }
      expect(yield* dumpBoth).toEqual(before)
    }))

  test("retry with an infinite delay is an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* seedSchedule("nightly")
      yield* queueJobs.scheduleLater("q", {}, meta, new Date(EPOCH), Option.some("nightly"))
      yield* queueJobs.scheduleAvailableJobs()
      const [job] = yield* queueJobs.reserve(worker, ["q"], 1)
      yield* queueJobs.markAsFailed(job!.id, "x")
      yield* expectEachToFailWithoutWriting(dumpBoth, "InvalidOperationError", [
        ["infinite delay", queueJobs.retry(job!.id, Duration.infinity)]
      ])
    }))

  test("markAsCompleted, markAsFailed and retry with a malformed id are InvalidOperationErrors; nothing is written", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* queueJobs.schedule("q", { n: 1 }, meta)
      yield* queueJobs.schedule("q", { n: 2 }, meta)
      const [failed, running] = yield* queueJobs.reserve(worker, ["q"], 2)
      yield* queueJobs.markAsFailed(failed!.id, "x")
      yield* expectEachToFailWithoutWriting(dumpBoth, "InvalidOperationError", [
        ...malformedIdsLike(running!.id).flatMap(
          (id) =>
            [
              [`markAsCompleted ${JSON.stringify(id)}`, queueJobs.markAsCompleted(id)],
              [`markAsFailed ${JSON.stringify(id)}`, queueJobs.markAsFailed(id, "x")]
            ] as const
        ),
        ...malformedIdsLike(failed!.id).map(
          (id) => [`retry ${JSON.stringify(id)}`, queueJobs.retry(id, Duration.zero)] as const
        )
      ])
    }))

  test("markAsFailed with a reason holding an unpaired surrogate is an InvalidOperationError, NUL a DriverError (22021)", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* queueJobs.schedule("q", {}, meta)
      const [job] = yield* queueJobs.reserve(worker, ["q"], 1)
      yield* expectEachToFailWithoutWriting(dumpJobs, "InvalidOperationError", [
        ["lone high surrogate", queueJobs.markAsFailed(job!.id, "a\uD800b")],
        ["lone low surrogate", queueJobs.markAsFailed(job!.id, "\uDC00")]
      ])
      yield* expectEachToFailWithoutWriting(dumpJobs, "DriverError", [
        ["NUL", queueJobs.markAsFailed(job!.id, "a\u0000b"), "[22021]"]
      ])
      expect((yield* dumpJobs).map((r) => r.status)).toEqual(["running"])
    }))

  test("schedule and scheduleLater refuse an empty or ill-formed queue name and an invalid date; nothing is written", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      yield* seedSchedule("nightly")
      yield* queueJobs.schedule("q", {}, meta)
      const at = new Date(EPOCH + 1000)
      const nightly = Option.some("nightly")
      yield* expectEachToFailWithoutWriting(dumpBoth, "InvalidOperationError", [
        ["schedule empty queue", queueJobs.schedule("", {}, meta)],
        ["schedule lone surrogate queue", queueJobs.schedule("q\uD800", {}, meta)],
        ["scheduleLater empty queue", queueJobs.scheduleLater("", {}, meta, at, nightly)],
        ["scheduleLater lone surrogate queue", queueJobs.scheduleLater("\uDC00q", {}, meta, at, nightly)],
        ["scheduleLater invalid date", queueJobs.scheduleLater("q", {}, meta, new Date(NaN), Option.none())],
        ["scheduleLater invalid date with a schedule", queueJobs.scheduleLater("q", {}, meta, new Date(NaN), nightly)]
      ])
    }))

  test("reserve refuses a negative or fractional count; an unregistered worker is a DriverError (23503)", () =>
    Effect.gen(function* () {
      const { queueJobs } = yield* RepositoryAccess
      const worker = yield* seedWorker
      yield* queueJobs.schedule("q", {}, meta)
      yield* expectEachToFailWithoutWriting(dumpJobs, "InvalidOperationError", [
        ["count -1", queueJobs.reserve(worker, ["q"], -1)],
        ["count 1.5", queueJobs.reserve(worker, ["q"], 1.5)],
        ["count NaN", queueJobs.reserve(worker, ["q"], NaN)],
        ["count Infinity", queueJobs.reserve(worker, ["q"], Infinity)],
        ["count beyond safe integers", queueJobs.reserve(worker, ["q"], Number.MAX_SAFE_INTEGER + 1)]
      ])
      const stranger = new Worker({ id: yield* generateUlid })
      yield* expectEachToFailWithoutWriting(dumpJobs, "DriverError", [
        ["unregistered worker", queueJobs.reserve(stranger, ["q"], 1), "[23503]"]
      ])
      expect((yield* dumpJobs).map((r) => r.status)).toEqual(["available"])
    }))
})
