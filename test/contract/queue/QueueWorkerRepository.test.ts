// Contract suite for QueueWorkerRepository: registration, heartbeats, shutdowns losing and retrying running jobs, dead workers, the leader lease, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Worker } from "../../../src/model/queue.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { type Backend, contract, EPOCH } from "../backends.js"
import { expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const dumpWorkers = Effect.flatMap(Seed, (seed) => seed.dump("queue_workers", "queue_worker_id"))
const dumpLease = Effect.flatMap(Seed, (seed) => seed.dump("queue_leader", "active"))
const dumpJobs = Effect.flatMap(Seed, (seed) => seed.dump("queue_jobs", "queue_job_id"))
const dumpSchedules = Effect.flatMap(Seed, (seed) => seed.dump("queue_schedules", "schedule_name"))
const everything = Effect.all([dumpWorkers, dumpLease, dumpJobs, dumpSchedules])

const meta = { trace_id: "t", span_id: "s", trace_flags: 1 }

const seedSchedule = (name: string) =>
  Effect.flatMap(Seed, (seed) =>
    seed.insert("queue_schedules", { schedule_name: name, last_scheduled_at: null, last_scheduled_job_id: null })
  )

/**
 * A job of schedule `name` (which must exist) that `worker` is running, made through the job repository so that the
 * schedule points to it: a seeded row could not (the job names the schedule, the schedule the job).
 */
const runningScheduledJob = (worker: Worker, name: string) =>
  Effect.gen(function* () {
    const { queueJobs } = yield* RepositoryAccess
    const queue = `q-${name}`
    yield* queueJobs.scheduleLater(queue, { schedule: name }, meta, at(-60), Option.some(name))
    yield* queueJobs.scheduleAvailableJobs()
    const [job] = yield* queueJobs.reserve(worker, [queue], 1)
    return job!.id
  })

/** A job row; running by `worker` unless the columns say otherwise. */
const seedJob = (worker: Worker, columns: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("queue_jobs", {
      queue_job_id: id,
      queue_name: "q",
      payload: { job: id },
      metadata: meta,
      status: "running",
      created_at: at(-120),
      started_at: at(-60),
      started_by: worker.id,
      completed_at: null,
      failed_at: null,
      failed_reason: null,
      attempt: 2,
      next_attempt_id: null,
      scheduled_at: null,
      schedule_name: null,
      ...columns
    })
    return id
  })

/** A lease row planted as it would be stored (expiry far in the past: expired on every clock; far ahead: on none). */
const plantLease = (worker: Worker, expiresAt: Date) =>
  Effect.flatMap(Seed, (seed) =>
    seed.insert("queue_leader", {
      active: true,
      elected_at: at(-10),
      expires_at: expiresAt,
      queue_worker_id: worker.id
    })
  )
const LONG_AGO = new Date("2000-01-01T00:00:00Z")
const FAR_AHEAD = new Date("9999-01-01T00:00:00Z")

const leaseHolder = Effect.map(dumpLease, (rows) => rows.map((r) => r.queue_worker_id))

/** The job row of `id` in a dump. */
const rowOf = (rows: ReadonlyArray<Record<string, unknown>>, id: Ulid) => rows.find((r) => r.queue_job_id === id)!

/** Whether a lease expiry is 5 seconds after "database time": Clock in memory, the server's clock on PostgreSQL. */
const expiresFiveSecondsOn = (backend: Backend, expiresAt: unknown, clockMillis: number) => {
  const expiry = (expiresAt as Date).getTime()
  return backend.name === "memory" ? expiry === clockMillis + 5000 : Math.abs(expiry - (Date.now() + 5000)) < 60_000
}

