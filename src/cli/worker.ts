// The `worker` command's program: optional demonstration jobs, then the worker with the cleanup jobs until stopped.
import { Console, Duration, Effect, Option, type Stream } from "effect"
import { RepositoryAccess } from "../storage/RepositoryAccess.js"
import { cleanupHandlers, cleanupSchedules } from "../worker/cleanupJobs.js"
import { jobHandler } from "../worker/JobHandler.js"
import { runWorker } from "../worker/Worker.js"

/** The demonstration queue: its jobs print their payload. */
export const DEMO_QUEUE = "demo"

export const demoHandler = jobHandler({
  queue: DEMO_QUEUE,
  timeout: Duration.seconds(30),
  run: (job) =>
    Console.log(`demo job ${job.id} (attempt ${job.attempt}): ${JSON.stringify(job.payload)}`).pipe(
      Effect.zipRight(Effect.logInfo("demo job done"))
    )
})

export interface WorkerCommandOptions {
  readonly enqueue: number
  readonly exitWhenIdle: boolean
  readonly runFor: Option.Option<Duration.Duration>
  readonly maxConcurrentJobs: number
}

/** Schedules the demo jobs asked for, then runs the worker until Ctrl-C (or idle, or the time given). */
export const workerProgram = (options: WorkerCommandOptions, wakeups: Option.Option<Stream.Stream<unknown, unknown>>) =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    if (options.enqueue > 0) {
      yield* access.transaction(
        Effect.forEach(
          Array.from({ length: options.enqueue }, (_, i) => i + 1),
          (n) => access.queueJobs.schedule(DEMO_QUEUE, { n }, {}),
          { discard: true }
        )
      )
      yield* Console.log(`enqueued ${options.enqueue} demo job(s)`)
    }
    const worker = runWorker(
      { exitWhenIdle: options.exitWhenIdle, wakeups, maxConcurrentJobs: options.maxConcurrentJobs },
      [demoHandler, ...cleanupHandlers],
      cleanupSchedules
    )
    // when the time is up the worker is interrupted, which stops it gracefully (and waits for that)
    yield* Option.match(options.runFor, {
      onNone: () => worker,
      onSome: (duration) => Effect.raceFirst(worker, Effect.sleep(duration))
    })
    yield* Console.log("worker stopped")
  })
