// Benchmarks (a) repository calls vs the same SQL through raw pg, with and without a tracer, and (a′) the same calls through Kysely, Drizzle and SqlSchema.
import { createHash, randomUUID } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import {
  type Context,
  Effect,
  Either,
  type Exit,
  Layer,
  LogLevel,
  Logger,
  ManagedRuntime,
  Option,
  Redacted,
  Tracer
} from "effect"
import pg from "pg"
import { Migrator } from "../src/migrate/Migrator.js"
import { uuidToUlid, type Ulid } from "../src/model/Ulid.js"
import { declaredQueries } from "../src/pg/queries.js"
import * as Client from "../src/pg/client.js"
import * as RepositoryAccessPg from "../src/pg/RepositoryAccessPg.js"
import { Pagination } from "../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../src/storage/RepositoryAccess.js"
import {
  fmtUs,
  interleaveAll,
  median,
  pairOf,
  ratioRow,
  roundTrips,
  type Row,
  runConcurrently,
  timed
} from "./harness.js"
import {
  drizzleCalls,
  kyselyCalls,
  sqlSchemaEffects,
  sqlSchemaRuntime,
  type UserCalls,
  type UserEffects
} from "./peers.js"

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

export interface PgRuntimeOptions {
  /** A tracer the application installs; none = Effect's built-in tracer, as in a program that exports no traces. */
  readonly tracer?: Tracer.Tracer
  /** The client's prepared statements (on by default, as in the program). */
  readonly preparedStatements?: boolean
}

export type RepositoryRuntime = ManagedRuntime.ManagedRuntime<RepositoryAccess, unknown>

/**
 * The repository runtime of every PostgreSQL row of the bench, (a), (a′) and (e) alike: the one place its client
 * layer is chosen, so a different client (or client option) is swapped in here and nowhere else.
 */
export const pgRuntime = (url: string, options: PgRuntimeOptions = {}): RepositoryRuntime => {
  const client = Client.layer({
    url: Redacted.make(url),
    maxConnections: POOL_SIZE,
    preparedStatements: options.preparedStatements
  })
  const repositories = RepositoryAccessPg.layer.pipe(Layer.provide(client))
  // Provided below the client as an application's tracing layer is, so a client that reads the tracer while it is
  // built sees it too, not only the calls.
  return ManagedRuntime.make(
    options.tracer === undefined ? repositories : repositories.pipe(Layer.provide(Layer.setTracer(options.tracer)))
  )
}

/** A span as an exporter keeps it until it is sent: attributes, events, links and the end status. */
class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly sampled = true
  readonly traceId: string
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<readonly [string, bigint, Record<string, unknown> | undefined]> = []
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly spanId: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    private readonly onEnd: (span: RecordingSpan) => void
  ) {
    this.traceId = parent._tag === "Some" ? parent.value.traceId : spanId
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.onEnd(this)
  }
  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }
  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    this.events.push([name, startTime, attributes])
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

/**
 * The least a real tracer does, so that the spans are really made and kept: span objects with their attributes and
 * end status, counted, and the last ended one held (where an exporter would batch them). What an exporter costs
 * above that is not measured here.
 */
export const recordingTracer = () => {
  const counts = { started: 0, ended: 0 }
  let last: RecordingSpan | undefined
  const onEnd = (span: RecordingSpan) => {
    counts.ended++
    last = span
  }
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) =>
      new RecordingSpan(name, (++counts.started).toString(16), parent, context, links, startTime, kind, onEnd),
    context: (f) => f()
  })
  return { tracer, counts, lastEnded: () => last }
}

/**
 * For a pool's "error" event: `pool.end()` resolves before its sockets are closed, and dropping the scratch database
 * right after (WITH (FORCE)) terminates the ones still closing, which a pool without a listener would throw.
 */
export const ignoreClosingConnection = (): void => undefined

export const staticText = (name: string): string => {
  const query = declaredQueries.find((q) => q.name === name)
  if (query === undefined || query.kind !== "static") throw new Error(`no static query named ${name}`)
  return query.text
}

