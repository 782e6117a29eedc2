// Pagination construction rules, Page.process at the edges, Page.map/tryMap and CleanupResult.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Equal, Exit, Option } from "effect"
import type { Ulid } from "../../src/model/Ulid.js"
import { CleanupResult } from "../../src/storage/common/CleanupResult.js"
import { InvalidPagination, Page, Pagination } from "../../src/storage/common/Pagination.js"

const A = "01ARZ3NDEKTSV4RRFFQ69G5FA1" as Ulid
const B = "01ARZ3NDEKTSV4RRFFQ69G5FA2" as Ulid
const C = "01ARZ3NDEKTSV4RRFFQ69G5FA3" as Ulid
const D = "01ARZ3NDEKTSV4RRFFQ69G5FA4" as Ulid
const E = "01ARZ3NDEKTSV4RRFFQ69G5FA5" as Ulid

const get = <A, E>(e: Either.Either<A, E>): A => Either.getOrThrowWith(e, (err) => new Error(String(err)))
const first = (n: number) => get(Pagination.first(n))
const last = (n: number) => get(Pagination.last(n))
const invalid = <A>(e: Either.Either<A, InvalidPagination>): InvalidPagination => {
  if (Either.isRight(e)) throw new Error("expected an InvalidPagination")
  return e.left
}

describe("Pagination.tryNew", () => {
  it("uses first when given, even with last", () => {
    const p = get(Pagination.tryNew(Option.some(D), Option.some(A), Option.some(10), Option.some(5)))
    expect(p.direction).toBe("forward")
    expect(p.count).toBe(10)
    expect(p.before).toEqual(Option.some(D))
    expect(p.after).toEqual(Option.some(A))
  })

  it("uses last when first is absent", () => {
    const p = get(Pagination.tryNew(Option.none(), Option.none(), Option.none(), Option.some(5)))
    expect(p.direction).toBe("backward")
    expect(p.count).toBe(5)
    expect(p.limit).toBe(6)
  })

  it("fails with InvalidPagination when neither is given", () => {
    const err = invalid(Pagination.tryNew(Option.none(), Option.none(), Option.none(), Option.none()))
    expect(err._tag).toBe("InvalidPagination")
    expect(err.reason).toBe("MissingFirstOrLast")
    expect(err.message).toBe("Either 'first' or 'last' must be specified")
  })

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, -0.5])(
    "refuses count %s",
    (n) => {
      for (const attempt of [
        Pagination.first(n),
        Pagination.last(n),
        Pagination.tryNew(Option.none(), Option.none(), Option.some(n), Option.none()),
        Pagination.tryNew(Option.none(), Option.none(), Option.none(), Option.some(n))
      ]) {
        const err = invalid(attempt)
        expect(err.reason).toBe("InvalidCount")
        expect(err.message).toMatch(/non-negative safe integer/)
      }
    }
  )

  it("checks first even when last is valid (first wins)", () => {
    expect(invalid(Pagination.tryNew(Option.none(), Option.none(), Option.some(-1), Option.some(3))).reason).toBe(
      "InvalidCount"
    )
  })

  it("accepts 0 and the largest safe integer", () => {
    expect(first(0).count).toBe(0)
    expect(last(Number.MAX_SAFE_INTEGER).count).toBe(Number.MAX_SAFE_INTEGER)
    expect(last(Number.MAX_SAFE_INTEGER).limit).toBe(2 ** 53)
  })
})

describe("Pagination shorthands", () => {
  it("set and clear cursors without touching the rest", () => {
    const base = first(3)
    const both = base.withAfter(A).withBefore(E)
    expect(both.after).toEqual(Option.some(A))
    expect(both.before).toEqual(Option.some(E))
    expect(both.count).toBe(3)
    expect(both.direction).toBe("forward")
    expect(base.after).toEqual(Option.none())
    expect(both.clearAfter().after).toEqual(Option.none())
    expect(both.clearAfter().before).toEqual(Option.some(E))
    expect(both.clearBefore().before).toEqual(Option.none())
    expect(both.clearBefore().after).toEqual(Option.some(A))
  })

  it("has pipeable forms and structural equality", () => {
    const piped = Pagination.last(2).pipe(Either.map(Pagination.before(D)), Either.map(Pagination.after(B)))
    expect(Equal.equals(get(piped), last(2).withAfter(B).withBefore(D))).toBe(true)
    expect(Equal.equals(get(piped), last(2).withAfter(B))).toBe(false)
    expect(Equal.equals(first(2), last(2))).toBe(false)
    expect(Equal.equals(Pagination.clearBefore(get(piped)), last(2).withAfter(B))).toBe(true)
    expect(Equal.equals(Pagination.clearAfter(get(piped)), last(2).withBefore(D))).toBe(true)
  })
})

