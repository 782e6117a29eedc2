// Token lookups while the batched cleanup of expired access tokens runs, against the same lookups with none running.
import { Duration, Effect, Fiber, Option, Ref } from "effect"
import pg from "pg"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { CLEANUP_BATCH_SIZE, cleanupJobs } from "../src/worker/cleanupJobs.js"
import { createScratchDatabase, fmtMs, median, quantile, ratioRow, type Row } from "./harness.js"
import { migrateShipped, pgRuntime, seedAccessTokensSql } from "./repository.js"

/**
 * `n` tokens `kept-<i>` (after `seedAccessTokensSql`, whose tokens all expired in 2023, on its first session) that
 * the cleanup must leave: a third valid for a day, a third expired an hour ago (inside the retention), a third that
 * never expires.
 */
export const seedKeptAccessTokensSql = (n: number) => `
  INSERT INTO oauth2_access_tokens (oauth2_access_token_id, oauth2_session_id, access_token, created_at, expires_at)
  SELECT (lpad(to_hex(1800000000000 + i), 12, '0') || substr(md5('kept' || i), 1, 20))::uuid,
         (SELECT oauth2_session_id FROM oauth2_sessions ORDER BY 1 LIMIT 1), 'kept-' || i, now() - interval '2 hours',
         CASE i % 3 WHEN 0 THEN now() + interval '1 day' WHEN 1 THEN now() - interval '1 hour' END
    FROM generate_series(1, ${n}) AS i`

export interface CleanupOptions {
  /** Measured rounds of each side, after one unmeasured round of each. */
  readonly rounds: number
  /** Expired rows the cleanup deletes each round. */
  readonly expired: number
  /** Tokens the cleanup keeps, the ones looked up. */
  readonly kept: number
  /** Lookup loops running at once, as concurrent requests would. */
  readonly concurrency: number
}

export const cleanupPlan = (quick: boolean): CleanupOptions => ({
  rounds: quick ? 2 : 7,
  expired: quick ? 20_000 : 100_000,
  kept: 1_000,
  concurrency: 4
})

const job = (() => {
  const found = cleanupJobs.find((j) => j.covers.includes("oauth2AccessTokens.cleanupExpired"))
  if (found === undefined) throw new Error("no cleanup job covers oauth2AccessTokens.cleanupExpired")
  return found
})()

interface Round {
  /** Each lookup's latency, ms. */
  readonly latencies: ReadonlyArray<number>
  /** How long the lookups ran: the cleanup's duration, or the baseline's given one. */
  readonly ms: number
}

/**
 * The expired-token cleanup job (its batches of 1000, each its own unit of work) against `concurrency` loops of
 * `findByToken` on kept tokens, on a scratch database reseeded before every round so both sides see the same table:
 * `expired` expired rows and `kept` kept ones. The baseline round runs the same lookups for as long as the latest
 * cleanup took. Rounds alternate, the one going first swapping each time. Reports p50 and p99 of the lookups during
 * the cleanup over those with none running.
 */