/** `user.list` for an empty filter and a forward page without cursors, as UserRepositoryPg assembles it. */
const userListText = `SELECT user_id, username, created_at, locked_at, deactivated_at, can_request_admin, is_guest FROM users WHERE (1=1) ORDER BY users.user_id ASC LIMIT $1`

export const firstPage = (count: number) => Either.getOrThrow(Pagination.first(count))

/** Runs `call(0…n-1)` in `concurrency` sequential workers on `runtime`, and returns the wall time in ms. */
export const runEffects =
  <R>(
    runtime: ManagedRuntime.ManagedRuntime<R, unknown>,
    concurrency: number,
    n: number,
    call: (i: number) => Effect.Effect<unknown, unknown, R>
  ) =>
  () =>
    timed(() =>
      runtime.runPromise(
        Effect.forEach(
          Array.from({ length: concurrency }, (_, w) => w),
          (w) =>
            Effect.gen(function* () {
              for (let i = w; i < n; i += concurrency) yield* call(i)
            }),
          { concurrency, discard: true }
        )
      )
    )

const runPromises = (concurrency: number, n: number, call: (i: number) => Promise<unknown>) => () =>
  timed(() => runConcurrently(concurrency, n, call))

/** One call of (a) against raw pg, as each side makes it. */
interface RawOperation {
  readonly name: string
  /** Share of the batch size: the 50-row page costs several single-row calls. */
  readonly weight: number
  readonly repo: (i: number) => Effect.Effect<unknown, unknown, RepositoryAccess>
  readonly raw: (pool: pg.Pool, i: number) => Promise<unknown>
  /** The same statement as a named one, prepared once per connection. */
  readonly named: (pool: pg.Pool, i: number) => Promise<unknown>
}

/** One call of (a) and (a′): against raw pg and against the peers. */
interface Operation extends RawOperation {
  readonly peer: (calls: UserCalls, i: number) => Promise<unknown>
  /** The same for the SqlSchema peer, whose calls are Effects run inside its runtime, as the repository's are. */
  readonly effect: (calls: UserEffects, i: number) => Effect.Effect<unknown, unknown>
  /** What must be the same in the repository's answer and a peer's. */
  readonly answer: (value: unknown) => string
}

export interface RepositoryOptions {
  readonly rounds: number
  /** Operations per measured batch, by concurrency. */
  readonly ops: Readonly<Record<number, number>>
  readonly seededUsers: number
}

const CONCURRENCIES = [1, 16] as const

const sameTexts = (what: string, a: ReadonlyArray<string>, b: ReadonlyArray<string>) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}: the two sides send different SQL: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
  }
}

/**
 * (a) and (a′): each call at concurrency 1 and 16 on pools of `POOL_SIZE`. (a) measures the repository without and
 * with a tracer, raw pg and raw pg with a named statement in the same rounds; (a′) the repository and the three peers.
 */
