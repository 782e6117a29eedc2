// One table of pagination cases run through a declared PostgreSQL page query and the in-memory helper: same pages, same flags.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Option, Schema } from "effect"
import { type Ulid, UlidFromUuid } from "../../src/model/Ulid.js"
import { paginate } from "../../src/memory/common/pagination.js"
import { filter, pageQuery, piece } from "../../src/pg/dynamic.js"
import { cursorToUuid, uuidToCursor } from "../../src/pg/common/uuid.js"
import { Page, Pagination } from "../../src/storage/common/Pagination.js"
import { freshDatabaseLayer } from "../support/database.js"

const get = <A, E>(e: Either.Either<A, E>): A => Either.getOrThrowWith(e, (err) => new Error(String(err)))

// Known ids, chosen so that byte order, uuid order and string order are all exercised: the
// extremes, neighbours differing in the last bit, a shared timestamp with different random
// parts, and high bytes (≥ 0x80) that would sort wrongly under a signed comparison.
const uuids = [
  "00000000-0000-0000-0000-000000000000",
  "00000000-0000-0000-0000-000000000001",
  "017f6b2c-3a40-7a1e-9c3b-5b2f0d6e8a11",
  "017f6b2c-3a40-0000-0000-000000000000",
  "017f6b2c-3a40-ffff-ffff-ffffffffffff",
  "017f6b2c-3a41-1234-5678-9abcdef01234",
  "7fffffff-ffff-ffff-ffff-fffffffffffe",
  "80000000-0000-0000-0000-000000000000",
  "c0ffee00-0000-4000-8000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff"
]
const ids = uuids.map((u) => get(uuidToCursor(u)))
const sorted = [...ids].sort()
const at = (i: number) => sorted[i]!
const first = (n: number) => get(Pagination.first(n))
const last = (n: number) => get(Pagination.last(n))
// A cursor that is not a row: strictly between sorted[2] and sorted[3].
const absent = get(uuidToCursor("017f6b2c-3a40-0000-0000-00000000000f"))

interface Case {
  readonly name: string
  readonly pagination: Pagination
  /** Ids kept by the filter (both backends); the pg side uses the same set as a SQL condition. */
  readonly only?: ReadonlyArray<Ulid>
  /** Hand-checked expectation: indexes into `sorted`, and [hasPreviousPage, hasNextPage]. */
  readonly expected: readonly [ReadonlyArray<number>, readonly [boolean, boolean]]
}

const n = sorted.length
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)

