// Dynamic queries from declared pieces: the combinations they enumerate, the statement they send, and the offline check of each combination, without a database.
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { ulidAt, UlidFromUuid, ulidToUuid } from "../../src/model/Ulid.js"
import { countQuery, filter, filteredStatement, nested, pageQuery, piece, slot } from "../../src/pg/dynamic.js"
import { NoRows } from "../../src/pg/query.js"
import { containsCriterion } from "../../src/pg/common/filters.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import {
  type CachedCombination,
  type CacheFile,
  type DynamicCacheEntry,
  type MigrationFingerprint,
  sha256
} from "../../src/querycheck/cache.js"
import { checkDeclarations, formatReport } from "../../src/querycheck/check.js"
import { combinationId, type DynamicDeclaration } from "../../src/querycheck/declaration.js"

interface PetFilter {
  readonly owner?: string
  readonly named?: string
  readonly adopted?: boolean
}

const petFilter = filter<PetFilter>()(
  "PetFilter",
  {
    owner: piece("pets.owner_id = $1", Schema.Tuple(UlidFromUuid)),
    named: containsCriterion("pets.name"),
    adopted: piece("pets.adopted_at IS NOT NULL"),
    notAdopted: piece("pets.adopted_at IS NULL")
  },
  (f, use) => [
    f.owner !== undefined && use.owner(f.owner as never),
    f.named !== undefined && use.named(f.named),
    f.adopted === true && use.adopted(),
    f.adopted === false && use.notAdopted()
  ]
)

interface OwnerFilter {
  readonly pets?: PetFilter
}

const ownerFilter = filter<OwnerFilter>()(
  "OwnerFilter",
  { pets: nested("EXISTS (SELECT 1 FROM pets WHERE pets.owner_id = owners.id AND ", petFilter, ")") },
  (f, use) => [f.pets !== undefined && use.pets(f.pets)]
)

const PetRow = Schema.Struct({ id: UlidFromUuid, name: Schema.String, adopted_at: Schema.NullOr(Schema.DateFromSelf) })

const list = pageQuery({
  description: "pets matching a PetFilter, one keyset page",
  row: PetRow,
  select: "SELECT id, name, adopted_at FROM pets",
  slots: { filter: petFilter },
  where: "filter",
  keyset: "pets.id"
})("pet.list", "pets")

const count = countQuery({
  description: "number of owners matching an OwnerFilter",
  from: "owners",
  slots: { filter: ownerFilter },
  where: "filter"
})("owner.count", "owners")

const union = countQuery({
  description: "pets and owners, each by its filter",
  from: [
    "(SELECT 1 FROM pets WHERE ",
    slot("pets"),
    " UNION ALL SELECT 1 FROM owners WHERE ",
    slot("owners"),
    ") AS u"
  ],
  slots: { pets: petFilter, owners: ownerFilter }
})("both.count", "pets")

const adoptAll = filteredStatement({
  description: "stamps adopted_at on the pets matching a PetFilter",
  text: "UPDATE pets SET adopted_at = $1",
  params: Schema.Tuple(Schema.DateFromSelf),
  row: NoRows,
  slots: { filter: petFilter },
  where: "filter"
})("pet.adoptAll", "pets")

const texts = (q: DynamicDeclaration) => Object.fromEntries(q.combinations.map((c) => [combinationId(c), c.text]))

