// Backend equivalence by random testing: random user-family operation sequences, run on both backends, results compared.
import { SqlClient } from "@effect/sql"
import { Cause, Duration, Effect, Either, Exit, FastCheck as fc, Option, Random, TestClock } from "effect"
import type { TestServices } from "effect/TestServices"
import * as RepositoryAccessMemory from "../../src/memory/RepositoryAccessMemory.js"
import type { BrowserSession, User, UserEmail, UserRegistrationToken } from "../../src/model/user.js"
import type { Ulid } from "../../src/model/Ulid.js"
import * as RepositoryAccessPg from "../../src/pg/RepositoryAccessPg.js"
import type { BrowserSessionFilter } from "../../src/storage/user/BrowserSessionRepository.js"
import { Page, Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess, type RepositoryAccessShape } from "../../src/storage/RepositoryAccess.js"
import type { UserEmailFilter } from "../../src/storage/user/UserEmailRepository.js"
import type { UserRegistrationTokenFilter } from "../../src/storage/user/UserRegistrationTokenRepository.js"
import type { UserFilter } from "../../src/storage/user/UserRepository.js"

/** MAS's test epoch, where every sequence starts. */
export const EPOCH = Date.parse("2022-01-16T14:40:00Z")

// ---------------------------------------------------------------------------------------------
// Operations

/** Which entity of a kind an operation refers to: an index into the entities seen so far (modulo their number). */
type Ref = number

export interface Paging {
  readonly direction: "first" | "last"
  readonly count: number
  /** Cursors: an entity of the listed kind, or a random id. */
  readonly after?: Ref | string
  readonly before?: Ref | string
}

export type Op =
  | { readonly _tag: "tick"; readonly ms: number }
  | { readonly _tag: "userAdd"; readonly name: string }
  | { readonly _tag: "userLookup"; readonly user: Ref }
  | {
      readonly _tag: "userTransition"
      readonly user: Ref
      readonly to: "lock" | "unlock" | "deactivate" | "reactivate"
    }
  | { readonly _tag: "userSetCanRequestAdmin"; readonly user: Ref; readonly value: boolean }
  | { readonly _tag: "userFindByUsername"; readonly name: string }
  | { readonly _tag: "userExists"; readonly name: string }
  | { readonly _tag: "userList"; readonly filter: UserFilter; readonly paging: Paging }
  | { readonly _tag: "userCount"; readonly filter: UserFilter }
  | { readonly _tag: "emailAdd"; readonly user: Ref; readonly email: string }
  | { readonly _tag: "emailLookup"; readonly email: Ref }
  | { readonly _tag: "emailFind"; readonly user: Ref; readonly email: string }
  | { readonly _tag: "emailFindByEmail"; readonly email: string }
  | { readonly _tag: "emailRemove"; readonly email: Ref }
  | {
      readonly _tag: "emailList"
      readonly filter: { readonly user?: Ref; readonly email?: string }
      readonly paging: Paging
    }
  | { readonly _tag: "emailCount"; readonly filter: { readonly user?: Ref; readonly email?: string } }
  | { readonly _tag: "sessionAdd"; readonly user: Ref; readonly userAgent: string | null }
  | { readonly _tag: "sessionLookup"; readonly session: Ref }
  | { readonly _tag: "sessionFinish"; readonly session: Ref }
  | { readonly _tag: "sessionList"; readonly filter: SessionFilterSpec; readonly paging: Paging }
  | { readonly _tag: "sessionCount"; readonly filter: SessionFilterSpec }
  | {
      readonly _tag: "tokenAdd"
      readonly token: string
      readonly usageLimit: number | null
      readonly expiresIn: number | null
    }
  | { readonly _tag: "tokenLookup"; readonly token: Ref }
  | { readonly _tag: "tokenFindByToken"; readonly token: string }
  | { readonly _tag: "tokenChange"; readonly token: Ref; readonly to: "use" | "revoke" | "unrevoke" }
  | { readonly _tag: "tokenList"; readonly filter: TokenFilterSpec; readonly paging: Paging }
  | { readonly _tag: "tokenCount"; readonly filter: TokenFilterSpec }
  | { readonly _tag: "transaction"; readonly ops: ReadonlyArray<Op>; readonly rollback: boolean }

