// The worker runtime: registration, heartbeats, the leader's duties, reserving and running jobs, a graceful stop.
import {
  Cause,
  Clock,
  Cron,
  Data,
  Deferred,
  Duration,
  Effect,
  Fiber,
  FiberSet,
  Option,
  Queue,
  Random,
  type Scope,
  Stream,
  Tracer
} from "effect"
import type { Job, Worker } from "../model/queue.js"
import type { DatabaseError } from "../storage/common/errors.js"
import { RepositoryAccess, type RepositoryAccessShape } from "../storage/RepositoryAccess.js"
import { JobFailure, type JobHandler } from "./JobHandler.js"
import type { RecurringJob } from "./RecurringJob.js"

export interface WorkerConfig {
  /** How often the worker tells the database it is alive. */
  readonly heartbeatInterval: Duration.Duration
  /** A worker not seen for this long is shut down by the leader and its running jobs retried elsewhere. */
  readonly deadThreshold: Duration.Duration
  /** The pause between ticks, before jitter. */
  readonly pollInterval: Duration.Duration
  /** The pause is drawn uniformly in `pollInterval · (1 ± pollJitter)`, so workers do not tick in step. */
  readonly pollJitter: number
  readonly maxConcurrentJobs: number
  /** At most this many jobs are reserved per tick (and never more than the free slots). */
  readonly reserveBatch: number
  /** A retryable failure of attempt `n < maxAttempts` is retried; at `maxAttempts` the job stays failed. */
  readonly maxAttempts: number
  /** On stop, how long running jobs may take to finish before they are interrupted (and then retried elsewhere). */
  readonly gracePeriod: Duration.Duration
  /** The delay before attempt `attempt + 1` of a job whose attempt `attempt` failed. */
  readonly backoff: (attempt: number) => Duration.Duration
  /**
   * Optional early wake-ups (on PostgreSQL: the `queue_available` notifications); without them the worker polls.
   * A failing stream is logged and the worker goes on polling.
   */
  readonly wakeups: Option.Option<Stream.Stream<unknown, unknown>>
  /** Stop (gracefully) after the first tick that finds nothing to reserve and nothing running. */
  readonly exitWhenIdle: boolean
}

/** 5 s · 2^attempt. */
export const exponentialBackoff = (attempt: number): Duration.Duration => Duration.millis(5_000 * 2 ** attempt)

export const defaultWorkerConfig: WorkerConfig = {
  heartbeatInterval: Duration.minutes(1),
  deadThreshold: Duration.minutes(2),
  pollInterval: Duration.seconds(1),
  pollJitter: 0.1,
  maxConcurrentJobs: 10,
  reserveBatch: 5,
  maxAttempts: 10,
  gracePeriod: Duration.seconds(30),
  backoff: exponentialBackoff,
  wakeups: Option.none(),
  exitWhenIdle: false
}

/** The heartbeat was refused: this worker was declared dead, and its jobs may already run elsewhere. */
class DeclaredDead extends Data.TaggedError("DeclaredDead")<{ readonly worker: Worker }> {}

/** The guarded completion was refused: the job is no longer this worker's. */
class CompletionRefused extends Data.TaggedError("CompletionRefused")<Record<never, never>> {}

type Incarnation = "dead" | "stopped"

/**
 * Runs a worker until it is interrupted (or, with `exitWhenIdle`, until it finds nothing to do). Interruption stops
 * it gracefully: no more reserving, running jobs get `gracePeriod` to finish, the rest are interrupted, and the
 * worker is shut down in the database, which turns its unfinished jobs into lost ones retried at once. A worker that
 * learns it was declared dead interrupts its jobs and registers again as a new worker. Fails only when registering,
 * setting up the schedules or the final shutdown fails; a failed tick is logged and the next one tries again.
 */