contract("QueueWorkerRepository", (test, backend) => {
  test("register stores a live worker registered and last seen now, with its id from Clock and Random", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      yield* TestClock.adjust(Duration.millis(5))
      const worker = yield* queueWorkers.register()
      expect(worker).toBeInstanceOf(Worker)
      expect(ulidTimestamp(worker.id)).toBe(EPOCH + 5)
      const other = yield* queueWorkers.register()
      expect(other.id).not.toBe(worker.id)
      expect(yield* dumpWorkers).toEqual(
        [worker, other]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((w) => ({
            queue_worker_id: w.id,
            registered_at: new Date(EPOCH + 5),
            last_seen_at: new Date(EPOCH + 5),
            shutdown_at: null
          }))
      )
    }))

  test("heartbeat moves last-seen to now; after shutdown, or for a worker not stored, it is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const worker = yield* queueWorkers.register()
      yield* TestClock.adjust(Duration.seconds(30))
      yield* queueWorkers.heartbeat(worker)
      expect(yield* dumpWorkers).toMatchObject([{ registered_at: at(0), last_seen_at: at(30), shutdown_at: null }])
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* queueWorkers.shutdown(worker)).toEqual([])
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* Effect.flip(queueWorkers.heartbeat(worker))).toMatchObject(noRowAffected)
      expect(yield* dumpWorkers).toMatchObject([{ last_seen_at: at(30), shutdown_at: at(31) }])
      const ghost = new Worker({ id: yield* generateUlid })
      expect(yield* Effect.flip(queueWorkers.heartbeat(ghost))).toMatchObject(noRowAffected)
    }))

  test("shutdown stamps the time once: a second shutdown, or of a worker not stored, is a RowsAffectedError writing nothing", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const worker = yield* queueWorkers.register()
      yield* TestClock.adjust(Duration.seconds(3))
      yield* queueWorkers.shutdown(worker)
      yield* TestClock.adjust(Duration.seconds(3))
      const before = yield* everything
      expect(yield* Effect.flip(queueWorkers.shutdown(worker))).toMatchObject(noRowAffected)
      const ghost = new Worker({ id: yield* generateUlid })
      expect(yield* Effect.flip(queueWorkers.shutdown(ghost))).toMatchObject(noRowAffected)
      expect(yield* everything).toEqual(before)
      expect(yield* dumpWorkers).toMatchObject([{ shutdown_at: at(3) }])
    }))

  test("the lease: taken when free, extended by its holder, refused to another even expired, until removed", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const a = yield* queueWorkers.register()
      const b = yield* queueWorkers.register()
      expect(yield* queueWorkers.tryGetLeaderLease(a)).toBe(true)
      const [taken] = yield* dumpLease
      expect(taken).toMatchObject({ active: true, elected_at: at(0), queue_worker_id: a.id })
      expect(expiresFiveSecondsOn(backend, taken!.expires_at, EPOCH)).toBe(true)
      // extended by the holder: same election, expiry renewed
      yield* TestClock.adjust(Duration.seconds(3))
      expect(yield* queueWorkers.tryGetLeaderLease(a)).toBe(true)
      const [extended] = yield* dumpLease
      expect(extended).toMatchObject({ elected_at: at(0), queue_worker_id: a.id })
      expect(expiresFiveSecondsOn(backend, extended!.expires_at, EPOCH + 3000)).toBe(true)
      expect(yield* queueWorkers.tryGetLeaderLease(b)).toBe(false)
      expect(yield* leaseHolder).toEqual([a.id])
      // a live lease is not removed
      yield* queueWorkers.removeLeaderLeaseIfExpired()
      expect(yield* leaseHolder).toEqual([a.id])
    }))

  test("an expired lease stays its holder's until removeLeaderLeaseIfExpired; its holder may still extend it", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const a = yield* queueWorkers.register()
      const b = yield* queueWorkers.register()
      yield* plantLease(a, LONG_AGO)
      expect(yield* queueWorkers.tryGetLeaderLease(b)).toBe(false)
      expect(yield* dumpLease).toMatchObject([{ queue_worker_id: a.id, expires_at: LONG_AGO }])
      // the holder renews its own expired lease (the election time stays)
      expect(yield* queueWorkers.tryGetLeaderLease(a)).toBe(true)
      const [renewed] = yield* dumpLease
      expect(renewed).toMatchObject({ queue_worker_id: a.id, elected_at: at(-10) })
      expect(expiresFiveSecondsOn(backend, renewed!.expires_at, EPOCH)).toBe(true)
      yield* queueWorkers.removeLeaderLeaseIfExpired()
      expect(yield* leaseHolder).toEqual([a.id])
    }))

  test("an expired lease is removed by removeLeaderLeaseIfExpired, and another worker then takes it, elected now", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const a = yield* queueWorkers.register()
      const b = yield* queueWorkers.register()
      yield* plantLease(a, LONG_AGO)
      yield* TestClock.adjust(Duration.seconds(2))
      yield* queueWorkers.removeLeaderLeaseIfExpired()
      expect(yield* dumpLease).toEqual([])
      expect(yield* queueWorkers.tryGetLeaderLease(b)).toBe(true)
      expect(yield* dumpLease).toMatchObject([{ queue_worker_id: b.id, elected_at: at(2) }])
      expect(yield* queueWorkers.tryGetLeaderLease(a)).toBe(false)
    }))

  test("a lease that has not expired is kept by removeLeaderLeaseIfExpired", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const a = yield* queueWorkers.register()
      yield* plantLease(a, FAR_AHEAD)
      yield* queueWorkers.removeLeaderLeaseIfExpired()
      expect(yield* dumpLease).toMatchObject([{ queue_worker_id: a.id, expires_at: FAR_AHEAD }])
    }))

  test("tryGetLeaderLease of a worker not stored is a DriverError (23503) when the lease is free, false when it is held", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const ghost = new Worker({ id: yield* generateUlid })
      const error = yield* Effect.flip(repos.queueWorkers.tryGetLeaderLease(ghost))
      expect(error).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503"),
        constraint: Option.some("queue_leader_queue_worker_id_fkey")
      })
      expect(yield* dumpLease).toEqual([])
      const a = yield* repos.queueWorkers.register()
      expect(yield* repos.queueWorkers.tryGetLeaderLease(a)).toBe(true)
      expect(yield* repos.queueWorkers.tryGetLeaderLease(ghost)).toBe(false)
    }))

  test("shutdown gives up the lease its worker holds, and only that one", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const a = yield* queueWorkers.register()
      const b = yield* queueWorkers.register()
      expect(yield* queueWorkers.tryGetLeaderLease(a)).toBe(true)
      yield* queueWorkers.shutdown(b)
      expect(yield* leaseHolder).toEqual([a.id])
      yield* queueWorkers.shutdown(a)
      expect(yield* dumpLease).toEqual([])
      const c = yield* queueWorkers.register()
      expect(yield* queueWorkers.tryGetLeaderLease(c)).toBe(true)
    }))

  test("shutdown turns the worker's running jobs into lost ones, each retried at once as a linked new attempt; schedules follow", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const worker = yield* queueWorkers.register()
      const other = yield* queueWorkers.register()
      yield* seedSchedule("nightly")
      yield* seedSchedule("hourly")
      const running1 = yield* runningScheduledJob(worker, "nightly")
      const running2 = yield* seedJob(worker, { attempt: 0 })
      const completed = yield* seedJob(worker, { status: "completed", completed_at: at(-1) })
      const failed = yield* seedJob(worker, { status: "failed", failed_at: at(-1), failed_reason: "boom" })
      const othersJob = yield* runningScheduledJob(other, "hourly")
      const available = yield* seedJob(worker, { status: "available", started_at: null, started_by: null })
      const before = yield* dumpJobs
      yield* TestClock.adjust(Duration.seconds(7))

      const lost = yield* queueWorkers.shutdown(worker)
      expect(lost).toEqual([running1, running2].sort())
      const after = yield* dumpJobs
      // untouched: the other worker's job, and the jobs that were not running
      for (const id of [completed, failed, othersJob, available]) expect(rowOf(after, id)).toEqual(rowOf(before, id))
      for (const id of [running1, running2]) {
        const old = rowOf(after, id)
        expect(old).toMatchObject({
          ...rowOf(before, id),
          status: "lost",
          failed_at: at(7),
          failed_reason: expect.stringContaining(worker.id),
          next_attempt_id: expect.any(String)
        })
        const retry = rowOf(after, old.next_attempt_id as Ulid)
        expect(retry).toEqual({
          queue_job_id: old.next_attempt_id,
          queue_name: rowOf(before, id).queue_name,
          payload: rowOf(before, id).payload,
          metadata: rowOf(before, id).metadata,
          status: "scheduled",
          created_at: at(7),
          started_at: null,
          started_by: null,
          completed_at: null,
          failed_at: null,
          failed_reason: null,
          attempt: (rowOf(before, id).attempt as number) + 1,
          next_attempt_id: null,
          scheduled_at: at(7),
          schedule_name: rowOf(before, id).schedule_name
        })
        expect(ulidTimestamp(old.next_attempt_id as Ulid)).toBe(at(7).getTime())
      }
      expect(after.length).toBe(before.length + 2)
      expect(yield* dumpSchedules).toEqual([
        { schedule_name: "hourly", last_scheduled_at: at(-60), last_scheduled_job_id: othersJob },
        {
          schedule_name: "nightly",
          last_scheduled_at: at(7),
          last_scheduled_job_id: rowOf(after, running1).next_attempt_id
        }
      ])
      expect(yield* dumpWorkers).toMatchObject(
        [worker, other]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((w) => ({ queue_worker_id: w.id, shutdown_at: w === worker ? at(7) : null }))
      )
    }))

  test("shutdownDeadWorkers shuts down the live workers last seen strictly before now − threshold and loses their jobs", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const old = yield* queueWorkers.register() // last seen 0
      yield* TestClock.adjust(Duration.seconds(10))
      const boundary = yield* queueWorkers.register() // last seen 10: exactly at the cutoff, kept
      yield* TestClock.adjust(Duration.seconds(1))
      const fresh = yield* queueWorkers.register() // last seen 11
      const gone = yield* queueWorkers.register()
      yield* queueWorkers.shutdown(gone) // already shut down at 11: not again
      const oldJob = yield* seedJob(old)
      const oldDone = yield* seedJob(old, { status: "completed", completed_at: at(1) })
      const boundaryJob = yield* seedJob(boundary)
      const freshJob = yield* seedJob(fresh)
      const goneJob = yield* seedJob(gone, { status: "failed", failed_at: at(11), failed_reason: "x" })
      const before = yield* dumpJobs
      yield* TestClock.adjust(Duration.seconds(49)) // now 60: cutoff 10

      const result = yield* queueWorkers.shutdownDeadWorkers(Duration.seconds(50))
      expect(result).toEqual({ workers: [old], lostJobs: [oldJob] })
      expect(result.workers[0]).toBeInstanceOf(Worker)
      const workers = yield* dumpWorkers
      const shutdownOf = (w: Worker) => workers.find((r) => r.queue_worker_id === w.id)!.shutdown_at
      expect([old, boundary, fresh, gone].map(shutdownOf)).toEqual([at(60), null, null, at(11)])
      const after = yield* dumpJobs
      for (const id of [oldDone, boundaryJob, freshJob, goneJob]) expect(rowOf(after, id)).toEqual(rowOf(before, id))
      const lostRow = rowOf(after, oldJob)
      expect(lostRow).toMatchObject({
        status: "lost",
        failed_at: at(60),
        failed_reason: expect.stringContaining(old.id)
      })
      expect(rowOf(after, lostRow.next_attempt_id as Ulid)).toMatchObject({
        status: "scheduled",
        scheduled_at: at(60),
        attempt: 3
      })

      // one millisecond later the boundary worker is dead too; nothing is shut down twice
      yield* TestClock.adjust(Duration.millis(1))
      const next = yield* queueWorkers.shutdownDeadWorkers(Duration.seconds(50))
      expect(next).toEqual({ workers: [boundary], lostJobs: [boundaryJob] })
      expect(yield* queueWorkers.shutdownDeadWorkers(Duration.seconds(50))).toEqual({ workers: [], lostJobs: [] })
      // a zero threshold takes every live worker not seen this very millisecond
      const result0 = yield* queueWorkers.shutdownDeadWorkers(Duration.zero)
      expect(result0).toEqual({ workers: [fresh], lostJobs: [freshJob] })
      expect(yield* Effect.flip(queueWorkers.heartbeat(fresh))).toMatchObject(noRowAffected)
    }))

  test("several dead workers at once: workers and lost jobs in id order, each job's reason naming its worker", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const ws = [yield* queueWorkers.register(), yield* queueWorkers.register(), yield* queueWorkers.register()]
      const jobs: Array<[Ulid, Worker]> = []
      for (const w of [ws[2]!, ws[0]!, ws[2]!, ws[1]!]) jobs.push([yield* seedJob(w), w])
      yield* TestClock.adjust(Duration.minutes(5))
      const result = yield* queueWorkers.shutdownDeadWorkers(Duration.minutes(1))
      expect(result.workers.map((w) => w.id)).toEqual(ws.map((w) => w.id).sort())
      expect(result.lostJobs).toEqual(jobs.map(([id]) => id).sort())
      const after = yield* dumpJobs
      for (const [id, w] of jobs) expect(rowOf(after, id).failed_reason).toContain(w.id)
      const retries = after.filter((r) => r.status === "scheduled")
      expect(retries.length).toBe(4)
      expect(new Set(after.filter((r) => r.status === "lost").map((r) => r.next_attempt_id))).toEqual(
        new Set(retries.map((r) => r.queue_job_id))
      )
    }))

  test("a shutdown inside a unit of work that rolls back leaves workers, lease, jobs and schedules as they were", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const worker = yield* repos.queueWorkers.register()
      yield* seedSchedule("s")
      const job = yield* runningScheduledJob(worker, "s")
      expect(yield* repos.queueWorkers.tryGetLeaderLease(worker)).toBe(true)
      const before = yield* everything
      const failure = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            expect(yield* repos.queueWorkers.shutdown(worker)).toEqual([job])
            expect(yield* repos.queueWorkers.shutdownDeadWorkers(Duration.zero)).toEqual({ workers: [], lostJobs: [] })
            return yield* Effect.fail("abandon")
          })
        )
      )
      expect(failure).toBe("abandon")
      expect(yield* everything).toEqual(before)
    }))

  test("refused input changes nothing: malformed worker ids and infinite or unrepresentable thresholds are an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { queueWorkers } = yield* RepositoryAccess
      const worker = yield* queueWorkers.register()
      yield* seedJob(worker)
      yield* TestClock.adjust(Duration.minutes(10))
      const malformed = malformedIdsLike(worker.id).map((id) => new Worker({ id }, { disableValidation: true }))
      yield* expectEachToFailWithoutWriting(everything, "InvalidOperationError", [
        ...malformed.flatMap((w) => [
          [`heartbeat ${w.id}`, queueWorkers.heartbeat(w)] as const,
          [`shutdown ${w.id}`, queueWorkers.shutdown(w)] as const,
          [`tryGetLeaderLease ${w.id}`, queueWorkers.tryGetLeaderLease(w)] as const
        ]),
        ["infinite threshold", queueWorkers.shutdownDeadWorkers(Duration.infinity), "threshold"],
        ["threshold before any timestamp", queueWorkers.shutdownDeadWorkers(Duration.days(1e9)), "threshold"],
        ["threshold past 4714 BC", queueWorkers.shutdownDeadWorkers(Duration.days(2_500_000)), "threshold"]
      ])
    }))
})