export const benchRepository = async (
  url: string,
  options: RepositoryOptions
): Promise<{ readonly raw: ReadonlyArray<Row>; readonly peers: ReadonlyArray<Row> }> => {
  const runtime = pgRuntime(url)
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  pool.on("error", ignoreClosingConnection)
  try {
    // Built before anything is recorded: building it sends a connection check of its own.
    await runtime.runtime()
    const seeded = (
      await pool.query<{ user_id: string; username: string }>(
        `SELECT user_id, username FROM users ORDER BY user_id LIMIT ${options.seededUsers}`
      )
    ).rows
    const ids: ReadonlyArray<Ulid> = seeded.map((r) => Option.getOrThrow(uuidToUlid(r.user_id)))
    const uuids = seeded.map((r) => r.user_id)
    const names = seeded.map((r) => r.username)
    const pick = <A>(xs: ReadonlyArray<A>, i: number) => xs[(i * 7919) % xs.length]!

    const lookupText = staticText("user.lookup")
    const findText = staticText("user.findByUsername")
    const addText = staticText("user.add")
    const page = firstPage(LIST_PAGE)

    let added = 0
    const operations: ReadonlyArray<Operation> = [
      {
        name: "User.lookup",
        weight: 1,
        repo: (i) => Effect.flatMap(RepositoryAccess, (r) => r.users.lookup(pick(ids, i))),
        raw: (p, i) => p.query(lookupText, [pick(uuids, i)]),
        named: (p, i) => p.query({ name: "user.lookup", text: lookupText, values: [pick(uuids, i)] }),
        peer: (c, i) => c.lookup(pick(ids, i)),
        effect: (c, i) => c.lookup(pick(ids, i)),
        answer: (value) => JSON.stringify(value)
      },
      {
        name: "User.findByUsername",
        weight: 1,
        repo: (i) => Effect.flatMap(RepositoryAccess, (r) => r.users.findByUsername(pick(names, i))),
        raw: (p, i) => p.query(findText, [pick(names, i)]),
        named: (p, i) => p.query({ name: "user.findByUsername", text: findText, values: [pick(names, i)] }),
        peer: (c, i) => c.findByUsername(pick(names, i)),
        effect: (c, i) => c.findByUsername(pick(names, i)),
        answer: (value) => JSON.stringify(value)
      },
      {
        name: "User.add",
        weight: 1,
        repo: () => Effect.flatMap(RepositoryAccess, (r) => r.users.add(`repo${added++}`)),
        // a hand-written caller would use a random uuid (v4) as the id; the repository makes a ULID
        raw: (p) => p.query(addText, [randomUUID(), `raw${added++}`, new Date()]),
        named: (p) =>
          p.query({ name: "user.add", text: addText, values: [randomUUID(), `named${added++}`, new Date()] }),
        peer: (c) => c.add(`peer${added++}`),
        effect: (c) => c.add(`peer${added++}`),
        // a new user: all but the id, the time and the name, which differ by construction
        answer: (value) => JSON.stringify({ ...(value as object), id: "", createdAt: "", username: "" })
      },
      {
        name: `User.list (first ${LIST_PAGE})`,
        weight: 0.4,
        repo: () => Effect.flatMap(RepositoryAccess, (r) => r.users.list({}, page)),
        raw: (p) => p.query(userListText, [page.limit]),
        named: (p) => p.query({ name: "user.list.first", text: userListText, values: [page.limit] }),
        peer: (c) => c.list(page),
        effect: (c) => c.list(page),
        answer: (value) => JSON.stringify(value)
      }
    ]

    await checkSameTexts(runtime, pool, operations)
    const raw = await benchRaw(url, pool, runtime, operations, options)
    const peers = await benchPeers(url, pool, runtime, operations, options)
    return { raw, peers }
  } finally {
    await pool.end()
    await runtime.dispose()
  }
}

/**
 * The raw sides get the exact text the repository sends: the declared static text, and for a dynamic statement a
 * reproduction. Both are checked against what the repository actually sent, so the script fails if they drift.
 */
const checkSameTexts = async (runtime: RepositoryRuntime, pool: pg.Pool, operations: ReadonlyArray<RawOperation>) => {
  for (const op of operations) {
    const repoSent = await roundTrips.during(() => runtime.runPromise(op.repo(0)))
    sameTexts(`${op.name}, raw pg`, repoSent.texts, (await roundTrips.during(() => op.raw(pool, 0))).texts)
    sameTexts(`${op.name}, named`, repoSent.texts, (await roundTrips.during(() => op.named(pool, 0))).texts)
  }
}

/** `n` access tokens `token-<i>`, spread over sessions of one client, for the OAuth2 hot path. */
export const seedAccessTokensSql = (n: number) => `
  WITH client AS (
    INSERT INTO oauth2_clients (oauth2_client_id, grant_type_authorization_code, grant_type_refresh_token)
    VALUES ('01800000-0000-0000-0000-000000000001', TRUE, TRUE) RETURNING oauth2_client_id
  ), sessions AS (
    INSERT INTO oauth2_sessions (oauth2_session_id, oauth2_client_id, scope_list, created_at)
    SELECT (lpad(to_hex(1700000000000 + i), 12, '0') || '00000000000000000001')::uuid, client.oauth2_client_id,
           ARRAY['openid', 'urn:matrix:client:api:*'], to_timestamp((1700000000000 + i) / 1000.0)
      FROM client, generate_series(1, ${Math.max(1, Math.floor(n / 10))}) AS i
    RETURNING oauth2_session_id, created_at
  ), numbered AS (SELECT oauth2_session_id, created_at, row_number() OVER (ORDER BY oauth2_session_id) AS s FROM sessions)
  INSERT INTO oauth2_access_tokens (oauth2_access_token_id, oauth2_session_id, access_token, created_at, expires_at)
  SELECT (lpad(to_hex(1700000000000 + i), 12, '0') || substr(md5(i::text), 1, 20))::uuid, numbered.oauth2_session_id,
         'token-' || i, numbered.created_at, numbered.created_at + interval '1 hour'
    FROM generate_series(1, ${n}) AS i JOIN numbered ON numbered.s = 1 + (i % ${Math.max(1, Math.floor(n / 10))})`

