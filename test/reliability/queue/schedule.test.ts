// A per-second recurring schedule with four worker processes: one job per period, whichever worker leads, and none
// scheduled or run twice.
import { expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { adminClient } from "../../support/database.js"
import { queueDatabase, startWorkers, stopWorker, waitUntil } from "./support.js"

const WORKERS = 4
const PERIODS = 6

layer(adminClient, { excludeTestServices: true })("queue: a recurring schedule across workers", (it) => {
  it.scoped(
    `a per-second cron with ${WORKERS} workers fires once per period`,
    () =>
      Effect.gen(function* () {
        const { sql, url } = yield* queueDatabase("rel_queue_cron")
        // every worker sets the schedule up and competes for the lease on each tick
        const { workers } = yield* startWorkers(url, WORKERS, { CRON: "* * * * * *", DEAD_THRESHOLD_MS: "20000" })
        yield* waitUntil(
          `${PERIODS} runs of the schedule`,
          Effect.map(sql<{ n: number }>`SELECT count(*)::int AS n FROM job_runs`, ([row]) => row!.n >= PERIODS),
          Duration.seconds(120)
        )
        const codes = yield* Effect.forEach(workers, (w) => stopWorker(w))
        for (const [i, code] of codes.entries()) expect(code, workers[i]!.output()).toBe(0)

        // in queue_jobs: one first attempt per period, each on a whole second
        const jobs = yield* sql<{ at: string; n: number; whole: boolean }>`
          SELECT scheduled_at::text AS at, count(*)::int AS n, bool_and(date_trunc('second', scheduled_at) = scheduled_at)
                 AS whole
            FROM queue_jobs WHERE schedule_name = 'every-second' AND attempt = 0 GROUP BY 1 ORDER BY 1`
        expect(jobs.length).toBeGreaterThanOrEqual(PERIODS)
        for (const j of jobs) expect(j).toMatchObject({ n: 1, whole: true })
        const [others] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM queue_jobs WHERE schedule_name IS DISTINCT FROM 'every-second'`
        expect(others!.n).toBe(0)

        // in the handler's table: one run per period, never two
        const runs = yield* sql<{ at: string; n: number }>`
          SELECT scheduled_at::text AS at, count(*)::int AS n FROM job_runs GROUP BY 1 ORDER BY 1`
        expect(runs.length).toBeGreaterThanOrEqual(PERIODS)
        for (const r of runs) expect(r.n).toBe(1)
        expect(runs.every((r) => jobs.some((j) => j.at === r.at))).toBe(true)

        // the schedule points at the newest job
        const [schedule] = yield* sql<{ last: string }>`
          SELECT last_scheduled_at::text AS last FROM queue_schedules WHERE schedule_name = 'every-second'`
        expect(schedule!.last).toBe(jobs[jobs.length - 1]!.at)
        const leaders = yield* sql<{ label: string; n: number }>`
          SELECT label, count(*)::int AS n FROM job_runs GROUP BY 1 ORDER BY 1`
        console.log(
          `[reliability] per-second schedule with ${WORKERS} workers: ${jobs.length} periods scheduled, ` +
            `${runs.length} run once each (runs by ${leaders.map((l) => `${l.label} ${l.n}`).join(", ")})`
        )
      }),
    180_000
  )
})
