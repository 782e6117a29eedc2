// Shared fixtures of the queue reliability tests: a migrated database with the handler's table, worker processes,
// bulk jobs, and waiting on the database.
import type { SqlClient } from "@effect/sql"
import { Deferred, Duration, Effect, Schedule } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { childEnv, clientFor, repoRoot } from "../../cli/helpers.js"
import { migratedTemplate, scopedDatabase } from "../../support/database.js"

/** A fresh migrated database with `job_runs` (no unique constraint: a second run of a job is a second row). */
export const queueDatabase = (prefix: string) =>
  Effect.gen(function* () {
    const db = yield* scopedDatabase({ template: migratedTemplate(), prefix })
    const { sql } = yield* clientFor(db.url)
    yield* sql`CREATE TABLE job_runs (job_id uuid NOT NULL, n int, worker uuid, label text, scheduled_at timestamptz,
      ran_at timestamptz NOT NULL DEFAULT clock_timestamp())`
    return { url: db.url, sql }
  })

/**
 * `count` jobs on the `count` queue with payloads `{"n": 1..count}`, in one statement. Their ids are ULID-shaped
 * (a 48-bit time prefix, then the sequence), so reserving takes them in `n` order.
 */
export const scheduleCountJobs = (sql: SqlClient.SqlClient, count: number) =>
  sql`INSERT INTO queue_jobs (queue_job_id, queue_name, payload, metadata, created_at)
      SELECT format('01900000-0000-7000-8000-%s', lpad(to_hex(g), 12, '0'))::uuid, 'count',
             jsonb_build_object('n', g), '{}', now()
        FROM generate_series(1, ${count}) AS g`

export interface WorkerProcess {
  readonly label: string
  readonly child: ChildProcess
  /** The id the process registered under, from its first `registered` line. */
  readonly registered: Deferred.Deferred<string>
  readonly exited: Deferred.Deferred<number | null>
  readonly output: () => string
}

/** Starts a worker process (see workerProcess.ts); killed with SIGKILL at scope end if still running. */
export const startWorker = (url: string, label: string, extra: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const registered = yield* Deferred.make<string>()
      const exited = yield* Deferred.make<number | null>()
      const child = spawn(process.execPath, ["--import", "tsx", "test/reliability/queue/workerProcess.ts"], {
        cwd: repoRoot,
        env: childEnv({ DATABASE_URL: url, WORKER_LABEL: label, ...extra }),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk
        const match = /registered (\S+)/.exec(output)
        if (match) Deferred.unsafeDone(registered, Effect.succeed(match[1]!))
      })
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
      child.on("close", (code) => Deferred.unsafeDone(exited, Effect.succeed(code)))
      return { label, child, registered, exited, output: () => output } satisfies WorkerProcess
    }),
    (w) =>
      Effect.sync(() => {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL")
      })
  )

/** Waits for a registration, failing with the process's output if it does not come. */
export const awaitRegistered = (w: WorkerProcess, timeout = Duration.seconds(60)) =>
  Deferred.await(w.registered).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`${w.label} did not register:\n${w.output()}`) })
  )

/** `count` workers labelled w0, w1, … with the same settings, once each has registered; their ids in the same order. */
export const startWorkers = (url: string, count: number, extra: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const workers: Array<WorkerProcess> = []
    for (let i = 0; i < count; i++) workers.push(yield* startWorker(url, `w${i}`, extra))
    const ids = yield* Effect.forEach(workers, (w) => awaitRegistered(w))
    return { workers, ids }
  })

/** SIGTERM, then the exit code (the graceful stop ends with 0). */
export const stopWorker = (w: WorkerProcess, timeout = Duration.seconds(60)) =>
  Effect.gen(function* () {
    w.child.kill("SIGTERM")
    return yield* Deferred.await(w.exited).pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`${w.label} did not stop:\n${w.output()}`) })
    )
  })

/** Polls `check` every 100 ms until it gives true, failing with `what` after `timeout`. */
export const waitUntil = <E, R>(
  what: string,
  check: Effect.Effect<boolean, E, R>,
  timeout = Duration.seconds(90)
): Effect.Effect<void, E | Error, R> =>
  check.pipe(
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(100)), until: (done) => done }),
    Effect.asVoid,
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`timed out waiting for ${what}`) })
  )
