// Benchmarks (e) the user-family mix at concurrency 32, repository vs the same statements through raw pg, and (e′) the mix in memory vs PostgreSQL.
import { randomBytes } from "node:crypto"
import { Effect, ManagedRuntime, Option } from "effect"
import pg from "pg"
import * as RepositoryAccessMemory from "../src/memory/RepositoryAccessMemory.js"
import type { User } from "../src/model/user.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { fmtMs, interleave, median, quantile, ratioRow, roundTrips, type Row, timed } from "./harness.js"
import {
  firstPage,
  ignoreClosingConnection,
  pgRuntime,
  POOL_SIZE,
  type RepositoryRuntime,
  staticText
} from "./repository.js"

/** One iteration of the user-family mix: add user, lookup, findByUsername, add email, add browser session, list sessions. */
const OPS_PER_ITERATION = 6
const OPERATION_NAMES = ["add user", "lookup", "findByUsername", "add email", "add session", "list sessions"] as const
const SESSIONS_PAGE = 10

const mix = (tag: string, counter: { n: number }) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const username = `${tag}${counter.n++}`
    const user: User = yield* repos.users.add(username)
    yield* repos.users.lookup(user.id)
    yield* repos.users.findByUsername(username)
    yield* repos.userEmails.add(user, `${username}@example.com`)
    yield* repos.browserSessions.add(user, Option.some("bench/1.0"))
    yield* repos.browserSessions.list({ user: user.id }, firstPage(SESSIONS_PAGE))
  })

/** `browserSession.list` for a `{ user }` filter and a forward page without cursors, as BrowserSessionRepositoryPg assembles it. */
const sessionListText =
  "SELECT user_sessions.user_session_id, user_sessions.user_id, user_sessions.created_at, user_sessions.finished_at, " +
  "user_sessions.user_agent, user_sessions.last_active_at, user_sessions.last_active_ip, users.username AS user_username, " +
  "users.created_at AS user_created_at, users.locked_at AS user_locked_at, users.deactivated_at AS user_deactivated_at, " +
  "users.can_request_admin AS user_can_request_admin, users.is_guest AS user_is_guest " +
  "FROM user_sessions INNER JOIN users ON users.user_id = user_sessions.user_id " +
  "WHERE (user_sessions.user_id = $1) ORDER BY user_sessions.user_session_id ASC LIMIT $2"

