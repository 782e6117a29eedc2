// Backend equivalence for the policy data and the job queue: versions, schedules, jobs, workers and the leader lease.
import { Duration, Effect, Either, FastCheck as fc, Option } from "effect"
import type { Row } from "../../src/memory/Database.js"
import type { Worker } from "../../src/model/queue.js"
import { maxUlidAt, type Ulid } from "../../src/model/Ulid.js"
import type { Json } from "../../src/model/values.js"
import { workerOf } from "../../src/rows/queue/worker.js"
import type { RepositoryAccessShape } from "../../src/storage/RepositoryAccess.js"
import { Seed } from "../support/seed.js"
import {
  cleanupLimit,
  fromPool,
  offset,
  outcome,
  pick,
  randomUlid,
  type Ref,
  ref,
  SKIPPED,
  withEntity
} from "./equivalence-support.js"

// ---------------------------------------------------------------------------------------------
// Operations

/** A worker registered so far, or one that never was (a fixed id, the same on both backends). */
export type WorkerRef = Ref | "unknown"

/**
 * A job among the current rows of a status (so that the transitions mostly find a job they apply to), among every id
 * seen so far (deleted and rolled-back ones too), a random ULID, or text that is no ULID.
 */
export type JobRef = { readonly among: "running" | "retryable" | "seen"; readonly n: Ref } | string

// `removeLeaderLeaseIfExpired` is left out on purpose: on PostgreSQL the lease's expiry is the database's NOW() and in
// memory Clock's time (the TestClock here), so whether a lease has expired differs between the backends by design.
export type QueueOp =
  | { readonly _tag: "tick"; readonly ms: number }
  | { readonly _tag: "policyGet" }
  | { readonly _tag: "policySet"; readonly data: number }
  | { readonly _tag: "policyPrune"; readonly keep: number }
  | { readonly _tag: "scheduleSetup"; readonly names: ReadonlyArray<string> }
  | { readonly _tag: "scheduleList" }
  | {
      readonly _tag: "jobSchedule"
      readonly queue: string
      readonly payload: number
      readonly metadata: number
    }
  | {
      readonly _tag: "jobScheduleLater"
      readonly queue: string
      readonly payload: number
      readonly metadata: number
      readonly at: number
      readonly schedule: string | null
    }
  | {
      readonly _tag: "jobReserve"
      readonly worker: WorkerRef
      readonly queues: ReadonlyArray<string>
      readonly count: number
    }
  | { readonly _tag: "jobComplete"; readonly job: JobRef }
  | { readonly _tag: "jobFail"; readonly job: JobRef; readonly reason: string }
  | { readonly _tag: "jobRetry"; readonly job: JobRef; readonly delay: number | null }
  | { readonly _tag: "jobScheduleAvailable" }
  | {
      readonly _tag: "jobCleanup"
      readonly since: JobRef | null
      /** A job id, or the greatest ULID of an instant offset from now. */
      readonly until: { readonly job: JobRef } | { readonly at: number }
      readonly limit: number
    }
  | { readonly _tag: "workerRegister" }
  | { readonly _tag: "workerHeartbeat"; readonly worker: WorkerRef }
  | { readonly _tag: "workerShutdown"; readonly worker: WorkerRef }
  | { readonly _tag: "workerShutdownDead"; readonly threshold: number | null }
  | { readonly _tag: "workerTryGetLease"; readonly worker: WorkerRef }

const QUEUE_OP_TAGS: ReadonlySet<string> = new Set<QueueOp["_tag"]>([
  "policyGet",
  "policySet",
  "policyPrune",
  "scheduleSetup",
  "scheduleList",
  "jobSchedule",
  "jobScheduleLater",
  "jobReserve",
  "jobComplete",
  "jobFail",
  "jobRetry",
  "jobScheduleAvailable",
  "jobCleanup",
  "workerRegister",
  "workerHeartbeat",
  "workerShutdown",
  "workerShutdownDead",
  "workerTryGetLease"
])

export const isQueueOp = (op: { readonly _tag: string }): op is QueueOp => QUEUE_OP_TAGS.has(op._tag)

// ---------------------------------------------------------------------------------------------
// Arbitraries: few queues, schedules and documents, a few of them refused (empty, NUL, unpaired surrogates).

