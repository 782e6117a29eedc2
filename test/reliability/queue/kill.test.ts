// A worker process killed with SIGKILL while it holds jobs: the leader declares it dead, its jobs are lost and
// retried as new attempts that the other workers complete, and no job runs twice.
import { expect, layer } from "@effect/vitest"
import { Deferred, Duration, Effect } from "effect"
import { type Ulid, ulidToUuid } from "../../../src/model/Ulid.js"
import { adminClient } from "../../support/database.js"
import { queueDatabase, scheduleCountJobs, startWorkers, stopWorker, waitUntil } from "./support.js"

const WORKERS = 4
const JOBS = 1_000

layer(adminClient, { excludeTestServices: true })("queue: a worker killed mid-batch", (it) => {
  it.scoped(
    "kill -9 of a worker holding jobs: they are lost, retried once each, completed by the others, none run twice",
    () =>
      Effect.gen(function* () {
        const { sql, url } = yield* queueDatabase("rel_queue_kill")
        yield* scheduleCountJobs(sql, JOBS)

        // each run holds its unit of work open for 100 ms, so a worker always has a batch in flight
        const settings = { JOB_DELAY_MS: "100", MAX_CONCURRENT_JOBS: "6", DEAD_THRESHOLD_MS: "1500" }
        const { ids, workers } = yield* startWorkers(url, WORKERS, settings)
        const victim = workers[0]!
        const victimId = ulidToUuid(ids[0] as Ulid)

        // the victim has done some work and holds several jobs right now
        yield* waitUntil(
          "the victim to hold jobs",
          Effect.map(
            sql<{ running: number; done: number }>`
              SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
                     count(*) FILTER (WHERE status = 'completed')::int AS done
                FROM queue_jobs WHERE started_by = ${victimId}`,
            ([row]) => row!.running >= 3 && row!.done >= 10
          )
        )
        victim.child.kill("SIGKILL")
        expect(yield* Deferred.await(victim.exited)).toBe(null)
        // the server ends the dead client's sessions, rolling back the units of work in flight; give it a moment
        // so that what the victim holds is settled before it is read
        yield* waitUntil(
          "the victim's sessions to end",
          Effect.map(
            sql<{
              n: number
            }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'queue-worker-w0'`,
            ([row]) => row!.n === 0
          )
        )
        // what it held when it died: still running, or already lost when the leader was quicker than this read
        // (on a loaded machine the wait above can outlast the 1.5 s dead threshold)
        const held = yield* sql<{ id: string; n: number }>`
          SELECT queue_job_id::text AS id, (payload->>'n')::int AS n FROM queue_jobs
           WHERE started_by = ${victimId} AND status IN ('running', 'lost') ORDER BY 1`
        expect(held.length).toBeGreaterThan(0)

        yield* waitUntil(
          "every job completed",
          Effect.map(
            sql<{ open: number }>`
              SELECT count(*)::int AS open FROM queue_jobs WHERE status NOT IN ('completed', 'lost')`,
            ([row]) => row!.open === 0
          ),
          Duration.seconds(120)
        )
        const codes = yield* Effect.forEach(workers.slice(1), (w) => stopWorker(w))
        for (const [i, code] of codes.entries()) expect(code, workers[i + 1]!.output()).toBe(0)

        // the victim was declared dead, and each job it held is lost with exactly one new attempt, completed
        const [victimRow] = yield* sql<{ shut: boolean }>`
          SELECT shutdown_at IS NOT NULL AS shut FROM queue_workers WHERE queue_worker_id = ${victimId}`
        expect(victimRow!.shut).toBe(true)
        const heldIds = held.map((h) => h.id)
        const retried = yield* sql<{
          id: string
          status: string
          next_status: string
          next_attempt: number
          next_worker: string
        }>`
          SELECT j.queue_job_id::text AS id, j.status, n.status AS next_status, n.attempt AS next_attempt,
                 n.started_by::text AS next_worker
            FROM queue_jobs j JOIN queue_jobs n ON n.queue_job_id = j.next_attempt_id
           WHERE j.queue_job_id::text IN ${sql.in(heldIds)} ORDER BY 1`
        expect(retried.map((r) => r.id)).toEqual(heldIds)
        for (const r of retried) {
          expect(r).toMatchObject({ status: "lost", next_status: "completed", next_attempt: 1 })
          expect(r.next_worker).not.toBe(victimId)
        }

        // every n ran exactly once (the victim's rolled-back runs left nothing) and has exactly one completed job
        const [runs] = yield* sql<{ rows: number; distinct_n: number; by_victim_of_held: number }>`
          SELECT count(*)::int AS rows, count(DISTINCT n)::int AS distinct_n,
                 count(*) FILTER (WHERE worker = ${victimId} AND n IN ${sql.in(held.map((h) => h.n))})::int
                   AS by_victim_of_held
            FROM job_runs`
        expect(runs).toEqual({ rows: JOBS, distinct_n: JOBS, by_victim_of_held: 0 })
        const [jobs] = yield* sql<{ completed_n: number; completed: number; lost: number; other: number }>`
          SELECT count(DISTINCT payload->>'n') FILTER (WHERE status = 'completed')::int AS completed_n,
                 count(*) FILTER (WHERE status = 'completed')::int AS completed,
                 count(*) FILTER (WHERE status = 'lost')::int AS lost,
                 count(*) FILTER (WHERE status NOT IN ('completed', 'lost'))::int AS other
            FROM queue_jobs`
        expect(jobs!.completed_n).toBe(JOBS)
        expect(jobs!.completed).toBe(JOBS)
        expect(jobs!.other).toBe(0)
        // lost jobs beyond the victim's would be live workers declared dead under load: tolerated (they are
        // retried like the victim's, and the runs above show none ran twice), but reported
        console.log(
          `[reliability] killed w0 holding ${held.length} job(s); ${jobs!.lost} lost in all; ` +
            `every one of ${JOBS} jobs ran once`
        )
        expect(jobs!.lost).toBeGreaterThanOrEqual(held.length)
      }),
    180_000
  )
})