export const runWorker = <R>(
  config: Partial<WorkerConfig>,
  handlers: ReadonlyArray<JobHandler<R>>,
  schedules: ReadonlyArray<RecurringJob> = []
): Effect.Effect<void, DatabaseError, RepositoryAccess | R> =>
  Effect.gen(function* () {
    const cfg: WorkerConfig = { ...defaultWorkerConfig, ...config }
    const byQueue = new Map<string, JobHandler<R>>()
    for (const handler of handlers) {
      if (byQueue.has(handler.queue)) return yield* Effect.dieMessage(`two handlers for queue ${handler.queue}`)
      byQueue.set(handler.queue, handler)
    }
    const access = yield* RepositoryAccess
    yield* access.transaction(access.queueSchedules.setup(schedules.map((s) => s.scheduleName)))

    const stop = yield* Deferred.make<void>()
    // One wake-up token is enough: a tick looks at everything anyway.
    const wake = yield* Queue.sliding<void>(1)
    const runtime: Runtime<R> = { cfg, access, byQueue, schedules, stop, wake }

    const body = Effect.gen(function* () {
      if (Option.isSome(cfg.wakeups)) {
        yield* Effect.forkScoped(
          Stream.runForEach(cfg.wakeups.value, () => Queue.offer(wake, undefined)).pipe(
            Effect.catchAllCause((cause) =>
              Effect.logWarning("wake-up stream ended; polling only", Cause.pretty(cause))
            )
          )
        )
      }
      for (;;) {
        const outcome = yield* Effect.scoped(incarnation(runtime))
        if (outcome === "stopped") return
      }
    }).pipe(Effect.scoped)

    // The loop runs in its own fiber so that an interruption only asks it to stop: the graceful stop then runs
    // interruptibly (its grace-period timeout works) while the interrupted caller waits for it.
    const fiber = yield* Effect.forkDaemon(body)
    yield* Fiber.join(fiber).pipe(
      Effect.onInterrupt(() =>
        Deferred.succeed(stop, undefined).pipe(
          Effect.zipRight(Queue.offer(wake, undefined)),
          Effect.zipRight(Fiber.await(fiber))
        )
      )
    )
  })

interface Runtime<R> {
  readonly cfg: WorkerConfig
  readonly access: RepositoryAccessShape
  readonly byQueue: ReadonlyMap<string, JobHandler<R>>
  readonly schedules: ReadonlyArray<RecurringJob>
  readonly stop: Deferred.Deferred<void>
  readonly wake: Queue.Queue<void>
}

/** One registration of the worker, until it is stopped or learns it was declared dead. */
const incarnation = <R>(rt: Runtime<R>): Effect.Effect<Incarnation, DatabaseError, R | Scope.Scope> =>
  Effect.gen(function* () {
    const { access, cfg } = rt
    const worker = yield* access.transaction(access.queueWorkers.register())
    const dead = yield* Deferred.make<void>()
    const jobs = yield* FiberSet.make<void>()
    const declaredDead = Deferred.succeed(dead, undefined).pipe(Effect.zipRight(Queue.offer(rt.wake, undefined)))
    const queues = [...rt.byQueue.keys()]

    return yield* Effect.gen(function* () {
      yield* Effect.logInfo("worker registered").pipe(Effect.annotateLogs({ queues: queues.join(",") }))
      yield* Effect.forkScoped(heartbeats(rt, worker, declaredDead))

      const stopGracefully = Effect.gen(function* () {
        const running = yield* FiberSet.size(jobs)
        if (running > 0) {
          yield* Effect.logInfo(`stopping: waiting up to ${Duration.format(cfg.gracePeriod)} for ${running} job(s)`)
          const finished = yield* FiberSet.awaitEmpty(jobs).pipe(Effect.timeout(cfg.gracePeriod), Effect.option)
          if (Option.isNone(finished)) {
            const left = yield* FiberSet.size(jobs)
            yield* Effect.logWarning(`grace period over: interrupting ${left} job(s); they will be retried`)
            yield* FiberSet.clear(jobs)
          }
        }
        const lost = yield* access.transaction(access.queueWorkers.shutdown(worker))
        yield* Effect.logInfo("worker shut down").pipe(
          Effect.annotateLogs({ lostJobs: lost.length === 0 ? "none" : lost.join(",") })
        )
        return "stopped" as const
      })

      let leader = false
      for (;;) {
        if (yield* Deferred.isDone(dead)) {
          const running = yield* FiberSet.size(jobs)
          yield* Effect.logError(
            `this worker was declared dead: interrupting its ${running} running job(s) and registering again`
          )
          yield* FiberSet.clear(jobs)
          return "dead" as const
        }
        if (yield* Deferred.isDone(rt.stop)) return yield* stopGracefully

        const outcome: Option.Option<TickOutcome> = yield* tick(rt, worker, jobs, leader).pipe(
          Effect.catchTag("DeclaredDead", () => Effect.as(declaredDead, Option.none<TickOutcome>())),
          Effect.catchAll((error) =>
            Effect.as(Effect.logError("tick failed; trying again next tick", error), Option.none<TickOutcome>())
          )
        )
        if (Option.isSome(outcome)) {
          if (outcome.value.leader !== leader) {
            leader = outcome.value.leader
            yield* leader ? Effect.logInfo("this worker is now the leader") : Effect.logWarning("no longer the leader")
          }
          if (cfg.exitWhenIdle && outcome.value.reserved === 0 && (yield* FiberSet.size(jobs)) === 0) {
            yield* Effect.logInfo("idle: stopping")
            return yield* stopGracefully
          }
        }

        const factor = yield* Random.nextRange(1 - cfg.pollJitter, 1 + cfg.pollJitter)
        yield* Effect.raceFirst(Effect.sleep(Duration.times(cfg.pollInterval, factor)), Queue.take(rt.wake))
      }
    }).pipe(Effect.annotateLogs({ worker: worker.id }))
  })