/** Documents by index (operations stay printable when a divergence is reported). */
const documents: ReadonlyArray<Json> = [
  {},
  { a: 1 },
  { z: 1, a: [1, 2, { c: null }] },
  "text",
  42,
  0.30000000000000004,
  [],
  { "\u00e9": "\u00df", "e\u0301": true },
  // refused: NUL inside a document (22P05), an unpaired surrogate (InvalidOperationError)
  { s: "a\u0000b" },
  { s: "\ud800" }
]
const metadataDocuments: ReadonlyArray<Json> = [
  {},
  { trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: "b7ad6b7169203331", trace_flags: 1 },
  { trace_flags: 255, extra: "kept" },
  // refused: out-of-range flags, not an object, a non-string id
  { trace_flags: 256 },
  [],
  { trace_id: 5 }
]
const queues = ["q1", "q2", "Q1"]
const queueNames = [...queues, "", "q\u0000"]
const scheduleNames = ["cleanup", "expire", "Expire", "b_%"]
const setupNames = [...scheduleNames, "", "x\u0000y", "\udc00"]
const reasons = ["boom", "", "a\u0000b", "\udc00"]
/** Delays and thresholds in milliseconds; null is Duration.infinity. */
const durations = [0, 500, 1000, 5000, 60_000, null]

const UNKNOWN_WORKER = workerOf("01FSHN9AG0ZZZZZZZZZZZZZZZZ" as Ulid)

const workerRef: fc.Arbitrary<WorkerRef> = fc.oneof(
  { arbitrary: ref, weight: 8 },
  { arbitrary: fc.constant("unknown" as const), weight: 1 }
)
const jobRef = (among: "running" | "retryable" | "seen"): fc.Arbitrary<JobRef> =>
  fc.oneof(
    { arbitrary: fc.record({ among: fc.constant(among), n: ref }), weight: 8 },
    { arbitrary: fc.record({ among: fc.constant("seen" as const), n: ref }), weight: 4 },
    { arbitrary: randomUlid, weight: 1 },
    { arbitrary: fc.constant("not-a-ulid"), weight: 1 }
  )
const anyJobRef: fc.Arbitrary<JobRef> = fc.oneof(
  { arbitrary: ref.map((n) => ({ among: "seen" as const, n })), weight: 12 },
  { arbitrary: randomUlid, weight: 1 },
  { arbitrary: fc.constant("not-a-ulid"), weight: 1 }
)
/** Mostly accepted values, sometimes a refused one. */
const mostly = <T>(good: ReadonlyArray<T>, all: ReadonlyArray<T>) =>
  fc.oneof({ arbitrary: fromPool(good), weight: 6 }, { arbitrary: fromPool(all), weight: 1 })
const goodDocuments = 8
const goodMetadata = 3
const documentIndex = mostly([...documents.keys()].slice(0, goodDocuments), [...documents.keys()])
const metadataIndex = mostly([...metadataDocuments.keys()].slice(0, goodMetadata), [...metadataDocuments.keys()])

const policySet = fc.record({ _tag: fc.constant("policySet" as const), data: documentIndex })
const scheduleSetup = fc.record({
  _tag: fc.constant("scheduleSetup" as const),
  names: fc.array(mostly(scheduleNames, setupNames), { maxLength: 3 })
})
const jobSchedule = fc.record({
  _tag: fc.constant("jobSchedule" as const),
  queue: mostly(queues, queueNames),
  payload: documentIndex,
  metadata: metadataIndex
})
const jobScheduleLater = fc.record({
  _tag: fc.constant("jobScheduleLater" as const),
  queue: mostly(queues, queueNames),
  payload: documentIndex,
  metadata: metadataIndex,
  at: offset,
  // "missing" names no schedule (23503)
  schedule: fc.oneof(fc.constant(null), fromPool([...scheduleNames, "missing"]))
})
const jobReserve = fc.record({
  _tag: fc.constant("jobReserve" as const),
  worker: workerRef,
  queues: fc.subarray([...queues]),
  count: fc.oneof({ arbitrary: fc.nat({ max: 3 }), weight: 8 }, { arbitrary: fc.constantFrom(-1, 1.5), weight: 1 })
})
const workerRegister = fc.record({ _tag: fc.constant("workerRegister" as const) })
const jobFail = fc.record({
  _tag: fc.constant("jobFail" as const),
  job: jobRef("running"),
  reason: mostly(reasons.slice(0, 2), reasons)
})
const workerTryGetLease = fc.record({ _tag: fc.constant("workerTryGetLease" as const), worker: workerRef })
// steps of the TestClock: scheduled jobs come due, workers miss heartbeats
const tick = fc.record({ _tag: fc.constant("tick" as const), ms: fc.constantFrom(500, 1000, 5000, 60_000) })