/** Time bounds are offsets in milliseconds from the current (test) time. */
export interface SessionFilterSpec {
  readonly user?: Ref
  readonly state?: "active" | "finished"
  readonly createdBefore?: number
  readonly createdAfter?: number
  readonly lastActiveBefore?: number
  readonly lastActiveAfter?: number
}

export interface TokenFilterSpec {
  readonly at: number
  readonly hasBeenUsed?: boolean
  readonly isRevoked?: boolean
  readonly isExpired?: boolean
  readonly isValid?: boolean
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: small pools of values, so that collisions, case variants and LIKE metacharacters are frequent.

const E_ACUTE_NFC = "\u00e9"
const E_ACUTE_NFD = "e\u0301"

const usernames = [
  "alice",
  "Alice",
  "ALICE",
  "bob",
  "b_b",
  "b%b",
  "a\\b",
  `jos${E_ACUTE_NFC}`,
  `jos${E_ACUTE_NFD}`,
  `JOS${E_ACUTE_NFC}`,
  "ß",
  "SS",
  "İi"
]
const searches = ["", "a", "A", "li", "%", "_", "\\", "b_", "%b", "s\u00e9", "S\u00c9", "e\u0301", "ß", "i"]
const emails = [
  "a@example.com",
  "A@Example.com",
  "b@example.com",
  "a%b@x.org",
  "a_b@x.org",
  "a\\b@x.org",
  `${E_ACUTE_NFC}@x.org`,
  `${E_ACUTE_NFD}@x.org`,
  `${E_ACUTE_NFC.toUpperCase()}@X.ORG`
]
const tokens = ["tok", "TOK", "t%k", "t_k", "t\\k", "other"]
const agents = [null, "Mozilla/5.0", "", "agent\\%_"]

const ref = fc.nat({ max: 9 })
const fromPool = <T>(pool: ReadonlyArray<T>) => fc.constantFrom(...pool)
/** Offsets within a few seconds of now, on half-second steps so exact boundaries come up. */
const offset = fc.integer({ min: -8, max: 8 }).map((n) => n * 500)
// A random ULID, not necessarily of a stored row (cursors may point anywhere).
const randomUlid = fc
  .tuple(fc.constantFrom(..."01"), fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{25}$/))
  .map(([a, b]) => `${a}${b}`)

