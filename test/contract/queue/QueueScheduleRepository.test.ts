// Contract suite for QueueScheduleRepository: setup, the list by name with its last job's done flag, and refused names, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { JobStatus } from "../../../src/model/queue.js"
import { generateUlid } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFailWithoutWriting } from "../refusals.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const dumpSchedules = Effect.flatMap(Seed, (seed) => seed.dump("queue_schedules", "schedule_name"))

/** A job in `status`, scheduled at `scheduledAt` (seeded directly: the job repository is not used here). */
const seedJob = (status: JobStatus, scheduledAt: Date) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("queue_jobs", {
      queue_job_id: id,
      queue_name: "cleanup",
      payload: {},
      metadata: {},
      status,
      created_at: at(0),
      started_at: null,
      started_by: null,
      completed_at: status === "completed" ? at(2) : null,
      failed_at: status === "failed" ? at(2) : null,
      failed_reason: status === "failed" ? "boom" : null,
      attempt: 0,
      next_attempt_id: null,
      scheduled_at: scheduledAt,
      schedule_name: null
    })
    return id
  })

contract("QueueScheduleRepository", (test) => {
  test("setup inserts the names, list gives them by name without a last job; repeated and existing names are one schedule", () =>
    Effect.gen(function* () {
      const { queueSchedules } = yield* RepositoryAccess
      expect(yield* queueSchedules.list()).toEqual([])
      yield* queueSchedules.setup(["b", "a", "b", "😀", "\uFFFD", "A"])
      yield* queueSchedules.setup([])
      yield* queueSchedules.setup(["a", "c"])
      const list = yield* queueSchedules.list()
      // code-point order: an astral character after U+FFFD
      expect(list.map((s) => s.scheduleName)).toEqual(["A", "a", "b", "c", "\uFFFD", "😀"])
      for (const s of list) {
        expect(s.lastScheduledAt).toEqual(Option.none())
        expect(s.lastScheduledJobCompleted).toEqual(Option.none())
      }
    }))

  test("list gives the last job's time and whether it is done: running no, completed and failed yes, cleaned up none", () =>
    Effect.gen(function* () {
      const { queueSchedules } = yield* RepositoryAccess
      const seed = yield* Seed
      const names = ["available", "completed", "failed", "gone", "running", "scheduled"] as const
      yield* queueSchedules.setup(names)
      const jobs: Record<string, string> = {}
      for (const [i, name] of names.entries()) {
        const status: JobStatus = name === "gone" ? "completed" : name
        jobs[name] = yield* seedJob(status, at(10 + i))
      }
      // point each schedule at its job, as scheduleLater does
      for (const [i, name] of names.entries()) {
        yield* seed.delete("queue_schedules", "schedule_name", name)
        yield* seed.insert("queue_schedules", {
          schedule_name: name,
          last_scheduled_at: at(10 + i),
          last_scheduled_job_id: jobs[name]!
        })
      }
      // cleaning up the last job clears the schedule's pointer (ON DELETE SET NULL) but keeps its time
      yield* seed.delete("queue_jobs", "queue_job_id", jobs["gone"]!)
      const list = yield* queueSchedules.list()
      expect(list.map((s) => [s.scheduleName, s.lastScheduledAt, s.lastScheduledJobCompleted])).toEqual([
        ["available", Option.some(at(10)), Option.some(false)],
        ["completed", Option.some(at(11)), Option.some(true)],
        ["failed", Option.some(at(12)), Option.some(true)],
        ["gone", Option.some(at(13)), Option.none()],
        ["running", Option.some(at(14)), Option.some(false)],
        ["scheduled", Option.some(at(15)), Option.some(false)]
      ])
      // setup again leaves them and their last job untouched
      const before = yield* dumpSchedules
      yield* queueSchedules.setup(names)
      expect(yield* dumpSchedules).toEqual(before)
    }))

  test("refused names: empty or an unpaired surrogate is an InvalidOperationError, NUL a DriverError (22021); nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      yield* repos.queueSchedules.setup(["kept"])
      yield* expectEachToFailWithoutWriting(dumpSchedules, "InvalidOperationError", [
        ["empty", repos.queueSchedules.setup(["new", ""]), "empty"],
        ["lone high surrogate", repos.queueSchedules.setup(["new", "a\uD800"]), "surrogate"],
        ["lone low surrogate", repos.queueSchedules.setup(["\uDC00"]), "surrogate"],
        // the InvalidOperationError comes first, whatever the order of the names
        ["NUL and empty", repos.queueSchedules.setup(["a\u0000", ""]), "empty"]
      ])
      yield* expectEachToFailWithoutWriting(dumpSchedules, "DriverError", [
        ["NUL", repos.queueSchedules.setup(["new", "a\u0000b"])]
      ])
      const error = yield* Effect.flip(repos.queueSchedules.setup(["\u0000"]))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      expect((yield* repos.queueSchedules.list()).map((s) => s.scheduleName)).toEqual(["kept"])
    }))
})