const cases: ReadonlyArray<Case> = [
  { name: "first 0", pagination: first(0), expected: [[], [false, true]] },
  {
    name: "first 3",
    pagination: first(3),
    expected: [
      [0, 1, 2],
      [false, true]
    ]
  },
  { name: "first n-1", pagination: first(n - 1), expected: [range(0, n - 1), [false, true]] },
  { name: "first n (exactly all)", pagination: first(n), expected: [range(0, n), [false, false]] },
  { name: "first n+1", pagination: first(n + 1), expected: [range(0, n), [false, false]] },
  { name: "first 100", pagination: first(100), expected: [range(0, n), [false, false]] },
  { name: "last 0", pagination: last(0), expected: [[], [true, false]] },
  {
    name: "last 3",
    pagination: last(3),
    expected: [
      [n - 3, n - 2, n - 1],
      [true, false]
    ]
  },
  { name: "last n", pagination: last(n), expected: [range(0, n), [false, false]] },
  { name: "last n+5", pagination: last(n + 5), expected: [range(0, n), [false, false]] },
  {
    name: "first 3 after #1",
    pagination: first(3).withAfter(at(1)),
    expected: [
      [2, 3, 4],
      [false, true]
    ]
  },
  { name: "first 3 after the last id", pagination: first(3).withAfter(at(n - 1)), expected: [[], [false, false]] },
  {
    name: "first 3 after n-4",
    pagination: first(3).withAfter(at(n - 4)),
    expected: [
      [n - 3, n - 2, n - 1],
      [false, false]
    ]
  },
  {
    name: "last 2 before #5",
    pagination: last(2).withBefore(at(5)),
    expected: [
      [3, 4],
      [true, false]
    ]
  },
  {
    name: "last 2 before #2",
    pagination: last(2).withBefore(at(2)),
    expected: [
      [0, 1],
      [false, false]
    ]
  },
  { name: "last 2 before the first id", pagination: last(2).withBefore(at(0)), expected: [[], [false, false]] },
  {
    name: "first 2 between #1 and #6",
    pagination: first(2).withAfter(at(1)).withBefore(at(6)),
    expected: [
      [2, 3],
      [false, true]
    ]
  },
  {
    name: "last 10 between #1 and #6",
    pagination: last(10).withAfter(at(1)).withBefore(at(6)),
    expected: [
      [2, 3, 4, 5],
      [false, false]
    ]
  },
  {
    name: "last 4 between #1 and #6 (exactly all)",
    pagination: last(4).withAfter(at(1)).withBefore(at(6)),
    expected: [
      [2, 3, 4, 5],
      [false, false]
    ]
  },
  {
    name: "last 3 between #1 and #6",
    pagination: last(3).withAfter(at(1)).withBefore(at(6)),
    expected: [
      [3, 4, 5],
      [true, false]
    ]
  },
  { name: "crossed cursors", pagination: first(5).withAfter(at(6)).withBefore(at(2)), expected: [[], [false, false]] },
  {
    name: "same cursor both sides",
    pagination: last(5).withAfter(at(4)).withBefore(at(4)),
    expected: [[], [false, false]]
  },
  {
    name: "after a cursor that is not a row",
    pagination: first(2).withAfter(absent),
    expected: [
      [3, 4],
      [false, true]
    ]
  },
  {
    name: "before a cursor that is not a row",
    pagination: last(2).withBefore(absent),
    expected: [
      [1, 2],
      [true, false]
    ]
  },
  {
    name: "filter OR-ed conditions, after #1",
    pagination: first(2).withAfter(at(1)),
    only: [at(0), at(3), at(7), at(9)],
    expected: [
      [3, 7],
      [false, true]
    ]
  },
  {
    name: "filter, backward before #9",
    pagination: last(5).withBefore(at(9)),
    only: [at(0), at(3), at(7), at(9)],
    expected: [
      [0, 3, 7],
      [false, false]
    ]
  },
  { name: "filter matching nothing", pagination: first(3), only: [], expected: [[], [false, false]] }
]

interface ItemFilter {
  readonly only?: ReadonlyArray<Ulid>
}

const itemFilter = filter<ItemFilter>()(
  "ItemFilter",
  // Deliberately OR-ed: the page must not let the OR escape the AND with the keyset (`id IS NULL` never holds).
  { only: piece("id = ANY($1) OR id IS NULL", Schema.Tuple(Schema.Array(UlidFromUuid))) },
  (f, use) => [f.only !== undefined && use.only(f.only)]
)

const Row = Schema.Struct({ id: Schema.String })

const items = pageQuery({
  description: "items, one keyset page",
  row: Row,
  select: "SELECT id FROM items",
  slots: { filter: itemFilter },
  where: "filter",
  keyset: "id"
})("test.items", "items")

interface TagFilter {
  readonly tag?: string
}

const taggedItems = pageQuery({
  description: "items joined with their tag, one keyset page",
  row: Schema.Struct({ id: Schema.String, tag: Schema.String }),
  select: "SELECT i.id, t.tag FROM items i JOIN tags t ON t.item_id = i.id",
  slots: {
    filter: filter<TagFilter>()("TagFilter", { tag: piece("t.tag = $1", Schema.Tuple(Schema.String)) }, (f, use) => [
      f.tag !== undefined && use.tag(f.tag)
    ])
  },
  where: "filter",
  keyset: "i.id"
})("test.taggedItems", "items")