const paging: fc.Arbitrary<Paging> = fc.record(
  {
    direction: fc.constantFrom("first" as const, "last" as const),
    count: fc.oneof(fc.nat({ max: 4 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    after: fc.oneof(ref, randomUlid),
    before: fc.oneof(ref, randomUlid)
  },
  { requiredKeys: ["direction", "count"] }
)

const userFilter: fc.Arbitrary<UserFilter> = fc.record(
  {
    state: fc.constantFrom("active" as const, "locked" as const, "deactivated" as const),
    canRequestAdmin: fc.boolean(),
    isGuest: fc.boolean(),
    search: fromPool(searches)
  },
  { requiredKeys: [] }
)

const emailFilter = fc.record({ user: ref, email: fromPool(emails) }, { requiredKeys: [] })

const sessionFilter: fc.Arbitrary<SessionFilterSpec> = fc.record(
  {
    user: ref,
    state: fc.constantFrom("active" as const, "finished" as const),
    createdBefore: offset,
    createdAfter: offset,
    lastActiveBefore: offset,
    lastActiveAfter: offset
  },
  { requiredKeys: [] }
)

const tokenFilter: fc.Arbitrary<TokenFilterSpec> = fc.record(
  { at: offset, hasBeenUsed: fc.boolean(), isRevoked: fc.boolean(), isExpired: fc.boolean(), isValid: fc.boolean() },
  { requiredKeys: ["at"] }
)

const simpleOp: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ _tag: fc.constant("tick" as const), ms: fc.constantFrom(1, 499, 500, 1000, 60_000) }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("userAdd" as const), name: fromPool(usernames) }), weight: 5 },
  { arbitrary: fc.record({ _tag: fc.constant("userLookup" as const), user: ref }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("userTransition" as const),
      user: ref,
      to: fc.constantFrom("lock" as const, "unlock" as const, "deactivate" as const, "reactivate" as const)
    }),
    weight: 3
  },
  {
    arbitrary: fc.record({ _tag: fc.constant("userSetCanRequestAdmin" as const), user: ref, value: fc.boolean() }),
    weight: 1
  },
  { arbitrary: fc.record({ _tag: fc.constant("userFindByUsername" as const), name: fromPool(usernames) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("userExists" as const), name: fromPool(usernames) }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("userList" as const), filter: userFilter, paging }), weight: 3 },
  { arbitrary: fc.record({ _tag: fc.constant("userCount" as const), filter: userFilter }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailAdd" as const), user: ref, email: fromPool(emails) }), weight: 4 },
  { arbitrary: fc.record({ _tag: fc.constant("emailLookup" as const), email: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("emailFind" as const), user: ref, email: fromPool(emails) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailFindByEmail" as const), email: fromPool(emails) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailRemove" as const), email: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("emailList" as const), filter: emailFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("emailCount" as const), filter: emailFilter }), weight: 1 },
  {
    arbitrary: fc.record({ _tag: fc.constant("sessionAdd" as const), user: ref, userAgent: fromPool(agents) }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("sessionLookup" as const), session: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionFinish" as const), session: ref }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionList" as const), filter: sessionFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("sessionCount" as const), filter: sessionFilter }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("tokenAdd" as const),
      token: fromPool(tokens),
      usageLimit: fc.oneof(fc.constant(null), fc.nat({ max: 3 })),
      expiresIn: fc.oneof(fc.constant(null), offset)
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("tokenLookup" as const), token: ref }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("tokenFindByToken" as const), token: fromPool(tokens) }), weight: 1 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("tokenChange" as const),
      token: ref,
      to: fc.constantFrom("use" as const, "revoke" as const, "unrevoke" as const)
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("tokenList" as const), filter: tokenFilter, paging }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("tokenCount" as const), filter: tokenFilter }), weight: 1 }
)

export const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: simpleOp, weight: 12 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("transaction" as const),
      ops: fc.array(simpleOp, { minLength: 1, maxLength: 4 }),
      rollback: fc.boolean()
    }),
    weight: 1
  }
)

export interface Sequence {
  readonly seed: number
  readonly ops: ReadonlyArray<Op>
}

// A few entities first, so that most operations have something to act on.
const setup: fc.Arbitrary<ReadonlyArray<Op>> = fc
  .tuple(
    fc.array(fc.record({ _tag: fc.constant("userAdd" as const), name: fromPool(usernames) }), {
      minLength: 1,
      maxLength: 4
    }),
    fc.array(fc.record({ _tag: fc.constant("emailAdd" as const), user: ref, email: fromPool(emails) }), {
      maxLength: 3
    }),
    fc.array(fc.record({ _tag: fc.constant("sessionAdd" as const), user: ref, userAgent: fromPool(agents) }), {
      maxLength: 3
    }),
    fc.array(
      fc.record({
        _tag: fc.constant("tokenAdd" as const),
        token: fromPool(tokens),
        usageLimit: fc.oneof(fc.constant(null), fc.nat({ max: 3 })),
        expiresIn: fc.oneof(fc.constant(null), offset)
      }),
      { maxLength: 2 }
    )
  )
  .map((groups) => groups.flat())

export const sequence: fc.Arbitrary<Sequence> = fc.record({
  seed: fc.integer(),
  ops: fc.tuple(setup, fc.array(op, { minLength: 1, maxLength: 24 })).map(([a, b]) => [...a, ...b])
})

// ---------------------------------------------------------------------------------------------
// Comparable outcomes

/** A plain, JSON-like rendering of a result: Options, Dates, Pages and entity classes made comparable with toEqual. */
export const normalize = (u: unknown): unknown => {
  if (typeof u === "bigint") return `${u}n`
  if (u === null || u === undefined || typeof u !== "object") return u
  if (u instanceof Date) return Number.isNaN(u.getTime()) ? "Invalid Date" : u.toISOString()
  if (Option.isOption(u)) return Option.isSome(u) ? { some: normalize(u.value) } : "none"
  if (Array.isArray(u)) return u.map(normalize)
  if (u instanceof Page) {
    return {
      edges: u.edges.map((e) => [e.cursor, normalize(e.node)]),
      next: u.hasNextPage,
      previous: u.hasPreviousPage
    }
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(u).sort()) out[key] = normalize((u as Record<string, unknown>)[key])
  return out
}

