// Typed jobs on the in-memory backend: the payload encoded by its schema, the scheduling span's context as metadata,
// refusals that write nothing, and the handler decoding the payload.
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Ref, Schema } from "effect"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import { Worker } from "../../src/model/queue.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { jobType, scheduleJob, scheduleJobLater, typedJobHandler } from "../../src/worker/TypedJob.js"
import { deterministic, EPOCH } from "../contract/backends.js"
import { Seed, SeedMemory } from "../support/seed.js"

const SendEmail = jobType("send-email", Schema.Struct({ to: Schema.NonEmptyString, attempts: Schema.NumberFromString }))

const withMemory = <A, E>(body: Effect.Effect<A, E, RepositoryAccess | Seed>) =>
  deterministic(body).pipe(Effect.provide(Layer.provideMerge(SeedMemory, RepositoryAccessMemory.layer)))

/** The one registered worker's reservation of every job of the type's queue. */
const reserveAll = Effect.gen(function* () {
  const { queueJobs, queueWorkers, queueSchedules } = yield* RepositoryAccess
  const worker: Worker = yield* queueWorkers.register()
  yield* queueSchedules.setup([])
  yield* queueJobs.scheduleAvailableJobs()
  return yield* queueJobs.reserve(worker, [SendEmail.queue], 10)
})

it.effect("scheduleJob encodes the payload by its schema and stores the current span's context as metadata", () =>
  withMemory(
    Effect.gen(function* () {
      const span = yield* Effect.withSpan(
        Effect.zipRight(scheduleJob(SendEmail, { to: "alice@example.com", attempts: 3 }), Effect.currentSpan),
        "request"
      )
      const [job] = yield* reserveAll
      expect(job!.queueName).toBe("send-email")
      expect(job!.payload).toEqual({ to: "alice@example.com", attempts: "3" })
      expect(job!.metadata.traceId).toBe(span.traceId)
      expect(job!.metadata.spanId).toBe(span.spanId)
      expect(job!.metadata.traceFlags).toBe(span.sampled ? 1 : 0)
    })
  )
)

it.effect("outside any span the metadata is empty (read as empty ids and flags 0); scheduleJobLater waits", () =>
  withMemory(
    Effect.gen(function* () {
      yield* scheduleJobLater(SendEmail, { to: "bob@example.com", attempts: 1 }, new Date(EPOCH + 60_000))
      expect(yield* reserveAll).toEqual([])
      const seed = yield* Seed
      const [row] = yield* seed.dump("queue_jobs", "queue_job_id")
      expect(row!.status).toBe("scheduled")
      expect(row!.metadata).toEqual({})
      yield* scheduleJob(SendEmail, { to: "carol@example.com", attempts: 2 })
      const [job] = yield* reserveAll
      expect(job!.metadata).toMatchObject({ traceId: "", spanId: "", traceFlags: 0 })
    })
  )
)

it.effect(
  "a value the payload schema cannot encode is an InvalidOperationError naming the queue; nothing is written",
  () =>
    withMemory(
      Effect.gen(function* () {
        const error = yield* Effect.flip(scheduleJob(SendEmail, { to: "", attempts: 1 }))
        expect(error._tag).toBe("InvalidOperationError")
        expect(error.message).toContain("send-email")
        const seed = yield* Seed
        expect(yield* seed.dump("queue_jobs", "queue_job_id")).toEqual([])
      })
    )
)

it.effect("typedJobHandler decodes the payload for its run; a payload that does not decode fails without retry", () =>
  withMemory(
    Effect.gen(function* () {
      const seen = yield* Ref.make<ReadonlyArray<unknown>>([])
      const handler = typedJobHandler(SendEmail, (value) => Ref.update(seen, (xs) => [...xs, value]))
      expect(handler.queue).toBe("send-email")
      expect(handler.transactional).toBe(true)
      yield* scheduleJob(SendEmail, { to: "erin@example.com", attempts: 4 })
      const [job] = yield* reserveAll
      yield* handler.run(job!)
      expect(yield* Ref.get(seen)).toEqual([{ to: "erin@example.com", attempts: 4 }])

      const failure = yield* Effect.flip(handler.run({ ...job!, payload: { to: 42 } } as typeof job & {}))
      expect(failure._tag).toBe("JobFailure")
      expect(failure.retryable).toBe(false)
      expect(failure.reason).toContain("payload does not decode")
      expect(yield* Ref.get(seen)).toHaveLength(1)
    })
  )
)