const missingTable = pageQuery({
  description: "a table that does not exist",
  row: Row,
  select: "SELECT id FROM no_such_table",
  slots: {},
  keyset: "id"
})("test.missing", "no_such_table")

const summary = (page: Page<Ulid>) => ({
  cursors: page.cursors,
  nodes: page.nodes,
  flags: [page.hasPreviousPage, page.hasNextPage]
})

layer(freshDatabaseLayer())("keyset pagination on both backends", (it) => {
  it.effect("ULID and uuid order agree, and the conversion round-trips", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{
        id: string
      }>`SELECT u::uuid::text AS id FROM unnest(${uuids}::text[]) AS u ORDER BY u::uuid`
      expect(rows.map((r) => get(uuidToCursor(r.id)))).toEqual(sorted)
      for (const u of uuids) expect(get(cursorToUuid(get(uuidToCursor(u))))).toBe(u)
      expect(get(uuidToCursor("ffffffff-ffff-ffff-ffff-ffffffffffff"))).toBe("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
      expect(get(cursorToUuid("01ARZ3NDEKTSV4RRFFQ69G5FAV"))).toBe(get(cursorToUuid("01arz3ndektsv4rrffq69g5fav")))
      expect(Either.isLeft(cursorToUuid("81ARZ3NDEKTSV4RRFFQ69G5FAV"))).toBe(true)
      expect(Either.isLeft(cursorToUuid("01ARZ3NDEKTSV4RRFFQ69G5FAU"))).toBe(true)
      expect(Either.isLeft(uuidToCursor("not-a-uuid"))).toBe(true)
    })
  )

  it.effect("the same cases give the same pages", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE items (id uuid PRIMARY KEY)`
      // Inserted in a scrambled order so a missing ORDER BY would show.
      yield* sql`INSERT INTO items ${sql.insert([...uuids].reverse().map((id) => ({ id })))}`
      for (const c of cases) {
        const only = c.only
        const pgPage = yield* items.page(sql, { filter: only === undefined ? {} : { only } }, c.pagination)
        const memoryRows = only === undefined ? ids : ids.filter((id) => only.includes(id))
        const memoryPage = paginate(memoryRows, c.pagination, (id) => id)
        const pg = summary(pgPage.map((row) => get(uuidToCursor((row as { id: string }).id))))
        const memory = summary(memoryPage)
        expect({ case: c.name, ...pg }).toEqual({ case: c.name, ...memory })
        const [indexes, flags] = c.expected
        expect({ case: c.name, cursors: memory.cursors, flags: memory.flags }).toEqual({
          case: c.name,
          cursors: indexes.map(at),
          flags
        })
      }
    })
  )

  it.effect("a qualified id column and a join work, and a bad cursor is a typed error", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE tags (item_id uuid NOT NULL, tag text NOT NULL)`
      yield* sql`INSERT INTO tags ${sql.insert(uuids.map((id, i) => ({ item_id: id, tag: i % 2 === 0 ? "even" : "odd" })))}`
      const page = (yield* taggedItems.page(sql, { filter: { tag: "even" } }, last(2))).map(
        (row) => row as { id: string; tag: string }
      )
      const evens = uuids
        .filter((_, i) => i % 2 === 0)
        .map((u) => get(uuidToCursor(u)))
        .sort()
      expect(page.cursors).toEqual(evens.slice(-2))
      expect(page.nodes.every((r) => r.tag === "even")).toBe(true)
      expect(page.hasPreviousPage).toBe(true)

      const bad = yield* Effect.flip(items.page(sql, { filter: {} }, first(1).withAfter("not a ulid" as Ulid)))
      expect(bad._tag).toBe("InvalidOperationError")
      const missing = yield* Effect.flip(missingTable.page(sql, {}, first(1)))
      expect(missing._tag).toBe("DriverError")
      expect(missing._tag === "DriverError" && missing.sqlState).toEqual(Option.some("42P01"))
    })
  )
})