/** Failures by tag and the fields callers branch on (not messages nor driver causes, which differ by design). */
const normalizeError = (e: unknown): unknown => {
  if (typeof e !== "object" || e === null || !("_tag" in e)) return { error: String(e) }
  const error = e as Record<string, unknown>
  switch (error._tag) {
    case "DriverError":
      return { error: "DriverError", sqlState: normalize(error.sqlState), constraint: normalize(error.constraint) }
    case "RowsAffectedError":
      return { error: "RowsAffectedError", expected: error.expected, actual: error.actual }
    case "InconsistencyError":
      return { error: "InconsistencyError", table: error.table, column: normalize(error.column) }
    default:
      return { error: error._tag }
  }
}

const outcome = <R>(effect: Effect.Effect<unknown, unknown, R>) =>
  Effect.map(Effect.exit(effect), (exit) =>
    Exit.match(exit, {
      onSuccess: (value) => ({ ok: normalize(value) }),
      onFailure: (cause) =>
        Either.match(Cause.failureOrCause(cause), {
          onLeft: normalizeError,
          onRight: (c) => ({ defect: Cause.pretty(c).split("\n")[0] })
        })
    })
  )

// ---------------------------------------------------------------------------------------------
// Running a sequence on the RepositoryAccess of the environment

interface Entities {
  users: Array<User>
  emails: Array<UserEmail>
  sessions: Array<BrowserSession>
  tokens: Array<UserRegistrationToken>
}

const pick = <T>(list: ReadonlyArray<T>, i: Ref): Option.Option<[T, number]> =>
  list.length === 0 ? Option.none() : Option.some([list[i % list.length]!, i % list.length])

const SKIPPED = { skipped: true } as const

/** Records the entity a successful call returned in place of the one it was called with. */
const replacing =
  <T>(list: Array<T>, index: number) =>
  (value: T) => {
    list[index] = value
    return value
  }

const toPagination = (p: Paging, ids: ReadonlyArray<string>): Pagination => {
  const base = Either.getOrThrow(p.direction === "first" ? Pagination.first(p.count) : Pagination.last(p.count))
  const cursor = (c: Ref | string | undefined): Option.Option<Ulid> =>
    c === undefined
      ? Option.none()
      : typeof c === "string"
        ? Option.some(c as Ulid)
        : Option.map(pick(ids, c), ([id]) => id as Ulid)
  const after = cursor(p.after)
  const before = cursor(p.before)
  let result = base
  if (Option.isSome(after)) result = result.withAfter(after.value)
  if (Option.isSome(before)) result = result.withBefore(before.value)
  return result
}

