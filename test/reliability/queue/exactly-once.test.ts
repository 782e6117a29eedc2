// Four worker processes on one PostgreSQL queue of 10,000 jobs: every job runs and completes exactly once, and the
// work is spread over the four.
import { expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { type Ulid, ulidToUuid } from "../../../src/model/Ulid.js"
import { adminClient } from "../../support/database.js"
import { queueDatabase, scheduleCountJobs, startWorkers, stopWorker, waitUntil } from "./support.js"

const WORKERS = 4
const JOBS = 10_000

layer(adminClient, { excludeTestServices: true })("queue: workers in separate processes", (it) => {
  it.scoped(
    `${WORKERS} worker processes complete ${JOBS} jobs exactly once`,
    () =>
      Effect.gen(function* () {
        const { sql, url } = yield* queueDatabase("rel_queue_once")
        yield* scheduleCountJobs(sql, JOBS)

        const started = Date.now()
        // a dead threshold well above any pause a loaded machine causes: no worker is declared dead here
        const { ids, workers } = yield* startWorkers(url, WORKERS, {
          DEAD_THRESHOLD_MS: "20000",
          MAX_CONCURRENT_JOBS: "6"
        })
        yield* waitUntil(
          "every job completed",
          Effect.map(
            sql<{ n: number }>`SELECT count(*)::int AS n FROM queue_jobs WHERE status <> 'completed'`,
            ([row]) => row!.n === 0
          ),
          Duration.seconds(150)
        )
        const elapsed = Date.now() - started
        const codes = yield* Effect.forEach(workers, (w) => stopWorker(w))
        for (const [i, code] of codes.entries()) expect(code, workers[i]!.output()).toBe(0)

        // one run per job, by the worker that completed it
        const [runs] = yield* sql<{ rows: number; distinct_n: number; doubled: number; min_n: number; max_n: number }>`
          SELECT count(*)::int AS rows, count(DISTINCT n)::int AS distinct_n, min(n) AS min_n, max(n) AS max_n,
                 (SELECT count(*)::int FROM (SELECT n FROM job_runs GROUP BY n HAVING count(*) > 1) d) AS doubled
            FROM job_runs`
        expect(runs).toEqual({ rows: JOBS, distinct_n: JOBS, doubled: 0, min_n: 1, max_n: JOBS })
        const [jobs] = yield* sql<{ total: number; completed: number; first_attempts: number; mismatched: number }>`
          SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'completed')::int AS completed,
                 count(*) FILTER (WHERE attempt = 0)::int AS first_attempts,
                 (SELECT count(*)::int FROM queue_jobs j JOIN job_runs r ON r.job_id = j.queue_job_id
                   WHERE r.worker IS DISTINCT FROM j.started_by) AS mismatched
            FROM queue_jobs`
        expect(jobs).toEqual({ total: JOBS, completed: JOBS, first_attempts: JOBS, mismatched: 0 })

        const perWorker = yield* sql<{ worker: string; label: string; n: number }>`
          SELECT worker::text AS worker, label, count(*)::int AS n FROM job_runs GROUP BY 1, 2 ORDER BY 2`
        console.log(
          `[reliability] ${JOBS} jobs through ${WORKERS} worker processes in ${elapsed} ms ` +
            `(${Math.round((JOBS * 1000) / elapsed)} jobs/s incl. start-up); per worker: ` +
            perWorker.map((w) => `${w.label} ${w.n}`).join(", ")
        )
        // every process did work under the id it registered with (none re-registered as declared dead)
        expect(perWorker).toHaveLength(WORKERS)
        expect(new Set(perWorker.map((w) => w.worker))).toEqual(new Set(ids.map((id) => ulidToUuid(id as Ulid))))
        for (const w of perWorker) expect(w.n).toBeGreaterThan(0)
        // all four shut down in the database, and nothing was left running or lost
        const [left] = yield* sql<{ live: number }>`
          SELECT count(*)::int AS live FROM queue_workers WHERE shutdown_at IS NULL`
        expect(left!.live).toBe(0)
      }),
    180_000
  )
})
