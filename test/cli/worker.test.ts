// The `worker` command: demonstration jobs enqueued and completed, then a graceful stop, in memory and on PostgreSQL.
import { expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { cleanupJobs } from "../../src/worker/cleanupJobs.js"
import { adminClient, scopedDatabase } from "../support/database.js"
import { clientFor, outcome, runCli } from "./helpers.js"

const demoLines = (stdout: ReadonlyArray<string>) =>
  stdout
    .filter((l) => l.startsWith("demo job "))
    .map((l) => l.replace(/^demo job \S+ \(attempt 0\): /, ""))
    .sort()

it.live("worker --memory --enqueue 3 --exit-when-idle runs the three demo jobs and stops", () =>
  Effect.gen(function* () {
    const run = yield* runCli("worker", "--memory", "--enqueue", "3", "--exit-when-idle")
    expect(outcome(run)).toBe("success")
    expect(run.stdout[0]).toBe("enqueued 3 demo job(s)")
    expect(demoLines(run.stdout)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
    expect(run.stdout.at(-1)).toBe("worker stopped")
    expect(run.logs.filter((l) => l.message === "job completed")).toHaveLength(3)
    expect(run.logs.some((l) => l.message === "worker shut down")).toBe(true)
  })
)

it.live("worker --for stops by itself after the time given", () =>
  Effect.gen(function* () {
    const run = yield* runCli("worker", "--memory", "--for", "1 second")
    expect(outcome(run)).toBe("success")
    expect(run.stdout).toEqual(["worker stopped"])
    expect(run.logs.some((l) => l.message === "worker shut down")).toBe(true)
  })
)

it.live("worker --for refuses what is not a duration", () =>
  Effect.gen(function* () {
    const run = yield* runCli("worker", "--memory", "--for", "soon")
    expect(outcome(run)).toBe("ValidationError")
  })
)

layer(adminClient, { excludeTestServices: true })("on PostgreSQL", (it) => {
  it.scoped(
    "migrates a fresh database, completes the demo jobs and schedules every cleanup job",
    () =>
      Effect.gen(function* () {
        const db = yield* scopedDatabase({ prefix: "worker" })
        const run = yield* runCli("worker", "--database-url", db.url, "--enqueue", "3", "--exit-when-idle")
        expect(outcome(run)).toBe("success")
        expect(demoLines(run.stdout)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
        const { sql } = yield* clientFor(db.url)
        const rows = yield* sql<{ queue_name: string; status: string }>`
          SELECT queue_name, status FROM queue_jobs ORDER BY queue_name, status`
        expect(rows.filter((r) => r.queue_name === "demo").map((r) => r.status)).toEqual([
          "completed",
          "completed",
          "completed"
        ])
        const cleanups = rows.filter((r) => r.queue_name !== "demo")
        expect(cleanups.map((r) => r.queue_name).sort()).toEqual(cleanupJobs.map((j) => j.name).sort())
        expect(cleanups.every((r) => r.status === "scheduled")).toBe(true)
        const workers = yield* sql<{ shutdown_at: Date | null }>`SELECT shutdown_at FROM queue_workers`
        expect(workers.map((w) => w.shutdown_at !== null)).toEqual([true])
      }),
    60_000
  )
})