const runOp = (repos: RepositoryAccessShape, state: Entities, op: Op): Effect.Effect<unknown, never, TestServices> =>
  Effect.gen(function* () {
    const nowMs = yield* TestClock.currentTimeMillis
    const at = (offsetMs: number) => new Date(nowMs + offsetMs)
    const userIds = state.users.map((u) => u.id)
    const withUser = <A, E>(r: Ref, f: (user: User, i: number) => Effect.Effect<A, E>) =>
      Option.match(pick(state.users, r), {
        onNone: () => Effect.succeed(SKIPPED),
        onSome: ([u, i]) => outcome(f(u, i))
      })
    switch (op._tag) {
      case "tick":
        yield* TestClock.adjust(Duration.millis(op.ms))
        return { ok: op.ms }
      case "userAdd":
        return yield* outcome(Effect.tap(repos.users.add(op.name), (u) => state.users.push(u)))
      case "userLookup":
        return yield* withUser(op.user, (u) => repos.users.lookup(u.id))
      case "userTransition":
        return yield* withUser(op.user, (u, i) => Effect.map(repos.users[op.to](u), replacing(state.users, i)))
      case "userSetCanRequestAdmin":
        return yield* withUser(op.user, (u, i) =>
          Effect.map(repos.users.setCanRequestAdmin(u, op.value), replacing(state.users, i))
        )
      case "userFindByUsername":
        return yield* outcome(repos.users.findByUsername(op.name))
      case "userExists":
        return yield* outcome(repos.users.exists(op.name))
      case "userList":
        return yield* outcome(repos.users.list(op.filter, toPagination(op.paging, userIds)))
      case "userCount":
        return yield* outcome(repos.users.count(op.filter))
      case "emailAdd":
        return yield* withUser(op.user, (u) =>
          Effect.tap(repos.userEmails.add(u, op.email), (e) => state.emails.push(e))
        )
      case "emailLookup":
        return yield* Option.match(pick(state.emails, op.email), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([e]) => outcome(repos.userEmails.lookup(e.id))
        })
      case "emailFind":
        return yield* withUser(op.user, (u) => repos.userEmails.find(u, op.email))
      case "emailFindByEmail":
        return yield* outcome(repos.userEmails.findByEmail(op.email))
      case "emailRemove":
        return yield* Option.match(pick(state.emails, op.email), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([e]) => outcome(repos.userEmails.remove(e))
        })
      case "emailList":
      case "emailCount": {
        const filter: UserEmailFilter = {
          ...(op.filter.user === undefined
            ? {}
            : Option.match(pick(userIds, op.filter.user), { onNone: () => ({}), onSome: ([id]) => ({ user: id }) })),
          ...(op.filter.email === undefined ? {} : { email: op.filter.email })
        }
        return yield* outcome(
          op._tag === "emailList"
            ? repos.userEmails.list(
                filter,
                toPagination(
                  op.paging,
                  state.emails.map((e) => e.id)
                )
              )
            : repos.userEmails.count(filter)
        )
      }
      case "sessionAdd":
        return yield* withUser(op.user, (u) =>
          Effect.tap(repos.browserSessions.add(u, Option.fromNullable(op.userAgent)), (s) => state.sessions.push(s))
        )
      case "sessionLookup":
        return yield* Option.match(pick(state.sessions, op.session), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([s]) => outcome(repos.browserSessions.lookup(s.id))
        })
      case "sessionFinish":
        return yield* Option.match(pick(state.sessions, op.session), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([s, i]) => outcome(Effect.map(repos.browserSessions.finish(s), replacing(state.sessions, i)))
        })
      case "sessionList":
      case "sessionCount": {
        const f = op.filter
        const filter: BrowserSessionFilter = {
          ...(f.user === undefined
            ? {}
            : Option.match(pick(userIds, f.user), { onNone: () => ({}), onSome: ([id]) => ({ user: id }) })),
          ...(f.state === undefined ? {} : { state: f.state }),
          ...(f.createdBefore === undefined ? {} : { createdBefore: at(f.createdBefore) }),
          ...(f.createdAfter === undefined ? {} : { createdAfter: at(f.createdAfter) }),
          ...(f.lastActiveBefore === undefined ? {} : { lastActiveBefore: at(f.lastActiveBefore) }),
          ...(f.lastActiveAfter === undefined ? {} : { lastActiveAfter: at(f.lastActiveAfter) })
        }
        return yield* outcome(
          op._tag === "sessionList"
            ? repos.browserSessions.list(
                filter,
                toPagination(
                  op.paging,
                  state.sessions.map((s) => s.id)
                )
              )
            : repos.browserSessions.count(filter)
        )
      }
      case "tokenAdd":
        return yield* outcome(
          Effect.tap(
            repos.userRegistrationTokens.add(
              op.token,
              Option.fromNullable(op.usageLimit),
              op.expiresIn === null ? Option.none() : Option.some(at(op.expiresIn))
            ),
            (t) => state.tokens.push(t)
          )
        )
      case "tokenLookup":
        return yield* Option.match(pick(state.tokens, op.token), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([t]) => outcome(repos.userRegistrationTokens.lookup(t.id))
        })
      case "tokenFindByToken":
        return yield* outcome(repos.userRegistrationTokens.findByToken(op.token))
      case "tokenChange":
        return yield* Option.match(pick(state.tokens, op.token), {
          onNone: () => Effect.succeed(SKIPPED),
          onSome: ([t, i]) => {
            const tokens = repos.userRegistrationTokens
            const change =
              op.to === "use" ? tokens.useToken(t) : op.to === "revoke" ? tokens.revoke(t) : tokens.unrevoke(t)
            return outcome(Effect.map(change, replacing(state.tokens, i)))
          }
        })
      case "tokenList":
      case "tokenCount": {
        const { at: atOffset, ...criteria } = op.filter
        const filter: UserRegistrationTokenFilter = { now: at(atOffset), ...criteria }
        return yield* outcome(
          op._tag === "tokenList"
            ? repos.userRegistrationTokens.list(
                filter,
                toPagination(
                  op.paging,
                  state.tokens.map((t) => t.id)
                )
              )
            : repos.userRegistrationTokens.count(filter)
        )
      }
      case "transaction": {
        const inner: Array<unknown> = []
        const unit = repos.transaction(
          Effect.gen(function* () {
            for (const o of op.ops) inner.push(yield* runOp(repos, state, o))
            if (op.rollback) return yield* Effect.fail({ _tag: "Rollback" as const })
          })
        )
        const result = yield* outcome(unit)
        return { transaction: result, inner }
      }
    }
  })