/**
 * Compat and personal sessions with one access token each, `n` of each kind, for the legacy and personal-token hot
 * paths: compat tokens are `compat-<i>`, personal tokens `personal-<i>` (stored as the SHA-256 of the text, as the
 * repository stores them); owners and actors are the bulk-loaded users.
 */
export const seedLegacyAndPersonalTokensSql = (n: number) => `
  WITH owners AS (
    SELECT user_id, row_number() OVER (ORDER BY user_id) AS u FROM users
  ), compat AS (
    INSERT INTO compat_sessions (compat_session_id, user_id, device_id, created_at)
    SELECT (lpad(to_hex(1710000000000 + i), 12, '0') || substr(md5(i::text), 1, 20))::uuid, owners.user_id,
           'DEVICE' || i, to_timestamp((1710000000000 + i) / 1000.0)
      FROM generate_series(1, ${n}) AS i JOIN owners ON owners.u = 1 + (i % (SELECT count(*) FROM owners))
    RETURNING compat_session_id, device_id, created_at
  ), compat_tokens AS (
    INSERT INTO compat_access_tokens (compat_access_token_id, compat_session_id, access_token, created_at)
    SELECT (lpad(to_hex(1720000000000 + substr(device_id, 7)::bigint), 12, '0') || substr(md5(device_id), 1, 20))::uuid,
           compat_session_id, 'compat-' || substr(device_id, 7), created_at
      FROM compat
  ), personal AS (
    INSERT INTO personal_sessions (personal_session_id, owner_user_id, actor_user_id, human_name, scope_list, created_at)
    SELECT (lpad(to_hex(1730000000000 + i), 12, '0') || substr(md5(i::text), 1, 20))::uuid, owners.user_id,
           owners.user_id, 'token ' || i, ARRAY['urn:matrix:client:api:*'], to_timestamp((1730000000000 + i) / 1000.0)
      FROM generate_series(1, ${n}) AS i JOIN owners ON owners.u = 1 + (i % (SELECT count(*) FROM owners))
    RETURNING personal_session_id, human_name, created_at
  )
  INSERT INTO personal_access_tokens (personal_access_token_id, personal_session_id, access_token_sha256, created_at)
  SELECT (lpad(to_hex(1740000000000 + substr(human_name, 7)::bigint), 12, '0') || substr(md5(human_name), 1, 20))::uuid,
         personal_session_id, sha256(convert_to('personal-' || substr(human_name, 7), 'UTF8')), created_at
    FROM personal`

/** A lookup that must find its row: a miss is a defect of the bench, not a result. */
const mustFind =
  (what: string) =>
  <E, R>(lookup: Effect.Effect<Option.Option<unknown>, E, R>) =>
    Effect.flatMap(lookup, (found) => (Option.isSome(found) ? Effect.void : Effect.die(new Error(`no ${what}`))))

/**
 * (a) for the token hot paths, each against raw pg with the same rounds and rows as the user calls: every
 * authenticated request makes one of these lookups. `OAuth2AccessToken.findByToken` and
 * `CompatAccessToken.findByToken` look text up; `PersonalAccessToken.findByToken` hashes its input first (the raw
 * calls pass the digest, so the hashing is part of what the repository's column measures).
 */