const heartbeats = <R>(rt: Runtime<R>, worker: Worker, declaredDead: Effect.Effect<unknown>) =>
  Effect.gen(function* () {
    for (;;) {
      yield* Effect.sleep(rt.cfg.heartbeatInterval)
      const sent = yield* Effect.either(rt.access.transaction(rt.access.queueWorkers.heartbeat(worker)))
      if (sent._tag === "Left") {
        if (sent.left._tag === "RowsAffectedError") return yield* declaredDead
        yield* Effect.logWarning("heartbeat failed; trying again next interval", sent.left)
      } else {
        yield* Effect.logDebug("heartbeat")
      }
    }
  })

interface TickOutcome {
  readonly leader: boolean
  readonly reserved: number
}

/** The lease and, for the leader, its duties in one unit of work; then reserving and forking jobs. */
const tick = <R>(rt: Runtime<R>, worker: Worker, jobs: FiberSet.FiberSet<void>, wasLeader: boolean) =>
  Effect.gen(function* () {
    const { access, cfg } = rt
    const leader = yield* access
      .transaction(
        Effect.gen(function* () {
          yield* access.queueWorkers.removeLeaderLeaseIfExpired()
          const leader = yield* access.queueWorkers.tryGetLeaderLease(worker)
          // On PostgreSQL the lease row stays locked until this unit of work ends: one leader at a time does these.
          if (leader) yield* leaderDuties(rt)
          return leader
        })
      )
      .pipe(Effect.catchAll((error) => Effect.as(Effect.logError("leader lease or duties failed", error), wasLeader)))

    const free = cfg.maxConcurrentJobs - (yield* FiberSet.size(jobs))
    const count = Math.min(free, cfg.reserveBatch)
    if (count <= 0 || rt.byQueue.size === 0) return Option.some({ leader, reserved: 0 })
    // The heartbeat in the reserving unit of work: a worker declared dead cannot take jobs nobody would then
    // recover (the leader only recovers the jobs of live workers it declares dead).
    const reserved = yield* access.transaction(
      Effect.zipRight(
        access.queueWorkers
          .heartbeat(worker)
          .pipe(Effect.catchTag("RowsAffectedError", () => Effect.fail(new DeclaredDead({ worker })))),
        access.queueJobs.reserve(worker, [...rt.byQueue.keys()], count)
      )
    )
    for (const job of reserved) {
      yield* FiberSet.run(jobs, runJob(rt, job).pipe(Effect.ensuring(Queue.offer(rt.wake, undefined))))
    }
    return Option.some({ leader, reserved: reserved.length })
  })

const leaderDuties = <R>(rt: Runtime<R>) =>
  Effect.gen(function* () {
    const { access, cfg } = rt
    const statuses = yield* access.queueSchedules.list()
    const now = new Date(yield* Clock.currentTimeMillis)
    for (const schedule of rt.schedules) {
      const status = statuses.find((s) => s.scheduleName === schedule.scheduleName)
      if (status === undefined) {
        yield* Effect.logError(`schedule ${schedule.scheduleName} is not in the database`)
        continue
      }
      if (Option.isSome(status.lastScheduledAt)) {
        if (status.lastScheduledAt.value.getTime() > now.getTime()) continue
        if (Option.contains(status.lastScheduledJobCompleted, false)) continue
      }
      const next = Cron.next(schedule.cron, now)
      yield* access.queueJobs.scheduleLater(
        schedule.queue,
        schedule.payload,
        {},
        next,
        Option.some(schedule.scheduleName)
      )
      yield* Effect.logInfo(`scheduled the next run of ${schedule.scheduleName} at ${next.toISOString()}`).pipe(
        Effect.annotateLogs({ queue: schedule.queue })
      )
    }
    const dead = yield* access.queueWorkers.shutdownDeadWorkers(cfg.deadThreshold)
    if (dead.workers.length > 0) {
      yield* Effect.logWarning(`shut down ${dead.workers.length} dead worker(s); their running jobs are retried`).pipe(
        Effect.annotateLogs({
          deadWorkers: dead.workers.map((w) => w.id).join(","),
          lostJobs: dead.lostJobs.length === 0 ? "none" : dead.lostJobs.join(",")
        })
      )
    }
    const available = yield* access.queueJobs.scheduleAvailableJobs()
    if (available > 0) yield* Effect.logInfo(`${available} scheduled job(s) made available`)
  })

