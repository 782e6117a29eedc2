// (f) the job queue's hot path: jobs per second through reserve + markAsCompleted, 4 repository workers against raw pg.
import { Effect } from "effect"
import pg from "pg"
import type { Worker } from "../src/model/queue.js"
import { ulidToUuid } from "../src/model/Ulid.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { ignoreClosingConnection, pgRuntime, runEffects, staticText } from "./repository.js"
import { interleaveAll, median, pairOf, ratioRow, roundTrips, timed, type Row } from "./harness.js"

export interface QueueOptions {
  readonly rounds: number
  /** Jobs drained per measured run. */
  readonly jobs: number
}

const WORKERS = 4
/** Jobs reserved per unit of work, as a worker with free slots does. */
const BATCH = 8
const QUEUE = "bench"

/** `n` available jobs of QUEUE, on an emptied table (so every run starts from the same heap and index). */
const refill = (pool: pg.Pool, n: number) =>
  pool.query(
    `TRUNCATE queue_jobs CASCADE;
     INSERT INTO queue_jobs (queue_job_id, queue_name, payload, metadata, created_at)
     SELECT format('01900000-0000-7000-8000-%s', lpad(to_hex(g), 12, '0'))::uuid, '${QUEUE}',
            jsonb_build_object('n', g), '{}', now()
       FROM generate_series(1, ${n}) AS g;
     ANALYZE queue_jobs`
  )

/**
 * (f): `WORKERS` loops each reserve a batch in one unit of work, then complete each job in its own unit of work (what
 * the runtime does around a handler), until the queue is empty. The repository side runs them as Effect fibers on
 * the program's pool; raw pg sends the same statements (BEGIN, the repository's texts, COMMIT) from one loop and from
 * `WORKERS` loops on a pg pool.
 */
export const benchQueue = async (url: string, options: QueueOptions): Promise<ReadonlyArray<Row>> => {
  const runtime = pgRuntime(url)
  const pool = new pg.Pool({ connectionString: url, max: 16 })
  pool.on("error", ignoreClosingConnection)
  try {
    const workers: ReadonlyArray<Worker> = await runtime.runPromise(
      Effect.flatMap(RepositoryAccess, (r) =>
        Effect.forEach(Array.from({ length: WORKERS }), () => r.transaction(r.queueWorkers.register()))
      )
    )
    const reserveText = staticText("queueJob.reserve")
    const completeText = staticText("queueJob.markAsCompleted")

    const repoDrain = (w: number) =>
      Effect.gen(function* () {
        const r = yield* RepositoryAccess
        for (;;) {
          const jobs = yield* r.transaction(r.queueJobs.reserve(workers[w]!, [QUEUE], BATCH))
          if (jobs.length === 0) return
          for (const job of jobs) yield* r.transaction(r.queueJobs.markAsCompleted(job.id))
        }
      })
    // a connection from the pool per unit of work, as the repository's transactions take one
    const unit = async <A>(f: (client: pg.PoolClient) => Promise<A>): Promise<A> => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        const value = await f(client)
        await client.query("COMMIT")
        return value
      } finally {
        client.release()
      }
    }
    const rawDrain = async (w: number) => {
      const worker = ulidToUuid(workers[w]!.id)
      for (;;) {
        const { rows } = await unit((c) =>
          c.query<{ queue_job_id: string }>(reserveText, [[QUEUE], BATCH, new Date(), worker])
        )
        if (rows.length === 0) return
        for (const row of rows) {
          await unit(async (c) => {
            const done = await c.query(completeText, [row.queue_job_id, new Date()])
            if (done.rowCount !== 1) throw new Error(`job ${row.queue_job_id} was not completed`)
          })
        }
      }
    }
    const drained = async () => {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM queue_jobs WHERE status <> 'completed'`
      )
      if (rows[0]!.n !== 0) throw new Error(`${rows[0]!.n} jobs left undrained`)
    }
    const run = (drain: () => Promise<unknown>) => async () => {
      await refill(pool, options.jobs)
      const ms = await timed(drain)
      await drained()
      return ms
    }

    // Both sides must send the same statements for one job: BEGIN, reserve, COMMIT, BEGIN, complete, COMMIT.
    const texts = async (drain: () => Promise<unknown>) => {
      await refill(pool, 1)
      return (await roundTrips.during(drain)).texts.filter((t) => !t.startsWith("SELECT count"))
    }
    const repoTexts = await texts(() => runtime.runPromise(repoDrain(0)))
    const rawTexts = await texts(() => rawDrain(0))
    if (JSON.stringify(repoTexts) !== JSON.stringify(rawTexts)) {
      throw new Error(
        `(f): the two sides send different SQL: ${JSON.stringify(repoTexts)} vs ${JSON.stringify(rawTexts)}`
      )
    }

    const result = await interleaveAll(options.rounds, {
      repo: run(runEffects(runtime, WORKERS, WORKERS, (w) => repoDrain(w))),
      raw: run(() => Promise.all(Array.from({ length: WORKERS }, (_, w) => rawDrain(w)))),
      rawOne: run(() => rawDrain(0))
    })
    const rate = (runs: ReadonlyArray<number>) => `${Math.round((options.jobs * 1000) / median(runs))} jobs/s`
    return [
      // the goal for the repositories under concurrency: within 1.25× of raw pg at the same concurrency
      ratioRow(
        {
          section: "f",
          name: `queue reserve (batches of ${BATCH}) + markAsCompleted, ${WORKERS} workers, time for ${options.jobs} jobs`,
          a: `repository ${rate(result.repo)}`,
          b: `raw pg, ${WORKERS} loops, ${rate(result.raw)}`,
          target: "≤ 1.25×"
        },
        pairOf(result, "repo", "raw"),
        1.25
      ),
      // how far four workers get past one loop on this machine: bounded by the cores and the row locks, not a goal
      ratioRow(
        {
          section: "f",
          name: `queue: ${WORKERS} repository workers against a single raw pg loop, time for ${options.jobs} jobs`,
          a: `repository, ${WORKERS} workers, ${rate(result.repo)}`,
          b: `raw pg, 1 loop, ${rate(result.rawOne)}`,
          target: "(informational)"
        },
        pairOf(result, "repo", "rawOne"),
        undefined
      )
    ]
  } finally {
    await pool.end()
    await runtime.dispose()
  }
}
