// The null rule for parameters, without a database: params schemas that accept null against hand-made cache entries.
import { describe, expect, it } from "@effect/vitest"
import { Schema, SchemaAST } from "effect"
import { UlidFromUuid } from "../../src/model/Ulid.js"
import type { AnyStaticQuery } from "../../src/querycheck/declaration.js"
import { type CacheEntry, type MigrationFingerprint, sha256 } from "../../src/querycheck/cache.js"
import { type CheckIssue, checkDeclarations } from "../../src/querycheck/check.js"
import { type CachedParamUse, checkParamNulls } from "../../src/querycheck/paramCheck.js"

const migrations: MigrationFingerprint = { fingerprint: "f".repeat(64), count: 3, latest: "3" }

/** The issues `checkParamNulls` reports for a params tuple over cached parameters. */
const issues = (params: Schema.Schema.AnyNoContext, cached: ReadonlyArray<CachedParamUse>) => {
  const ast = SchemaAST.encodedAST(params.ast)
  if (ast._tag !== "TupleType") throw new Error("a tuple was expected")
  const found: Array<Omit<CheckIssue, "query">> = []
  checkParamNulls(ast.elements, cached, (i) => found.push(i))
  return found
}

describe("parameters that accept null", () => {
  it("compared with = unguarded: an error naming the parameter, the comparison and the fixes", () => {
    const found = issues(Schema.Tuple(UlidFromUuid, Schema.NullOr(UlidFromUuid)), [
      { type: "uuid", comparedWithEquals: "user_id = $1" },
      { type: "uuid", comparedWithEquals: "upstream_oauth_links.user_id = $2" }
    ])
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ severity: "error", kind: "param-null-compared", field: "param $2" })
    expect(found[0]!.message).toMatch(
      /compares \$2 with = or <> \(upstream_oauth_links\.user_id = \$2\), which is never true when \$2 is NULL: make the element non-nullable, or guard it in SQL \(\$2::uuid IS NULL OR …\) or compare with IS NOT DISTINCT FROM \$2/
    )
  })

  it("written into a NOT NULL column: an error naming the column", () => {
    const found = issues(Schema.Tuple(UlidFromUuid, Schema.NullOr(Schema.String), Schema.NullOr(Schema.String)), [
      { type: "uuid", notNullTarget: "users.user_id" },
      { type: "text", notNullTarget: "users.username" },
      // nullable column: no target recorded, nothing to say
      { type: "text" }
    ])
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ severity: "error", kind: "param-null-not-null-column", field: "param $2" })
    expect(found[0]!.message).toMatch(
      /\$2 is written as is into users\.username, which is NOT NULL.*coalesce\(\$2, …\)/
    )
  })

  it("any encoding that accepts null or undefined counts: OptionFromNullOr, UndefinedOr, a union with null", () => {
    const found = issues(
      Schema.Tuple(
        Schema.OptionFromNullOr(Schema.String),
        Schema.UndefinedOr(Schema.Number),
        Schema.Union(Schema.String, Schema.Null),
        Schema.OptionFromSelf(Schema.String)
      ),
      [
        { type: "text", notNullTarget: "t.a" },
        { type: "int4", notNullTarget: "t.b" },
        { type: "text", comparedWithEquals: "c = $3" },
        // an Option itself is no null on the encoded side (the type check is what reports it)
        { type: "text", comparedWithEquals: "d = $4" }
      ]
    )
    expect(found.map((i) => [i.field, i.kind])).toEqual([
      ["param $1", "param-null-not-null-column"],
      ["param $2", "param-null-not-null-column"],
      ["param $3", "param-null-compared"]
    ])
  })

  it("both facts on one parameter give both errors; entries prepared before the rule (no facts) give none", () => {
    const tuple = Schema.Tuple(Schema.NullOr(Schema.DateFromSelf))
    expect(
      issues(tuple, [{ type: "timestamptz", comparedWithEquals: "at = $1", notNullTarget: "t.at" }]).map((i) => i.kind)
    ).toEqual(["param-null-compared", "param-null-not-null-column"])
    expect(issues(tuple, [{ type: "timestamptz" }])).toEqual([])
  })
})

describe("through the offline check", () => {
  const text = "UPDATE users SET username = $2 WHERE user_id = $1"
  const entry = (params: CacheEntry["params"]): CacheEntry => ({
    name: "user.rename",
    text,
    textSha256: sha256(text),
    migrations,
    params,
    columns: []
  })
  const declare = (params: Schema.Schema<any, any>): AnyStaticQuery =>
    ({
      kind: "static",
      name: "user.rename",
      text,
      params,
      row: Schema.Struct({}),
      table: "users"
    }) as unknown as AnyStaticQuery
  const cached = entry([
    { type: "uuid", kind: "base", comparedWithEquals: "user_id = $1" },
    { type: "text", kind: "base", notNullTarget: "users.username" }
  ])
  const check = (query: AnyStaticQuery) =>
    checkDeclarations({
      queries: [query],
      cache: [{ _tag: "Entry", file: "user.rename.json", entry: cached }],
      migrations
    })

  it("reports the rule's errors with the query's name beside the parameter checks", () => {
    const report = check(declare(Schema.Tuple(Schema.NullOr(UlidFromUuid), Schema.NullOr(Schema.String))))
    expect(report.errors.map((e) => [e.query, e.field, e.kind])).toEqual([
      ["user.rename", "param $1", "param-null-compared"],
      ["user.rename", "param $2", "param-null-not-null-column"]
    ])
  })

  it("non-nullable elements over the same entry pass", () => {
    const report = check(declare(Schema.Tuple(UlidFromUuid, Schema.String)))
    expect(report.errors).toEqual([])
  })
})