export const queueOp: fc.Arbitrary<QueueOp> = fc.oneof(
  { arbitrary: tick, weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("policyGet" as const) }), weight: 1 },
  { arbitrary: policySet, weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("policyPrune" as const),
      keep: fc.oneof({ arbitrary: fc.nat({ max: 3 }), weight: 6 }, { arbitrary: fc.constantFrom(-1, 0.5), weight: 1 })
    }),
    weight: 1
  },
  { arbitrary: scheduleSetup, weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("scheduleList" as const) }), weight: 1 },
  { arbitrary: jobSchedule, weight: 4 },
  { arbitrary: jobScheduleLater, weight: 3 },
  { arbitrary: jobReserve, weight: 5 },
  { arbitrary: fc.record({ _tag: fc.constant("jobComplete" as const), job: jobRef("running") }), weight: 3 },
  { arbitrary: jobFail, weight: 3 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("jobRetry" as const),
      job: jobRef("retryable"),
      delay: fromPool(durations)
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("jobScheduleAvailable" as const) }), weight: 2 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("jobCleanup" as const),
      since: fc.oneof(fc.constant(null), anyJobRef),
      until: fc.oneof(fc.record({ job: anyJobRef }), fc.record({ at: offset })),
      limit: cleanupLimit
    }),
    weight: 2
  },
  { arbitrary: workerRegister, weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("workerHeartbeat" as const), worker: workerRef }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("workerShutdown" as const), worker: workerRef }), weight: 2 },
  {
    arbitrary: fc.record({ _tag: fc.constant("workerShutdownDead" as const), threshold: fromPool(durations) }),
    weight: 2
  },
  { arbitrary: workerTryGetLease, weight: 3 }
)

/** Workers, schedules and jobs (some reserved, so running) first, so that the transitions have something to act on. */
export const queueSetup: fc.Arbitrary<ReadonlyArray<QueueOp>> = fc
  .tuple(
    fc.array(policySet, { maxLength: 2 }),
    fc.array(workerRegister, { minLength: 1, maxLength: 2 }),
    fc.array(scheduleSetup, { maxLength: 1 }),
    fc.array(jobSchedule, { minLength: 1, maxLength: 3 }),
    fc.array(jobScheduleLater, { maxLength: 2 }),
    // a reservation by a registered worker (so running jobs), perhaps a failure, a leader, and time passing
    fc.array(
      jobReserve.map((o) => ({ ...o, worker: 0, queues, count: Math.max(o.count, 1) })),
      { minLength: 1, maxLength: 2 }
    ),
    fc.array(jobFail, { maxLength: 1 }),
    fc.array(workerTryGetLease, { maxLength: 1 }),
    fc.array(tick, { maxLength: 1 })
  )
  .map((groups): ReadonlyArray<QueueOp> => groups.flat())

// ---------------------------------------------------------------------------------------------
// Running the operations

export interface QueueEntities {
  workers: Array<Worker>
  /** Every job id seen in the rows so far, in the order first seen (deleted and rolled-back ones stay). */
  jobIds: Array<Ulid>
}

export const noQueueEntities = (): QueueEntities => ({ workers: [], jobIds: [] })

const byKey = (key: string) => (a: Row, b: Row) => {
  const x = String(a[key])
  const y = String(b[key])
  return x < y ? -1 : x > y ? 1 : 0
}

// schedule/scheduleLater return nothing, so the jobs to act on are read from the rows (the same on both backends
// while they agree); a read refused inside a doomed unit of work leaves the ids known before.
const knownJobIds = (state: QueueEntities) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const rows = yield* Effect.either(seed.dump("queue_jobs", "queue_job_id"))
    if (Either.isRight(rows)) {
      for (const row of [...rows.right].sort(byKey("queue_job_id"))) {
        const id = row.queue_job_id as Ulid
        if (!state.jobIds.includes(id)) state.jobIds.push(id)
      }
    }
    return state.jobIds
  })

const RETRYABLE: ReadonlySet<unknown> = new Set(["failed", "lost"])

/** The id `r` names now (none when it picks among no jobs). */
const jobIdOf = (state: QueueEntities, r: JobRef) =>
  Effect.gen(function* () {
    if (typeof r === "string") return Option.some(r as Ulid)
    const seen = yield* knownJobIds(state)
    if (r.among === "seen") return Option.map(pick(seen, r.n), ([id]) => id)
    const rows = yield* Effect.either(Effect.flatMap(Seed, (seed) => seed.dump("queue_jobs", "queue_job_id")))
    const ids = Either.match(rows, {
      onLeft: () => [],
      onRight: (all) =>
        [...all]
          .sort(byKey("queue_job_id"))
          .filter((row) => (r.among === "running" ? row.status === "running" : RETRYABLE.has(row.status)))
          .map((row) => row.queue_job_id as Ulid)
    })
    return Option.map(pick(ids, r.n), ([id]) => id)
  })

const withJob = <A, E>(state: QueueEntities, r: JobRef, f: (id: Ulid) => Effect.Effect<A, E>) =>
  Effect.flatMap(jobIdOf(state, r), (id) => (Option.isSome(id) ? outcome(f(id.value)) : Effect.succeed(SKIPPED)))