export const benchTokenLookups = async (url: string, options: RepositoryOptions): Promise<ReadonlyArray<Row>> => {
  const runtime = pgRuntime(url)
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE })
  pool.on("error", ignoreClosingConnection)
  try {
    await runtime.runtime()
    await pool.query(seedAccessTokensSql(options.seededUsers))
    await pool.query(seedLegacyAndPersonalTokensSql(options.seededUsers))
    await pool.query("VACUUM ANALYZE oauth2_access_tokens, compat_access_tokens, personal_access_tokens")
    const spread = (i: number) => ((i * 7919) % options.seededUsers) + 1
    const oauth2 = (i: number) => `token-${spread(i)}`
    const compat = (i: number) => `compat-${spread(i)}`
    const personal = (i: number) => `personal-${spread(i)}`
    const digest = (i: number) => createHash("sha256").update(personal(i), "utf8").digest()
    const lookup = (name: string, value: (i: number) => unknown) => {
      const text = staticText(name)
      return {
        raw: (p: pg.Pool, i: number) => p.query(text, [value(i)]),
        named: (p: pg.Pool, i: number) => p.query({ name, text, values: [value(i)] })
      }
    }
    const operations: ReadonlyArray<RawOperation> = [
      {
        name: "OAuth2AccessToken.findByToken",
        weight: 1,
        repo: (i) =>
          Effect.flatMap(RepositoryAccess, (r) => mustFind(oauth2(i))(r.oauth2AccessTokens.findByToken(oauth2(i)))),
        ...lookup("oauth2AccessToken.findByToken", oauth2)
      },
      {
        name: "CompatAccessToken.findByToken",
        weight: 1,
        repo: (i) =>
          Effect.flatMap(RepositoryAccess, (r) => mustFind(compat(i))(r.compatAccessTokens.findByToken(compat(i)))),
        ...lookup("compatAccessToken.findByToken", compat)
      },
      {
        name: "PersonalAccessToken.findByToken",
        weight: 1,
        repo: (i) =>
          Effect.flatMap(RepositoryAccess, (r) =>
            mustFind(personal(i))(r.personalAccessTokens.findByToken(personal(i)))
          ),
        ...lookup("personalAccessToken.findByToken", digest)
      }
    ]
    await checkSameTexts(runtime, pool, operations)
    return await benchRaw(url, pool, runtime, operations, options)
  } finally {
    await pool.end()
    await runtime.dispose()
  }
}

const batchSize = (options: RepositoryOptions, concurrency: number, op: RawOperation) =>
  Math.max(concurrency, Math.round(options.ops[concurrency]! * op.weight))

/** (a): repository without and with a tracer, raw pg unnamed and named, in the same rounds. */
const benchRaw = async (
  url: string,
  pool: pg.Pool,
  runtime: RepositoryRuntime,
  operations: ReadonlyArray<RawOperation>,
  options: RepositoryOptions
): Promise<ReadonlyArray<Row>> => {
  const recording = recordingTracer()
  const tracedRuntime = pgRuntime(url, { tracer: recording.tracer })
  const unpreparedRuntime = pgRuntime(url, { preparedStatements: false })
  try {
    // Refuse a tracer that sees nothing: the "with a tracer" rows would then measure the untraced path.
    const before = recording.counts.started
    await tracedRuntime.runPromise(operations[0]!.repo(0))
    if (recording.counts.started === before) throw new Error("the installed tracer received no span")

    const rows: Array<Row> = []
    for (const concurrency of CONCURRENCIES) {
      for (const op of operations) {
        const n = batchSize(options, concurrency, op)
        let tracedCalls = 0
        const spansBefore = recording.counts.started
        const result = await interleaveAll(options.rounds, {
          repo: runEffects(runtime, concurrency, n, op.repo),
          traced: () => {
            tracedCalls += n
            return runEffects(tracedRuntime, concurrency, n, op.repo)()
          },
          unprepared: runEffects(unpreparedRuntime, concurrency, n, op.repo),
          raw: runPromises(concurrency, n, (i) => op.raw(pool, i)),
          named: runPromises(concurrency, n, (i) => op.named(pool, i))
        })
        const spansPerCall = (recording.counts.started - spansBefore) / tracedCalls
        const perOp = (runs: ReadonlyArray<number>) => `${fmtUs(median(runs) / n)}/op`
        const name = `${op.name}, concurrency ${concurrency}`
        // the goals: ≤ 1.10× at concurrency 1, ≤ 1.25× at 16, whichever way the repository runs
        const limit = concurrency === 1 ? 1.1 : 1.25
        const againstRaw = (key: "repo" | "traced" | "unprepared", label: string, detail = "") =>
          ratioRow(
            {
              section: "a",
              name: `${name}, ${label}`,
              a: `repository ${perOp(result[key])}${detail}`,
              b: `raw pg ${perOp(result.raw)}`,
              target: `≤ ${limit.toFixed(2)}×`
            },
            pairOf(result, key, "raw"),
            limit
          )
        rows.push(
          againstRaw("repo", "no tracer"),
          againstRaw("traced", "with a tracer", `, ${spansPerCall.toFixed(1)} spans/call`),
          againstRaw("unprepared", "no tracer, prepared statements off"),
          ratioRow(
            {
              section: "a",
              name: `${name}, raw pg named (prepared) statement`,
              a: `named ${perOp(result.named)}`,
              b: `unnamed ${perOp(result.raw)}`,
              target: "(the limit)"
            },
            pairOf(result, "named", "raw"),
            undefined
          )
        )
      }
    }
    return rows
  } finally {
    await tracedRuntime.dispose()
    await unpreparedRuntime.dispose()
  }
}

