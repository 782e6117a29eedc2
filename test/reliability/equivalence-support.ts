// What the backend-equivalence fuzz modules share: entity refs, small-pool arbitraries, paging, and outcomes made comparable.
import { Cause, Effect, Either, Exit, FastCheck as fc, Option } from "effect"
import type { Ulid } from "../../src/model/Ulid.js"
import { makeScope, type ScopeToken, type Url } from "../../src/model/values.js"
import { Page, Pagination } from "../../src/storage/common/Pagination.js"

/** Which entity of a kind an operation refers to: an index into the entities seen so far (modulo their number). */
export type Ref = number

export interface Paging {
  readonly direction: "first" | "last"
  readonly count: number
  /** Cursors: an entity of the listed kind, or a random id. */
  readonly after?: Ref | string
  readonly before?: Ref | string
}

export const ref = fc.nat({ max: 9 })
export const fromPool = <T>(pool: ReadonlyArray<T>) => fc.constantFrom(...pool)
/** Offsets within a few seconds of now, on half-second steps so exact boundaries come up. */
export const offset = fc.integer({ min: -8, max: 8 }).map((n) => n * 500)
// A random ULID, not necessarily of a stored row (cursors may point anywhere).
export const randomUlid = fc
  .tuple(fc.constantFrom(..."01"), fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{25}$/))
  .map(([a, b]) => `${a}${b}`)

export const paging: fc.Arbitrary<Paging> = fc.record(
  {
    direction: fc.constantFrom("first" as const, "last" as const),
    count: fc.oneof(fc.nat({ max: 4 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    after: fc.oneof(ref, randomUlid),
    before: fc.oneof(ref, randomUlid)
  },
  { requiredKeys: ["direction", "count"] }
)

export const cleanupLimit = fc.nat({ max: 3 })

/** A plain, JSON-like rendering of a result: Options, Dates, Pages and entity classes made comparable with toEqual. */
export const normalize = (u: unknown): unknown => {
  if (typeof u === "bigint") return `${u}n`
  if (u === null || u === undefined || typeof u !== "object") return u
  if (u instanceof Date) return Number.isNaN(u.getTime()) ? "Invalid Date" : u.toISOString()
  if (u instanceof Map) return { map: [...u.entries()].map(([k, v]) => [normalize(k), normalize(v)]).sort() }
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
export const normalizeError = (e: unknown): unknown => {
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

export const outcome = <R>(effect: Effect.Effect<unknown, unknown, R>) =>
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

export const pick = <T>(list: ReadonlyArray<T>, i: Ref): Option.Option<[T, number]> =>
  list.length === 0 ? Option.none() : Option.some([list[i % list.length]!, i % list.length])

export const SKIPPED = { skipped: true } as const

/** Records the entity a successful call returned in place of the one it was called with. */
export const replacing =
  <T>(list: Array<T>, index: number) =>
  (value: T) => {
    list[index] = value
    return value
  }

export const toPagination = (p: Paging, ids: ReadonlyArray<string>): Pagination => {
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

export const scopeOf = (tokens: ReadonlyArray<string>) => makeScope(tokens as ReadonlyArray<ScopeToken>)
export const url = (text: string) => text as Url

/** Runs `f` on the entity `r` picks from `list`, or skips when there is none. */
export const withEntity = <T, A, E>(
  list: ReadonlyArray<T>,
  r: Ref,
  f: (entity: T, i: number) => Effect.Effect<A, E>
): Effect.Effect<unknown> =>
  Option.match(pick(list, r), { onNone: () => Effect.succeed(SKIPPED), onSome: ([e, i]) => outcome(f(e, i)) })

/** Runs `f` on two entities, or skips when either list is empty. */
export const withEntities = <T, U, A, E>(
  a: readonly [ReadonlyArray<T>, Ref],
  b: readonly [ReadonlyArray<U>, Ref],
  f: (x: T, y: U, i: number) => Effect.Effect<A, E>
): Effect.Effect<unknown> =>
  Option.match(Option.all([pick(a[0], a[1]), pick(b[0], b[1])]), {
    onNone: () => Effect.succeed(SKIPPED),
    onSome: ([[x, i], [y]]) => outcome(f(x, y, i))
  })

export const everything = Either.getOrThrow(Pagination.first(10_000))