export const benchCleanupUnderLoad = async (adminUrl: string, options: CleanupOptions): Promise<ReadonlyArray<Row>> => {
  const db = await createScratchDatabase(adminUrl, "cleanup")
  try {
    await migrateShipped(db.url)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const runtime = pgRuntime(db.url)
    try {
      const reseed = async () => {
        await client.query("TRUNCATE oauth2_access_tokens, oauth2_sessions, oauth2_clients CASCADE")
        await client.query(seedAccessTokensSql(options.expired))
        await client.query(seedKeptAccessTokensSql(options.kept))
        await client.query("VACUUM ANALYZE oauth2_access_tokens, oauth2_sessions")
        // The bulk load's dirty pages written out now, not by a checkpoint in the middle of the next round (needs
        // a superuser or pg_checkpoint; without it, rounds just carry that noise).
        await client.query("CHECKPOINT").catch(() => undefined)
      }

      /** The lookup loops, until `during` (the cleanup, or a sleep) ends; returns its result and every latency. */
      const withLookups = <A>(during: Effect.Effect<A, unknown, RepositoryAccess>) =>
        Effect.gen(function* () {
          const access = yield* RepositoryAccess
          const running = yield* Ref.make(true)
          const latencies: Array<number> = []
          const loop = (w: number) =>
            Effect.gen(function* () {
              for (let i = w; yield* Ref.get(running); i += options.concurrency) {
                const token = `kept-${((i * 7919) % options.kept) + 1}`
                const started = performance.now()
                const found = yield* access.oauth2AccessTokens.findByToken(token)
                latencies.push(performance.now() - started)
                if (Option.isNone(found)) return yield* Effect.die(new Error(`no ${token} during the cleanup`))
              }
            })
          const fibers = yield* Effect.forEach(
            Array.from({ length: options.concurrency }, (_, w) => w),
            (w) => Effect.fork(loop(w))
          )
          const started = performance.now()
          const value = yield* during.pipe(Effect.ensuring(Ref.set(running, false)))
          const ms = performance.now() - started
          yield* Fiber.joinAll(fibers)
          return { value, round: { latencies, ms } satisfies Round }
        })

      const cleanupRound = async (): Promise<Round> => {
        await reseed()
        const { value, round } = await runtime.runPromise(
          withLookups(Effect.flatMap(RepositoryAccess, (access) => job.run(access, new Date())))
        )
        if (value !== options.expired) throw new Error(`the cleanup deleted ${value} rows, not ${options.expired}`)
        const left = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM oauth2_access_tokens")
        if (left.rows[0]!.n !== options.kept) throw new Error(`${left.rows[0]!.n} tokens left, not ${options.kept}`)
        return round
      }
      const baselineRound = (ms: number) => async (): Promise<Round> => {
        await reseed()
        return (await runtime.runPromise(withLookups(Effect.sleep(Duration.millis(ms))))).round
      }

      // The baseline lasts as long as the latest cleanup did, so both sides take about as many samples.
      let latestCleanupMs = (await cleanupRound()).ms
      const warmUpMs = latestCleanupMs
      await baselineRound(latestCleanupMs)()
      const during: Array<Round> = []
      const baseline: Array<Round> = []
      for (let round = 0; round < options.rounds; round++) {
        const sides = [
          async () => {
            const measured = await cleanupRound()
            latestCleanupMs = measured.ms
            during.push(measured)
          },
          async () => baseline.push(await baselineRound(latestCleanupMs)())
        ]
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side()
      }

      const at = (q: number) => (rounds: ReadonlyArray<Round>) => rounds.map((r) => quantile(r.latencies, q))
      const row = (label: string, q: number): Row => {
        const a = at(q)(during)
        const b = at(q)(baseline)
        return ratioRow(
          {
            section: "cleanup",
            name: `OAuth2AccessToken.findByToken ${label}, concurrency ${options.concurrency}, during the cleanup of ${options.expired.toLocaleString("en")} expired tokens vs none`,
            a: `during ${fmtMs(median(a))}`,
            b: `none ${fmtMs(median(b))}`,
            target: "(informational)"
          },
          { a, b, ratios: a.map((x, i) => x / b[i]!) },
          undefined
        )
      }
      const cleanupMs = median(during.map((r) => r.ms))
      const lookups = (rounds: ReadonlyArray<Round>) => Math.round(median(rounds.map((r) => r.latencies.length)))
      // A fold, not Math.max(...all): a full run's latencies are too many to spread as arguments.
      const worst = during.reduce((m, r) => r.latencies.reduce((n, x) => Math.max(n, x), m), 0)
      return [
        row("p50", 0.5),
        {
          ...row("p99", 0.99),
          note:
            `${options.rounds} rounds of each; the cleanup took ${fmtMs(cleanupMs)} (median; ` +
            `${Math.round(options.expired / (cleanupMs / 1000)).toLocaleString("en")} rows/s, ` +
            `${Math.ceil(options.expired / CLEANUP_BATCH_SIZE)} batches of ${CLEANUP_BATCH_SIZE}), ${lookups(during).toLocaleString("en")} lookups a round ` +
            `during it and ${lookups(baseline).toLocaleString("en")} with none (run as long as the latest cleanup; ` +
            `the unmeasured first one took ${fmtMs(warmUpMs)}); slowest lookup during a cleanup ${fmtMs(worst)}`
        }
      ]
    } finally {
      await runtime.dispose()
      await client.end()
    }
  } finally {
    await db.drop()
  }
}
