// Two candidates on their own connections racing for the leader lease over a thousand attempts: the intervals in
// which each held it never overlap, and the lease changes hands when its holder steps down or stops.
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted } from "effect"
import type { Worker } from "../../../src/model/queue.js"
import { ulidToUuid } from "../../../src/model/Ulid.js"
import * as Client from "../../../src/pg/client.js"
import * as RepositoryAccessPg from "../../../src/pg/RepositoryAccessPg.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { adminClient } from "../../support/database.js"
import { queueDatabase } from "./support.js"

const ATTEMPTS_EACH = 500
/** A holder steps down (shuts its worker down, then registers a new one) after this many claims in a row. */
const HOLD_FOR = 4

/** A claim: `worker` is leader from `at` (read after the lease statement, under its row lock) until `until`. */
interface Claim {
  readonly candidate: number
  readonly worker: string
  readonly at: number
  /** The lease's expiry, or the step-down if earlier; microseconds on the database's clock. */
  until: number
}

const micros = (sql: SqlClient.SqlClient, expr: "clock" | "expiry") =>
  Effect.map(
    expr === "clock"
      ? sql<{ t: string }>`SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS t`
      : sql<{ t: string }>`SELECT (extract(epoch FROM expires_at) * 1000000)::bigint::text AS t FROM queue_leader`,
    ([row]) => Number(row!.t)
  )

/** Everything one candidate needs: its own pool of one connection. */
const candidateContext = (url: string) =>
  Layer.build(
    RepositoryAccessPg.layer.pipe(Layer.provideMerge(Client.layer({ url: Redacted.make(url), maxConnections: 1 })))
  )

/** One attempt as the runtime makes it: remove an expired lease, then try to take or extend it, in one unit. */
const attempt = (candidate: number, worker: Worker, claims: Array<Claim>) =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    const sql = yield* SqlClient.SqlClient
    return yield* access.transaction(
      Effect.gen(function* () {
        yield* access.queueWorkers.removeLeaderLeaseIfExpired()
        const leader = yield* access.queueWorkers.tryGetLeaderLease(worker)
        if (leader) {
          const at = yield* micros(sql, "clock")
          const until = yield* micros(sql, "expiry")
          claims.push({ candidate, worker: ulidToUuid(worker.id), at, until })
        }
        return leader
      })
    )
  })

/** A candidate's loop; it steps down after HOLD_FOR claims in a row, recording the step-down on its claims. */
const candidateLoop = (candidate: number, claims: Array<Claim>) =>
  Effect.gen(function* () {
    const access = yield* RepositoryAccess
    const sql = yield* SqlClient.SqlClient
    let worker = yield* access.transaction(access.queueWorkers.register())
    let held = 0
    for (let i = 0; i < ATTEMPTS_EACH; i++) {
      if (yield* attempt(candidate, worker, claims)) held++
      else held = 0
      if (held >= HOLD_FOR) {
        const releasedBy = ulidToUuid(worker.id)
        // read before the commit that releases the lease: an under-estimate of when it ends
        const released = yield* access.transaction(
          Effect.zipRight(access.queueWorkers.shutdown(worker), micros(sql, "clock"))
        )
        for (const c of claims) if (c.worker === releasedBy && c.until > released) c.until = released
        worker = yield* access.transaction(access.queueWorkers.register())
        held = 0
      }
    }
    return worker
  })

/** Pairs of claims by different workers whose intervals overlap (a sweep over the claims sorted by start). */
const overlaps = (claims: ReadonlyArray<Claim>) => {
  const sorted = [...claims].sort((a, b) => a.at - b.at)
  const found: Array<[Claim, Claim]> = []
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.at < sorted[i]!.until; j++) {
      if (sorted[j]!.worker !== sorted[i]!.worker) found.push([sorted[i]!, sorted[j]!])
    }
  }
  return found
}

layer(adminClient, { excludeTestServices: true })("queue: the leader lease under a real race", (it) => {
  it.scoped(
    `two candidates, ${2 * ATTEMPTS_EACH} attempts: never two leaders at once, and the lease changes hands`,
    () =>
      Effect.gen(function* () {
        const { sql, url } = yield* queueDatabase("rel_queue_lease")
        const contexts = [yield* candidateContext(url), yield* candidateContext(url)] as const
        const claims: Array<Claim> = []

        // phase 1: both loop at once, each on its own connection, each stepping down after a few claims
        const started = Date.now()
        const [last0, last1] = yield* Effect.all(
          contexts.map((ctx, i) => Effect.provide(candidateLoop(i, claims), ctx)),
          { concurrency: "unbounded" }
        )
        const phase1 = Date.now() - started
        const handovers = [...claims]
          .sort((a, b) => a.at - b.at)
          .filter((c, i, all) => i > 0 && all[i - 1]!.worker !== c.worker).length
        const byCandidate = [0, 1].map((k) => claims.filter((c) => c.candidate === k).length)

        // phase 2: whoever holds the lease stops without stepping down; the other takes over once it expires
        const [holder] = yield* sql<{ worker: string }>`SELECT queue_worker_id::text AS worker FROM queue_leader`
        const lastWorkers = [last0!, last1!]
        const holderIndex = holder === undefined ? 0 : lastWorkers.findIndex((w) => ulidToUuid(w.id) === holder.worker)
        const other = holderIndex === 0 ? 1 : 0
        const beforeTakeOver = claims.length
        const stoppedAt = Date.now()
        yield* Effect.provide(
          attempt(other, lastWorkers[other]!, claims).pipe(
            Effect.repeat({ until: (leader) => leader }),
            Effect.timeout(Duration.seconds(60))
          ),
          contexts[other]
        )
        const takeOverMs = Date.now() - stoppedAt

        console.log(
          `[reliability] lease race: ${2 * ATTEMPTS_EACH} attempts in ${phase1} ms, ${claims.length} claims ` +
            `(${byCandidate.join(" / ")}), ${handovers} handovers; after the holder stopped, ` +
            `taken over in ${takeOverMs} ms`
        )
        expect(overlaps(claims)).toEqual([])
        expect(handovers).toBeGreaterThanOrEqual(10)
        for (const n of byCandidate) expect(n).toBeGreaterThanOrEqual(10)
        if (holder !== undefined) {
          // the stopped holder's lease was not taken before it expired (the sweep above checks it too)
          const taken = claims[claims.length - 1]!
          expect(claims.length).toBe(beforeTakeOver + 1)
          const holderClaims = claims.filter((c) => c.worker === holder.worker)
          expect(taken.at).toBeGreaterThanOrEqual(Math.max(...holderClaims.map((c) => c.until)))
        }
        const [rows] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM queue_leader`
        expect(rows!.n).toBe(1)
      }),
    180_000
  )
})