/** (a′): the repository against Kysely, Drizzle and SqlSchema, in the same rounds; target: at least as fast as each. */
const benchPeers = async (
  url: string,
  pool: pg.Pool,
  runtime: RepositoryRuntime,
  operations: ReadonlyArray<Operation>,
  options: RepositoryOptions
): Promise<ReadonlyArray<Row>> => {
  // Kysely and Drizzle share the raw side's pool (one of them runs at a time), which keeps the connection count
  // under the server's limit with the two Effect runtimes open.
  const kysely = kyselyCalls(pool)
  const drizzle = drizzleCalls(pool)
  const schemaRuntime = sqlSchemaRuntime(url, POOL_SIZE)
  try {
    const sqlSchema = await schemaRuntime.runPromise(sqlSchemaEffects)
    const peers = [
      { key: "kysely", label: "Kysely", calls: kysely },
      { key: "drizzle", label: "Drizzle", calls: drizzle }
    ] as const

    // Same answers as the repository (same entities, same page), or the comparison would not be fair.
    for (const op of operations) {
      const expected = op.answer(await runtime.runPromise(op.repo(1)))
      const answers = [
        ...(await Promise.all(peers.map(async (peer) => [peer.label, await op.peer(peer.calls, 1)] as const))),
        ["SqlSchema", await schemaRuntime.runPromise(op.effect(sqlSchema, 1))] as const
      ]
      for (const [label, answer] of answers) {
        const got = op.answer(answer)
        if (got !== expected) throw new Error(`${op.name}: ${label} returns ${got}, the repository ${expected}`)
      }
    }

    const rows: Array<Row> = []
    for (const concurrency of CONCURRENCIES) {
      for (const op of operations) {
        const n = batchSize(options, concurrency, op)
        const result = await interleaveAll(options.rounds, {
          repo: runEffects(runtime, concurrency, n, op.repo),
          kysely: runPromises(concurrency, n, (i) => op.peer(kysely, i)),
          drizzle: runPromises(concurrency, n, (i) => op.peer(drizzle, i)),
          sqlSchema: runEffects(schemaRuntime, concurrency, n, (i) => op.effect(sqlSchema, i))
        })
        const perOp = (runs: ReadonlyArray<number>) => `${fmtUs(median(runs) / n)}/op`
        for (const peer of [...peers, { key: "sqlSchema", label: "SqlSchema" } as const]) {
          rows.push(
            ratioRow(
              {
                section: "a′",
                name: `${op.name}, concurrency ${concurrency}, vs ${peer.label}`,
                a: `repository ${perOp(result.repo)}`,
                b: `${peer.label} ${perOp(result[peer.key])}`,
                target: "≤ 1.00×"
              },
              pairOf(result, "repo", peer.key),
              1
            )
          )
        }
      }
    }
    return rows
  } finally {
    await schemaRuntime.dispose()
  }
}