describe("Page.process", () => {
  const id = (s: Ulid) => s

  it("forward, no rows", () => {
    const page = Page.process([], first(3), id)
    expect(page.edges).toEqual([])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, false])
  })

  it("forward, exactly count rows: not full", () => {
    const page = Page.process([A, B, C], first(3), id)
    expect(page.cursors).toEqual([A, B, C])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, false])
  })

  it("forward, count + 1 rows: drops the extra row, has a next page", () => {
    const page = Page.process([A, B, C, D], first(3), id)
    expect(page.cursors).toEqual([A, B, C])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, true])
  })

  it("forward never claims a previous page, even after a cursor", () => {
    const page = Page.process([C, D], first(1).withAfter(B), id)
    expect(page.cursors).toEqual([C])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, true])
  })

  it("backward, count + 1 rows read descending: ascending result, has a previous page", () => {
    const page = Page.process([E, D, C, B], last(3), id)
    expect(page.cursors).toEqual([C, D, E])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([true, false])
  })

  it("backward, exactly count rows: not full, never a next page", () => {
    const page = Page.process([E, D], last(2).withBefore(A), id)
    expect(page.cursors).toEqual([D, E])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, false])
  })

  it("backward, no rows", () => {
    const page = Page.process([], last(2), id)
    expect(page.edges).toEqual([])
    expect([page.hasPreviousPage, page.hasNextPage]).toEqual([false, false])
  })

  it("count 0 with one row read: an empty but full page", () => {
    expect(Page.process([A], first(0), id)).toMatchObject({ edges: [], hasNextPage: true, hasPreviousPage: false })
    expect(Page.process([A], last(0), id)).toMatchObject({ edges: [], hasNextPage: false, hasPreviousPage: true })
  })

  it("more rows than count + 1 are cut to count", () => {
    expect(Page.process([A, B, C, D, E], first(2), id).cursors).toEqual([A, B])
    expect(Page.process([E, D, C, B, A], last(2), id).cursors).toEqual([D, E])
  })

  it("keeps cursors and builds nodes with nodeOf", () => {
    const rows = [
      { id: A, n: 1 },
      { id: B, n: 2 }
    ]
    const page = Page.process(
      rows,
      first(5),
      (r) => r.id,
      (r) => r.n
    )
    expect(page.edges).toEqual([
      { cursor: A, node: 1 },
      { cursor: B, node: 2 }
    ])
  })
})

describe("Page.map / tryMap", () => {
  const page = Page.process(
    [
      { id: A, n: 1 },
      { id: B, n: 2 },
      { id: C, n: 3 }
    ],
    first(3),
    (r) => r.id,
    (r) => r.n
  )
  const full = new Page(page.edges, true, false)

  it("map keeps cursors and flags", () => {
    const mapped = full.map((n) => `#${n}`)
    expect(mapped.edges).toEqual([
      { cursor: A, node: "#1" },
      { cursor: B, node: "#2" },
      { cursor: C, node: "#3" }
    ])
    expect([mapped.hasPreviousPage, mapped.hasNextPage]).toEqual([false, true])
  })

  it("tryMap with an Either mapper is synchronous and stops at the first failure", () => {
    const ok = full.tryMap((n) => Either.right(n * 10))
    expect(Either.isRight(ok) && ok.right.edges.map((e) => [e.cursor, e.node])).toEqual([
      [A, 10],
      [B, 20],
      [C, 30]
    ])
    expect(Either.isRight(ok) && ok.right.hasNextPage).toBe(true)
    const seen: Array<number> = []
    const bad = full.tryMap((n) => {
      seen.push(n)
      return n === 2 ? Either.left(`bad ${n}`) : Either.right(n)
    })
    expect(bad).toEqual(Either.left("bad 2"))
    expect(seen).toEqual([1, 2])
  })

  it.effect("tryMap with an Effect mapper runs in order and keeps cursors", () =>
    Effect.gen(function* () {
      const mapped = yield* full.tryMap((n) => Effect.succeed(n + 100))
      expect(mapped.edges.map((e) => [e.cursor, e.node])).toEqual([
        [A, 101],
        [B, 102],
        [C, 103]
      ])
      expect(mapped.hasNextPage).toBe(true)
      const failed = yield* Effect.exit(full.tryMap((n) => (n === 3 ? Effect.fail("three") : Effect.succeed(n))))
      expect(failed).toEqual(Exit.fail("three"))
      // Either results mixed with effects: the first Either is handled synchronously, then the rest as effects.
      const mixed = yield* full.tryMap((n) => (n === 1 ? Either.right(-1) : Effect.succeed(n)))
      expect(mixed.nodes).toEqual([-1, 2, 3])
      const empty = yield* Page.empty<number>().tryMap((n) => Effect.succeed(n))
      expect(empty.edges).toEqual([])
    })
  )
})

describe("CleanupResult", () => {
  it("reports the count and greatest key", () => {
    expect(CleanupResult.empty<string>()).toEqual([0, Option.none()])
    expect(CleanupResult.fromKeys([B, D, A])).toEqual([3, Option.some(D)])
    expect(
      CleanupResult.fromKeys([new Date(5), new Date(9), new Date(1)], (a, b) => a.getTime() - b.getTime())
    ).toEqual([3, Option.some(new Date(9))])
    const [count, lastKey] = CleanupResult.make(2, Option.some(C))
    expect(count).toBe(2)
    expect(lastKey).toEqual(Option.some(C))
  })
})