/** The handler under its timeout, a defect being a retryable failure. */
const guarded = <R>(handler: JobHandler<R>, job: Job): Effect.Effect<void, JobFailure, R> =>
  handler.run(job).pipe(
    Effect.catchAllDefect((defect) => Effect.fail(JobFailure.retry(`defect: ${Cause.pretty(Cause.die(defect))}`))),
    Effect.timeoutFail({
      duration: handler.timeout,
      onTimeout: () => JobFailure.retry(`timed out after ${Duration.format(handler.timeout)}`)
    })
  )

/** Runs one reserved job and records its outcome. Interrupted, it records nothing: the job stays running until the
 * worker's shutdown (or the leader, if the worker died) turns it into a lost job retried at once. */
const runJob = <R>(rt: Runtime<R>, job: Job): Effect.Effect<void, never, R> => {
  const { access, cfg } = rt
  const handler = rt.byQueue.get(job.queueName)
  const markCompleted = access.queueJobs
    .markAsCompleted(job.id)
    .pipe(Effect.catchTag("RowsAffectedError", () => Effect.fail(new CompletionRefused())))

  const attemptJob: Effect.Effect<void, JobFailure | CompletionRefused | DatabaseError, R> =
    handler === undefined
      ? Effect.fail(JobFailure.fail(`no handler for queue ${job.queueName}`))
      : handler.transactional
        ? access.transaction(Effect.zipRight(guarded(handler, job), markCompleted))
        : Effect.zipRight(guarded(handler, job), access.transaction(markCompleted))

  const recordFailure = (failure: JobFailure) =>
    Effect.gen(function* () {
      const retry = failure.retryable && job.attempt < cfg.maxAttempts
      const delay = cfg.backoff(job.attempt)
      yield* access
        .transaction(
          Effect.zipRight(
            access.queueJobs.markAsFailed(job.id, failure.reason),
            retry ? access.queueJobs.retry(job.id, delay) : Effect.void
          )
        )
        .pipe(
          Effect.zipRight(
            retry
              ? Effect.logWarning(`job failed, retrying in ${Duration.format(delay)}: ${failure.reason}`)
              : failure.retryable
                ? Effect.logError(`job failed ${job.attempt} time(s), giving up: ${failure.reason}`)
                : Effect.logError(`job failed, not retrying: ${failure.reason}`)
          ),
          Effect.catchAll((error) =>
            error._tag === "RowsAffectedError"
              ? Effect.logWarning(`job failed (${failure.reason}) but is no longer this worker's: not recorded`)
              : Effect.logError(
                  `job failed (${failure.reason}) and recording it failed; it is retried when this worker shuts down`,
                  error
                )
          )
        )
    })

  const links: ReadonlyArray<Tracer.SpanLink> =
    job.metadata.traceId !== "" && job.metadata.spanId !== ""
      ? [
          {
            _tag: "SpanLink",
            span: Tracer.externalSpan({
              traceId: job.metadata.traceId,
              spanId: job.metadata.spanId,
              sampled: (job.metadata.traceFlags & 1) === 1
            }),
            attributes: {}
          }
        ]
      : []

  return Effect.gen(function* () {
    yield* Effect.logInfo("running job")
    const outcome = yield* Effect.either(attemptJob)
    if (outcome._tag === "Right") return yield* Effect.logInfo("job completed")
    const error = outcome.left
    switch (error._tag) {
      case "JobFailure":
        return yield* recordFailure(error)
      case "CompletionRefused":
        return yield* Effect.logError(
          handler?.transactional === true
            ? "job is no longer this worker's (declared dead?): its completion and its writes were rolled back"
            : "job is no longer this worker's (declared dead?): its completion was refused"
        )
      default:
        // the unit of work itself failed (a doomed transaction, a lost connection): nothing of the handler stuck
        return yield* recordFailure(JobFailure.fromDatabaseError(error))
    }
  }).pipe(
    Effect.annotateLogs({ job: job.id, queue: job.queueName, attempt: job.attempt }),
    Effect.withSpan(`job.${job.queueName}`, {
      root: true,
      links,
      attributes: { "job.id": job.id, "job.queue.name": job.queueName, "job.attempt": job.attempt }
    })
  )
}
