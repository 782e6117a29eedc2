// A worker process for the queue reliability tests: the runtime on PostgreSQL with short intervals and a counting
// handler whose one row per run commits together with the job's completion; SIGTERM stops it gracefully.
//
// Run with `node --import tsx test/reliability/queue/workerProcess.ts`. Settings come from the environment:
// DATABASE_URL; WORKER_LABEL (written with each run); JOB_DELAY_MS (how long a run holds its unit of work open);
// DEAD_THRESHOLD_MS; MAX_CONCURRENT_JOBS; RESERVE_BATCH; CRON (a recurring `tick` job on that cron, if set).
// The test's database must hold `job_runs (job_id uuid, n int, worker uuid, label text, scheduled_at timestamptz)`.
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, HashMap, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { ulidToUuid } from "../../../src/model/Ulid.js"
import * as Client from "../../../src/pg/client.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { JobFailure, jobHandler } from "../../../src/worker/JobHandler.js"
import { recurringJob } from "../../../src/worker/RecurringJob.js"
import { runWorker } from "../../../src/worker/Worker.js"

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const int = (name: string, fallback: number): number => Number(env(name, String(fallback)))

const label = env("WORKER_LABEL", `pid-${process.pid}`)
const jobDelay = int("JOB_DELAY_MS", 0)
const maxConcurrentJobs = int("MAX_CONCURRENT_JOBS", 6)
const cron = process.env.CRON

// The worker's id is read from the job row (started_by), so the table names who ran each attempt.
const record = (job: { readonly id: string }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO job_runs (job_id, n, worker, label, scheduled_at)
      SELECT queue_job_id, (payload->>'n')::int, started_by, ${label}, scheduled_at
        FROM queue_jobs WHERE queue_job_id = ${ulidToUuid(job.id as never)}`
    if (jobDelay > 0) yield* Effect.sleep(Duration.millis(jobDelay))
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(JobFailure.retry(`job_runs: ${e.message}`))))

const handlers = [
  jobHandler({ queue: "count", run: record, timeout: "30 seconds" }),
  jobHandler({ queue: "tick", run: record, timeout: "30 seconds" })
]
const schedules = cron === undefined ? [] : [recurringJob("every-second", "tick", cron)]

// Only what the tests read: the registration (with the worker's id) on stdout, warnings and errors on stderr.
const logger = Logger.make(({ annotations, logLevel, message }) => {
  const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
  const worker = Option.getOrUndefined(HashMap.get(annotations, "worker"))
  if (text === "worker registered") process.stdout.write(`registered ${String(worker)}\n`)
  else if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning))
    process.stderr.write(`${logLevel.label} [${label} ${String(worker)}] ${text}\n`)
})

const main = runWorker(
  {
    heartbeatInterval: Duration.millis(200),
    deadThreshold: Duration.millis(int("DEAD_THRESHOLD_MS", 1_500)),
    pollInterval: Duration.millis(75),
    pollJitter: 0.3,
    maxConcurrentJobs,
    reserveBatch: int("RESERVE_BATCH", maxConcurrentJobs),
    gracePeriod: Duration.seconds(5),
    backoff: () => Duration.millis(100),
    wakeups: Option.none()
  },
  handlers,
  schedules
).pipe(
  Effect.provide(
    RepositoryAccessPg.layer.pipe(
      // provideMerge: the handler writes through the SqlClient, on its unit of work's connection
      Layer.provideMerge(
        Client.layer({
          url: Redacted.make(env("DATABASE_URL")),
          maxConnections: maxConcurrentJobs + 3,
          connectTimeout: Duration.seconds(20),
          applicationName: `queue-worker-${label}`
        })
      )
    )
  ),
  Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
  Logger.withMinimumLogLevel(LogLevel.Info)
)

NodeRuntime.runMain(main, { disableErrorReporting: false })