/** A uuid laid out as the repository's ULIDs (48-bit millisecond time, then 80 random bits): same index locality. */
const timeOrderedUuid = (): string => {
  const hex = Date.now().toString(16).padStart(12, "0") + randomBytes(10).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export interface MixOptions {
  readonly rounds: number
  /** Operations per side per round (the last iteration is cut short to make the count exact). */
  readonly operations: number
  readonly concurrency: number
}

/** Per-round latencies of one side, one array per operation of the mix (ms). */
type Latencies = ReadonlyArray<Array<number>>
const newLatencies = (): Latencies => OPERATION_NAMES.map(() => [])

/**
 * (e): `operations` operations of the mix, `concurrency` workers each taking the next iteration, on a pool of
 * `POOL_SIZE`; the repository against raw pg sending the same statements. Throughput and per-operation p50/p99.
 */
export const benchMix = async (url: string, options: MixOptions): Promise<ReadonlyArray<Row>> => {
  const runtime = pgRuntime(url)
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  pool.on("error", ignoreClosingConnection)
  try {
    // Built before anything is recorded: building it sends a connection check of its own.
    await runtime.runtime()
    const texts = {
      addUser: staticText("user.add"),
      lookup: staticText("user.lookup"),
      findByUsername: staticText("user.findByUsername"),
      addEmail: staticText("userEmail.add"),
      addSession: staticText("browserSession.add")
    }
    const sessionsPage = firstPage(SESSIONS_PAGE)
    let unique = 0

    // Iteration k of a batch of `total` operations runs its first `last` operations (all six but at the very end).
    const opsIn = (k: number, total: number) => Math.min(OPS_PER_ITERATION, total - k * OPS_PER_ITERATION)

    const repoIteration = (k: number, total: number, latencies: Latencies) =>
      Effect.gen(function* () {
        const repos = yield* RepositoryAccess
        const last = opsIn(k, total)
        const username = `mixrepo${unique++}`
        const step = <A, E>(j: number, effect: () => Effect.Effect<A, E>) =>
          Effect.suspend(() => {
            const started = performance.now()
            return Effect.map(effect(), (value) => {
              latencies[j]!.push(performance.now() - started)
              return value
            })
          })
        const user = yield* step(0, () => repos.users.add(username))
        if (last > 1) yield* step(1, () => repos.users.lookup(user.id))
        if (last > 2) yield* step(2, () => repos.users.findByUsername(username))
        if (last > 3) yield* step(3, () => repos.userEmails.add(user, `${username}@example.com`))
        if (last > 4) yield* step(4, () => repos.browserSessions.add(user, Option.some("bench/1.0")))
        if (last > 5) yield* step(5, () => repos.browserSessions.list({ user: user.id }, sessionsPage))
      })

    // What a hand-written data layer sends for the same mix: no decoding, no checks, ids made as the repository does.
    const rawIteration = async (k: number, total: number, latencies: Latencies) => {
      const last = opsIn(k, total)
      const username = `mixraw${unique++}`
      const userId = timeOrderedUuid()
      const statements: ReadonlyArray<() => Promise<unknown>> = [
        () => pool.query(texts.addUser, [userId, username, new Date()]),
        () => pool.query(texts.lookup, [userId]),
        () => pool.query(texts.findByUsername, [username]),
        () => pool.query(texts.addEmail, [timeOrderedUuid(), userId, `${username}@example.com`, new Date()]),
        () => pool.query(texts.addSession, [timeOrderedUuid(), userId, new Date(), "bench/1.0"]),
        () => pool.query(sessionListText, [userId, SESSIONS_PAGE + 1])
      ]
      for (let j = 0; j < last; j++) {
        const started = performance.now()
        await statements[j]!()
        latencies[j]!.push(performance.now() - started)
      }
    }

    // One iteration each way: the raw side must send exactly the statements the repository sends.
    const repoSent = await roundTrips.during(() =>
      runtime.runPromise(repoIteration(0, OPS_PER_ITERATION, newLatencies()))
    )
    const rawSent = await roundTrips.during(() => rawIteration(0, OPS_PER_ITERATION, newLatencies()))
    if (JSON.stringify(repoSent.texts) !== JSON.stringify(rawSent.texts)) {
      throw new Error(
        `the raw mix no longer sends what the repository sends: ${JSON.stringify(rawSent.texts)} vs ${JSON.stringify(repoSent.texts)}`
      )
    }

    const perRound = { repo: [] as Array<Latencies>, raw: [] as Array<Latencies> }
    const runRepo = (total: number, keep: boolean) => async () => {
      const latencies = newLatencies()
      const iterations = Math.ceil(total / OPS_PER_ITERATION)
      let next = 0
      const ms = await timed(() =>
        runtime.runPromise(
          Effect.forEach(
            Array.from({ length: options.concurrency }),
            () =>
              Effect.gen(function* () {
                for (let k = next++; k < iterations; k = next++) yield* repoIteration(k, total, latencies)
              }),
            { concurrency: options.concurrency, discard: true }
          )
        )
      )
      if (keep) perRound.repo.push(latencies)
      return ms
    }
    const runRaw = (total: number, keep: boolean) => async () => {
      const latencies = newLatencies()
      const iterations = Math.ceil(total / OPS_PER_ITERATION)
      let next = 0
      const ms = await timed(() =>
        Promise.all(
          Array.from({ length: options.concurrency }, async () => {
            for (let k = next++; k < iterations; k = next++) await rawIteration(k, total, latencies)
          })
        )
      )
      if (keep) perRound.raw.push(latencies)
      return ms
    }
    const warmUpOps = Math.ceil(options.operations / 5)
    const result = await interleave(
      options.rounds,
      runRepo(options.operations, true),
      runRaw(options.operations, true),
      { a: runRepo(warmUpOps, false), b: runRaw(warmUpOps, false) }
    )
    const repoRounds = perRound.repo
    const rawRounds = perRound.raw
    const all = (latencies: Latencies) => latencies.flat()
    const opsPerSecond = (ms: number) => ((options.operations / ms) * 1000).toFixed(0)
    const name = `user-family mix, ${options.operations.toLocaleString("en")} ops, concurrency ${options.concurrency}, pool ${POOL_SIZE}`

    const latencyRow = (q: number, label: string): Row => {
      const repo = repoRounds.map((l) => quantile(all(l), q))
      const raw = rawRounds.map((l) => quantile(all(l), q))
      const byOperation = OPERATION_NAMES.map((opName, j) => {
        const pooled = (rounds: ReadonlyArray<Latencies>) =>
          quantile(
            rounds.flatMap((l) => l[j]!),
            q
          )
        return `${opName} ${fmtMs(pooled(repoRounds))} / ${fmtMs(pooled(rawRounds))}`
      }).join(", ")
      return ratioRow(
        {
          section: "e",
          name: `${name}: latency ${label} per operation`,
          a: `repository ${fmtMs(median(repo))}`,
          b: `raw pg ${fmtMs(median(raw))}`,
          target: "(none)",
          note: `${label} by operation over all rounds, repository / raw pg: ${byOperation}`
        },
        { a: repo, b: raw, ratios: repo.map((x, i) => x / raw[i]!) },
        undefined
      )
    }

    return [
      ratioRow(
        {
          section: "e",
          name: `${name}: throughput`,
          a: `repository ${opsPerSecond(median(result.a))} ops/s`,
          b: `raw pg ${opsPerSecond(median(result.b))} ops/s`,
          target: "(none)",
          note: "A/B is the repository's time over raw pg's for the same operations, i.e. how many times more operations per second raw pg does"
        },
        result,
        undefined
      ),
      latencyRow(0.5, "p50"),
      latencyRow(0.99, "p99")
    ]
  } finally {
    await pool.end()
    await runtime.dispose()
  }
}

export interface BackendOptions {
  readonly rounds: number
  /** Iterations of the six-operation mix per measured batch. */
  readonly iterations: number
}

/** (e′), informational: the same mix on both backends at concurrency 1, operations per second, alternating round by round. */
export const benchMemoryVsPg = async (url: string, options: BackendOptions): Promise<Row> => {
  const pgSide = pgRuntime(url)
  const memorySide = ManagedRuntime.make(RepositoryAccessMemory.layer)
  try {
    const counter = { n: 0 }
    const batch = (runtime: RepositoryRuntime, tag: string) => () =>
      timed(() =>
        runtime.runPromise(
          Effect.gen(function* () {
            for (let i = 0; i < options.iterations; i++) yield* mix(tag, counter)
          })
        )
      )
    // A = PostgreSQL, B = memory: A/B of times is memory's speed-up in operations per second.
    const result = await interleave(options.rounds, batch(pgSide, "pgmix"), batch(memorySide, "memmix"))
    const opsPerSecond = (ms: number) => ((options.iterations * OPS_PER_ITERATION) / ms) * 1000
    return ratioRow(
      {
        section: "e′",
        name: "user-family mix (add user, lookup, findByUsername, add email, add session, list sessions), concurrency 1, PostgreSQL vs memory",
        a: `postgres ${opsPerSecond(median(result.a)).toFixed(0)} ops/s`,
        b: `memory ${opsPerSecond(median(result.b)).toFixed(0)} ops/s`,
        target: "(none)",
        note: "A/B here is time on PostgreSQL over time in memory, i.e. how many times more operations per second memory does"
      },
      result,
      undefined
    )
  } finally {
    await memorySide.dispose()
    await pgSide.dispose()
  }
}