const duration = (ms: number | null) => (ms === null ? Duration.infinity : Duration.millis(ms))

export const runQueueOp = (
  repos: RepositoryAccessShape,
  state: QueueEntities,
  op: QueueOp,
  at: (offsetMs: number) => Date
): Effect.Effect<unknown, never, Seed> => {
  const withWorker = <A, E>(r: WorkerRef, f: (w: Worker) => Effect.Effect<A, E>) =>
    r === "unknown" ? outcome(f(UNKNOWN_WORKER)) : withEntity(state.workers, r, f)
  switch (op._tag) {
    case "tick":
      // unreached: the sequence runner steps the clock itself (the tag is shared with the other families' ticks)
      return Effect.succeed(SKIPPED)
    case "policyGet":
      return outcome(repos.policyData.get())
    case "policySet":
      return outcome(repos.policyData.set(documents[op.data]!))
    case "policyPrune":
      return outcome(repos.policyData.prune(op.keep))
    case "scheduleSetup":
      return outcome(repos.queueSchedules.setup(op.names))
    case "scheduleList":
      return outcome(repos.queueSchedules.list())
    case "jobSchedule":
      return outcome(repos.queueJobs.schedule(op.queue, documents[op.payload]!, metadataDocuments[op.metadata]!))
    case "jobScheduleLater":
      return outcome(
        repos.queueJobs.scheduleLater(
          op.queue,
          documents[op.payload]!,
          metadataDocuments[op.metadata]!,
          at(op.at),
          Option.fromNullable(op.schedule)
        )
      )
    case "jobReserve":
      return withWorker(op.worker, (w) => repos.queueJobs.reserve(w, op.queues, op.count))
    case "jobComplete":
      return withJob(state, op.job, (id) => repos.queueJobs.markAsCompleted(id))
    case "jobFail":
      return withJob(state, op.job, (id) => repos.queueJobs.markAsFailed(id, op.reason))
    case "jobRetry":
      return withJob(state, op.job, (id) => repos.queueJobs.retry(id, duration(op.delay)))
    case "jobScheduleAvailable":
      return outcome(repos.queueJobs.scheduleAvailableJobs())
    case "jobCleanup":
      return Effect.gen(function* () {
        const since = op.since === null ? Option.none() : yield* jobIdOf(state, op.since)
        const until = "at" in op.until ? Option.some(maxUlidAt(at(op.until.at))) : yield* jobIdOf(state, op.until.job)
        if (Option.isNone(until)) return SKIPPED
        return yield* outcome(repos.queueJobs.cleanup(since, until.value, op.limit))
      })
    case "workerRegister":
      return outcome(Effect.tap(repos.queueWorkers.register(), (w) => state.workers.push(w)))
    case "workerHeartbeat":
      return withWorker(op.worker, (w) => repos.queueWorkers.heartbeat(w))
    case "workerShutdown":
      return withWorker(op.worker, (w) => repos.queueWorkers.shutdown(w))
    case "workerShutdownDead":
      return outcome(repos.queueWorkers.shutdownDeadWorkers(duration(op.threshold)))
    case "workerTryGetLease":
      return withWorker(op.worker, (w) => repos.queueWorkers.tryGetLeaderLease(w))
  }
}

/** A table's rows in key order (sorted here: PostgreSQL would order text keys by its collation), minus `drop`. */
const rowsOf = (table: string, key: string, drop: ReadonlyArray<string> = []) =>
  Effect.flatMap(Seed, (seed) =>
    outcome(
      Effect.map(seed.dump(table, key), (rows) =>
        [...rows]
          .sort(byKey(key))
          .map((row) => Object.fromEntries(Object.entries(row).filter(([column]) => !drop.includes(column))))
      )
    )
  )

/** The queue's and policy's part of the final state: the current data, the schedule list, and every row left. */
export const queueFinalState = (repos: RepositoryAccessShape) =>
  Effect.all({
    policyCurrent: outcome(repos.policyData.get()),
    schedules: outcome(repos.queueSchedules.list()),
    policyDataRows: rowsOf("policy_data", "policy_data_id"),
    queueScheduleRows: rowsOf("queue_schedules", "schedule_name"),
    queueWorkerRows: rowsOf("queue_workers", "queue_worker_id"),
    // who holds the lease and since when, not until when: PostgreSQL's expiry is NOW() + 5 s, memory's Clock + 5 s
    queueLeaderRows: rowsOf("queue_leader", "active", ["expires_at"]),
    queueJobRows: rowsOf("queue_jobs", "queue_job_id")
  })

/** The tables these operations write, children first (jobs name workers and schedules; the lease names a worker). */
export const queueTables = ["queue_leader", "queue_jobs", "queue_schedules", "queue_workers", "policy_data"]
