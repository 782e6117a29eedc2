// Benchmarks (a) repository calls vs the same SQL through raw pg, and (e) the in-memory backend vs PostgreSQL.
import { randomUUID } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Either, Layer, LogLevel, Logger, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import * as RepositoryAccessMemory from "../src/memory/RepositoryAccessMemory.js"
import { Migrator } from "../src/migrate/Migrator.js"
import { uuidToUlid, type Ulid } from "../src/model/Ulid.js"
import type { User } from "../src/model/user.js"
import { declaredQueries } from "../src/pg/queries.js"
import * as RepositoryAccessPg from "../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import { fmtUs, interleave, median, ratioRow, roundTrips, type Row, timed } from "./harness.js"

export const POOL_SIZE = 16
/** Rows of the first `User.list` page. */
export const LIST_PAGE = 50

/** `n` users with ULID-uuid ids in creation order (48-bit millisecond time, then 80 random bits), one per millisecond. */
export const seedUsersSql = (n: number, firstId = 1) => `
  INSERT INTO users (user_id, username, created_at)
  SELECT (lpad(to_hex(1700000000000 + i), 12, '0') || substr(md5(i::text || random()::text), 1, 20))::uuid,
         'user' || lpad(i::text, 7, '0'),
         to_timestamp((1700000000000 + i) / 1000.0)
    FROM generate_series(${firstId}, ${firstId + n - 1}) AS i`

/** Applies the shipped migrations to the database at `url` with our Migrator (logs above warnings only). */
export const migrateShipped = (url: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* (yield* Migrator).run()
    }).pipe(
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.provide(
        Migrator.layer(Migrator.defaultConfig).pipe(
          Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))
        )
      )
    )
  )

const pgRuntime = (url: string) =>
  ManagedRuntime.make(
    RepositoryAccessPg.layer.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: POOL_SIZE })))
  )

const staticText = (name: string): string => {
  const query = declaredQueries.find((q) => q.name === name)
  if (query === undefined || query.kind !== "static") throw new Error(`no static query named ${name}`)
  return query.text
}

/** `user.list` for an empty filter and a forward page without cursors, as UserRepositoryPg assembles it. */
const userListText = `SELECT user_id, username, created_at, locked_at, deactivated_at, can_request_admin, is_guest FROM users WHERE (1=1) ORDER BY users.user_id ASC LIMIT $1`

const firstPage = (count: number) => Either.getOrThrow(Pagination.first(count))

interface Operation {
  readonly name: string
  readonly repo: (i: number) => Effect.Effect<unknown, unknown, RepositoryAccess>
  readonly raw: (pool: pg.Pool, i: number) => Promise<unknown>
}

export interface RepositoryOptions {
  readonly rounds: number
  /** Operations per measured batch, by concurrency. */
  readonly ops: Readonly<Record<number, number>>
  readonly seededUsers: number
}