describe("declared dynamic queries", () => {
  it("a page query enumerates no criterion, each alone, all together, and all under every pagination form", () => {
    expect(list.combinations.map(combinationId)).toEqual([
      "none · first",
      "owner · first",
      "named · first",
      "adopted · first",
      "notAdopted · first",
      "all · first",
      "all · first after",
      "all · first before",
      "all · first after before",
      "all · last",
      "all · last after",
      "all · last before",
      "all · last after before"
    ])
    const t = texts(list)
    expect(t["none · first"]).toBe("SELECT id, name, adopted_at FROM pets ORDER BY pets.id ASC LIMIT $1")
    expect(t["named · first"]).toBe(
      "SELECT id, name, adopted_at FROM pets WHERE (pets.name ILIKE $1 ESCAPE '\\') ORDER BY pets.id ASC LIMIT $2"
    )
    // each piece's $1 renumbered after the pieces before it
    expect(t["all · last after before"]).toBe(
      "SELECT id, name, adopted_at FROM pets WHERE (pets.owner_id = $1) AND (pets.name ILIKE $2 ESCAPE '\\') AND (pets.adopted_at IS NOT NULL) AND (pets.adopted_at IS NULL) AND (pets.id > $3) AND (pets.id < $4) ORDER BY pets.id DESC LIMIT $5"
    )
    const all = list.combinations.find((c) => combinationId(c) === "all · last after before")!
    expect((all.params as unknown as { elements: ReadonlyArray<unknown> }).elements).toHaveLength(5)
  })

  it("a nested filter is rendered inside its criterion, with every criterion of the inner filter", () => {
    expect(texts(count)).toEqual({
      none: "SELECT COUNT(*) AS count FROM owners",
      pets: "SELECT COUNT(*) AS count FROM owners WHERE (EXISTS (SELECT 1 FROM pets WHERE pets.owner_id = owners.id AND (pets.owner_id = $1) AND (pets.name ILIKE $2 ESCAPE '\\') AND (pets.adopted_at IS NOT NULL) AND (pets.adopted_at IS NULL)))",
      all: "SELECT COUNT(*) AS count FROM owners WHERE (EXISTS (SELECT 1 FROM pets WHERE pets.owner_id = owners.id AND (pets.owner_id = $1) AND (pets.name ILIKE $2 ESCAPE '\\') AND (pets.adopted_at IS NOT NULL) AND (pets.adopted_at IS NULL)))"
    })
  })

  it("a query with several filter slots names each criterion by its slot; an empty slot reads TRUE", () => {
    const t = texts(union)
    expect(Object.keys(t)).toEqual([
      "none",
      "pets.owner",
      "pets.named",
      "pets.adopted",
      "pets.notAdopted",
      "owners.pets",
      "all"
    ])
    expect(t["none"]).toBe(
      "SELECT COUNT(*) AS count FROM (SELECT 1 FROM pets WHERE TRUE UNION ALL SELECT 1 FROM owners WHERE TRUE) AS u"
    )
    expect(t["owners.pets"]).toMatch(/FROM pets WHERE TRUE UNION ALL SELECT 1 FROM owners WHERE \(EXISTS .*\$1.*\$2/)
  })

  it("the statement's own parameters keep $1…; the filter's come after them", () => {
    expect(texts(adoptAll)["owner"]).toBe("UPDATE pets SET adopted_at = $1 WHERE (pets.owner_id = $2)")
    expect(texts(adoptAll)["none"]).toBe("UPDATE pets SET adopted_at = $1")
  })

  it("the statement sent has the text of the matching combination and the encoded values", () => {
    const owner = ulidAt(1, new Uint8Array(10))
    const cursor = ulidAt(2, new Uint8Array(10))
    const sent = Either.getOrThrow(
      list.statement(
        { filter: { owner, named: "50%" } },
        Pagination.first(10).pipe(Either.getOrThrow).withAfter(cursor)
      )
    )
    expect(sent.text).toBe(
      "SELECT id, name, adopted_at FROM pets WHERE (pets.owner_id = $1) AND (pets.name ILIKE $2 ESCAPE '\\') AND (pets.id > $3) ORDER BY pets.id ASC LIMIT $4"
    )
    expect(sent.values).toEqual([ulidToUuid(owner), "%50\\%%", ulidToUuid(cursor), 11])
    const one = Either.getOrThrow(
      list.statement({ filter: { adopted: true } }, Pagination.first(5).pipe(Either.getOrThrow))
    )
    expect(one.text).toBe(texts(list)["adopted · first"])
    const written = Either.getOrThrow(adoptAll.statement({ filter: { adopted: false } }, new Date(0)))
    expect(written).toEqual({ text: texts(adoptAll)["notAdopted"], values: [new Date(0)] })
  })

  it("a value its piece's schema cannot encode is an InvalidOperationError, and nothing is sent", () => {
    const refused = list.statement({ filter: { owner: "not a ulid" } }, Pagination.first(5).pipe(Either.getOrThrow))
    expect(Either.isLeft(refused) && refused.left._tag).toBe("InvalidOperationError")
  })
})

// ---------------------------------------------------------------------------------------------------------------

const migrations: MigrationFingerprint = { fingerprint: "f".repeat(64), count: 3, latest: "3" }

const petColumns = [
  { name: "id", type: "uuid", kind: "base" as const, nullable: false, reason: "NOT NULL column pets.id" },
  { name: "name", type: "text", kind: "base" as const, nullable: false, reason: "NOT NULL column pets.name" },
  {
    name: "adopted_at",
    type: "timestamptz",
    kind: "base" as const,
    nullable: true,
    reason: "column pets.adopted_at is nullable"
  }
]

/** The parameter types a describe gives: uuid for the owner and the cursors, text for the pattern, int8 for LIMIT. */
const paramTypes = (text: string) =>
  [...text.matchAll(/\$\d+/g)].map((m) => {
    const before = text.slice(0, m.index)
    return { type: /LIMIT $/.test(before) ? "int8" : /ILIKE $/.test(before) ? "text" : "uuid", kind: "base" as const }
  })

/** What a prepare would have written for `list`: every combination, as described. */
const faithful = (): Array<CachedCombination> =>
  list.combinations.map((c) => ({
    criteria: c.criteria,
    ...(c.pagination === undefined ? {} : { pagination: c.pagination }),
    text: c.text,
    textSha256: sha256(c.text),
    params: paramTypes(c.text),
    columns: petColumns
  }))

const entryFile = (combinations: ReadonlyArray<CachedCombination>): CacheFile => {
  const entry: DynamicCacheEntry = { name: "pet.list", kind: "dynamic", migrations, combinations }
  return { _tag: "Entry", file: "pet.list.json", entry }
}

const check = (files: ReadonlyArray<CacheFile>) => checkDeclarations({ queries: [list], cache: files, migrations })

describe("the offline check of a dynamic query", () => {
  it("checks every combination against its cached description", () => {
    const report = check([entryFile(faithful())])
    expect(report.errors, formatReport(report)).toEqual([])
    expect(report.totals).toMatchObject({ statements: 13, dynamic: 13, checked: 13, stale: 0, unchecked: 0 })
    expect(formatReport(report, { all: true })).toMatch(/^checked {2}pet\.list \[all · last after before\]$/m)
  })

  it("a piece whose text changed since the prepare makes the combinations using it stale, by name", () => {
    const cached = faithful().map((c) =>
      c.criteria === "named" || c.criteria === "all" ? { ...c, textSha256: sha256(c.text.replace("ILIKE", "LIKE")) } : c
    )
    const report = check([entryFile(cached)])
    expect(report.errors.map((e) => [e.kind, e.query, e.combination])).toEqual([
      ["text-changed", "pet.list", "named · first"],
      ...[
        "first",
        "first after",
        "first before",
        "first after before",
        "last",
        "last after",
        "last before",
        "last after before"
      ].map((p) => ["text-changed", "pet.list", `all · ${p}`])
    ])
    expect(report.totals).toMatchObject({ checked: 4, stale: 9 })
    expect(formatReport(report)).toMatch(
      /error: pet\.list \[named · first\]: text: the text of this combination changed since the cache was prepared .*run npm run query:prepare/
    )
  })

  it("a combination's column that disagrees with the row schema is named with the query and the criteria", () => {
    const cached = faithful().map((c) =>
      c.criteria === "adopted"
        ? {
            ...c,
            columns: petColumns.map((col) =>
              col.name === "name" ? { ...col, nullable: true, reason: "inner side of LEFT JOIN" } : col
            )
          }
        : c
    )
    const report = check([entryFile(cached)])
    expect(report.errors).toHaveLength(1)
    expect(report.errors[0]).toMatchObject({
      kind: "column-nullable",
      query: "pet.list",
      combination: "adopted · first",
      field: "column name"
    })
    expect(report.totals).toMatchObject({ checked: 12, failed: 1 })
  })

  it("a parameter whose type disagrees with its piece's schema is named with the combination", () => {
    const cached = faithful().map((c) =>
      c.criteria === "owner" ? { ...c, params: [{ type: "int4", kind: "base" as const }, c.params[1]!] } : c
    )
    const report = check([entryFile(cached)])
    expect(report.errors.map((e) => [e.kind, e.combination, e.field])).toEqual([
      ["param-type", "owner · first", "param $1"]
    ])
  })

  it("a combination missing from the cache, or one the declaration no longer makes, is an error", () => {
    const cached = faithful()
    const withoutOne = cached.filter((c) => c.criteria !== "adopted")
    const extra = { ...cached[0]!, criteria: "gone" }
    const report = check([entryFile([...withoutOne, extra])])
    expect(report.errors.map((e) => [e.kind, e.combination])).toEqual([
      ["missing-combination", "adopted · first"],
      ["orphan-combination", "gone · first"]
    ])
    expect(report.totals).toMatchObject({ stale: 1, checked: 12 })
  })

  it("no cache file: every combination is unchecked; a static entry in its place is stale", () => {
    expect(check([]).totals).toMatchObject({ statements: 13, unchecked: 13 })
    const staticEntry: CacheFile = {
      _tag: "Entry",
      file: "pet.list.json",
      entry: { name: "pet.list", migrations, text: "SELECT 1", textSha256: sha256("SELECT 1"), params: [], columns: [] }
    }
    const report = check([staticEntry])
    expect(report.errors.map((e) => e.kind)).toEqual(["invalid-entry"])
    expect(report.totals).toMatchObject({ stale: 13 })
  })
})