const everything = Either.getOrThrow(Pagination.first(10_000))

/** Every row of the four repositories, through their own list methods with an empty filter. */
const finalState = (repos: RepositoryAccessShape) =>
  Effect.gen(function* () {
    const nowMs = yield* TestClock.currentTimeMillis
    return {
      users: yield* outcome(repos.users.list({}, everything)),
      emails: yield* outcome(repos.userEmails.list({}, everything)),
      sessions: yield* outcome(repos.browserSessions.list({}, everything)),
      tokens: yield* outcome(repos.userRegistrationTokens.list({ now: new Date(nowMs) }, everything))
    }
  })

/** Runs the sequence from EPOCH with Random seeded by the sequence: one outcome per operation, then the final state. */
export const runSequence = (
  seq: Sequence
): Effect.Effect<ReadonlyArray<unknown>, never, RepositoryAccess | TestServices> =>
  Effect.gen(function* () {
    yield* TestClock.setTime(EPOCH)
    const repos = yield* RepositoryAccess
    const state: Entities = { users: [], emails: [], sessions: [], tokens: [] }
    const results: Array<unknown> = []
    for (const o of seq.ops) results.push(yield* runOp(repos, state, o))
    results.push({ final: yield* finalState(repos) })
    return results
  }).pipe(Effect.withRandom(Random.make(seq.seed)))

// ---------------------------------------------------------------------------------------------
// Both backends

// The tables the operations write, children first (TRUNCATE of the whole schema costs ~100 ms; these DELETEs ~1 ms).
const touchedTables = ["user_emails", "user_sessions", "user_registration_tokens", "users"]

/** Empties the tables the operations write, so one database serves a whole property run. */
export const emptyTables: Effect.Effect<void, unknown, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  for (const table of touchedTables) yield* sql.unsafe(`DELETE FROM ${table}`)
})

export interface Divergence {
  readonly index: number
  readonly op: Op | "final"
  readonly postgres: unknown
  readonly memory: unknown
}

/** The first operation whose outcomes differ (or the final state), if any. */
export const firstDivergence = (
  seq: Sequence,
  postgres: ReadonlyArray<unknown>,
  memory: ReadonlyArray<unknown>
): Option.Option<Divergence> => {
  for (let i = 0; i < Math.max(postgres.length, memory.length); i++) {
    if (JSON.stringify(postgres[i]) !== JSON.stringify(memory[i])) {
      return Option.some({ index: i, op: seq.ops[i] ?? "final", postgres: postgres[i], memory: memory[i] })
    }
  }
  return Option.none()
}

/**
 * Runs one sequence on PostgreSQL (the SqlClient of the environment, emptied first)
 * and on a fresh in-memory backend, returning both outcome lists.
 */
export const runOnBoth = (seq: Sequence) =>
  Effect.gen(function* () {
    yield* Effect.orDie(emptyTables)
    const postgres = yield* runSequence(seq).pipe(Effect.provide(RepositoryAccessPg.layer))
    const memory = yield* runSequence(seq).pipe(Effect.provide(RepositoryAccessMemory.layer))
    return { postgres, memory, divergence: firstDivergence(seq, postgres, memory) }
  })