/** (a): each operation at concurrency 1 and 16, repository and raw pg alternating round by round. */
export const benchRepositoryVsRaw = async (url: string, options: RepositoryOptions): Promise<ReadonlyArray<Row>> => {
  const runtime = pgRuntime(url)
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  try {
    const seeded = (
      await pool.query<{ user_id: string; username: string }>(
        `SELECT user_id, username FROM users ORDER BY user_id LIMIT ${options.seededUsers}`
      )
    ).rows
    const ids: ReadonlyArray<Ulid> = seeded.map((r) => Option.getOrThrow(uuidToUlid(r.user_id)))
    const uuids = seeded.map((r) => r.user_id)
    const names = seeded.map((r) => r.username)
    const pick = <A>(xs: ReadonlyArray<A>, i: number) => xs[(i * 7919) % xs.length]!

    // The raw side gets the exact text the repository sends: the declared static text, and for the dynamic list a
    // reproduction that is checked against what the repository actually sent.
    const sent = await roundTrips.during(() =>
      runtime.runPromise(Effect.flatMap(RepositoryAccess, (r) => r.users.list({}, firstPage(LIST_PAGE))))
    )
    if (!sent.texts.includes(userListText)) {
      throw new Error(`user.list no longer sends the reproduced SQL; it sent: ${JSON.stringify(sent.texts)}`)
    }
    const lookupText = staticText("user.lookup")
    const findText = staticText("user.findByUsername")
    const addText = staticText("user.add")

    let added = 0
    const operations: ReadonlyArray<Operation> = [
      {
        name: "User.lookup",
        repo: (i) => Effect.flatMap(RepositoryAccess, (r) => r.users.lookup(pick(ids, i))),
        raw: (p, i) => p.query(lookupText, [pick(uuids, i)])
      },
      {
        name: "User.findByUsername",
        repo: (i) => Effect.flatMap(RepositoryAccess, (r) => r.users.findByUsername(pick(names, i))),
        raw: (p, i) => p.query(findText, [pick(names, i)])
      },
      {
        name: "User.add",
        repo: () => Effect.flatMap(RepositoryAccess, (r) => r.users.add(`repo${added++}`)),
        // a hand-written caller would use a random uuid (v4) as the id; the repository makes a ULID
        raw: (p) => p.query(addText, [randomUUID(), `raw${added++}`, new Date()])
      },
      {
        name: `User.list (first ${LIST_PAGE})`,
        repo: () => Effect.flatMap(RepositoryAccess, (r) => r.users.list({}, firstPage(LIST_PAGE))),
        raw: (p) => p.query(userListText, [LIST_PAGE + 1])
      }
    ]

    const rows: Array<Row> = []
    for (const concurrency of [1, 16]) {
      const n = options.ops[concurrency]!
      for (const op of operations) {
        const runRepo = () =>
          timed(() =>
            runtime.runPromise(
              Effect.forEach(
                Array.from({ length: concurrency }, (_, w) => w),
                (w) =>
                  Effect.gen(function* () {
                    for (let i = w; i < n; i += concurrency) yield* op.repo(i)
                  }),
                { concurrency, discard: true }
              )
            )
          )
        const runRaw = () =>
          timed(() =>
            Promise.all(
              Array.from({ length: concurrency }, async (_, w) => {
                for (let i = w; i < n; i += concurrency) await op.raw(pool, i)
              })
            )
          )
        const result = await interleave(options.rounds, runRepo, runRaw)
        rows.push(
          ratioRow(
            {
              section: "a",
              name: `${op.name}, concurrency ${concurrency}`,
              a: `repository ${fmtUs(median(result.a) / n)}/op`,
              b: `raw pg ${fmtUs(median(result.b) / n)}/op`,
              target: "≤ 1.10×"
            },
            result,
            1.1
          )
        )
      }
    }
    return rows
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

/** One iteration of the user-family mix: add user, lookup, findByUsername, add email, add browser session, list sessions. */
const OPS_PER_ITERATION = 6

const mix = (tag: string, counter: { n: number }) =>
  Effect.gen(function* () {
    const repos = yield* RepositoryAccess
    const username = `${tag}${counter.n++}`
    const user: User = yield* repos.users.add(username)
    yield* repos.users.lookup(user.id)
    yield* repos.users.findByUsername(username)
    yield* repos.userEmails.add(user, `${username}@example.com`)
    yield* repos.browserSessions.add(user, Option.some("bench/1.0"))
    yield* repos.browserSessions.list({ user: user.id }, firstPage(10))
  })

/** (e): the same operation mix on both backends, operations per second, alternating round by round. */
export const benchMemoryVsPg = async (url: string, options: BackendOptions): Promise<Row> => {
  const pgSide = pgRuntime(url)
  const memorySide = ManagedRuntime.make(RepositoryAccessMemory.layer)
  try {
    const counter = { n: 0 }
    const batch = (runtime: ManagedRuntime.ManagedRuntime<RepositoryAccess, unknown>, tag: string) => () =>
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
    const row = ratioRow(
      {
        section: "e",
        name: "user-family mix (add user, lookup, findByUsername, add email, add session, list sessions), concurrency 1",
        a: `postgres ${opsPerSecond(median(result.a)).toFixed(0)} ops/s`,
        b: `memory ${opsPerSecond(median(result.b)).toFixed(0)} ops/s`,
        target: "(none)",
        note: "A/B here is time on PostgreSQL over time in memory, i.e. how many times more operations per second memory does"
      },
      result,
      undefined
    )
    return row
  } finally {
    await memorySide.dispose()
    await pgSide.dispose()
  }
}
