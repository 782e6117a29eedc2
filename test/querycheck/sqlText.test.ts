// The SQL lexer's output expressions and non-null proofs, the type tables, and the `-- next` splitting of `query describe`.
import { describe, expect, it } from "@effect/vitest"
import { Schema, SchemaAST } from "effect"
import { splitQueries } from "../../src/cli/query.js"
import { UlidFromUuid } from "../../src/model/Ulid.js"
import { bindable, driverType, encodedShape, tsTypeOf } from "../../src/querycheck/pgTypes.js"
import { outputExpressions, provenNotNull } from "../../src/querycheck/sqlText.js"

const proofs = (sql: string) => outputExpressions(sql)?.map(provenNotNull)

describe("output expressions", () => {
  it("select list, aliases stripped, commas inside calls kept", () => {
    expect(
      proofs(`SELECT count(*) AS n, coalesce(a, 'x') c, EXISTS (SELECT 1, 2 FROM t) "e!", a.b, 1::int8 FROM t`)
    ).toEqual(["count(*)", "coalesce with a non-null argument", "exists", undefined, "literal"])
  })

  it("WITH clauses are skipped, RETURNING lists are read", () => {
    expect(
      proofs(`WITH x (a) AS (SELECT 1), y AS MATERIALIZED (DELETE FROM t RETURNING 1) SELECT 'a', a FROM x`)
    ).toEqual(["literal", undefined])
    expect(proofs(`INSERT INTO t (a) VALUES ($1) RETURNING a, true AS ok, count(a) OVER ()`)).toEqual([
      undefined,
      "literal",
      "count(*)"
    ])
    expect(proofs(`UPDATE t SET a = 1`)).toEqual([])
  })

  it("gives up on *, set operations and VALUES rather than guess", () => {
    expect(outputExpressions("SELECT * FROM t")).toBeUndefined()
    expect(outputExpressions("SELECT t.* FROM t")).toBeUndefined()
    expect(outputExpressions("SELECT 1 UNION SELECT NULL")).toBeUndefined()
    expect(outputExpressions("VALUES (1)")).toBeUndefined()
  })

  it("comments, strings and quoted identifiers do not confuse it", () => {
    expect(proofs(`SELECT /* from */ 'a, b -- c' AS "x,y", -- FROM\n E'it\\'s', $$ FROM $$ FROM t`)).toEqual([
      "literal",
      "literal",
      "literal"
    ])
  })

  it("NULL, casts of unknown expressions, and coalesce of nullable arguments are not proven", () => {
    expect(proofs("SELECT NULL, a::text, coalesce(a, b), max(a), CAST(1 AS int8), (2), -3 FROM t")).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      "literal",
      "literal",
      "literal"
    ])
  })
})

describe("type tables", () => {
  it("what the driver returns per column type", () => {
    expect(driverType({ type: "int8", kind: "base" })).toBe("string")
    expect(driverType({ type: "int4", kind: "base" })).toBe("number")
    expect(driverType({ type: "timestamptz", kind: "base" })).toBe("Date")
    expect(driverType({ type: "uuid", kind: "base" })).toBe("string")
    expect(driverType({ type: "text[]", kind: "base" })).toBe("string[]")
    // arrays of types pg-types does not know (enums) arrive as array-literal text
    expect(driverType({ type: "mood[]", kind: "enum" })).toBe("string")
    expect(driverType({ type: "jsonb", kind: "base" })).toBe("json")
    expect(tsTypeOf("Date[]")).toBe("ReadonlyArray<Date>")
    expect(tsTypeOf("json")).toBe("unknown")
  })

  it("what a value may be bound to", () => {
    expect(bindable("string", { type: "uuid", kind: "base" })).toBe(true)
    expect(bindable("string", { type: "mood", kind: "enum" })).toBe(true)
    expect(bindable("string", { type: "int8", kind: "base" })).toBe(true)
    expect(bindable("number", { type: "uuid", kind: "base" })).toBe(false)
    expect(bindable("Date", { type: "timestamptz", kind: "base" })).toBe(true)
    expect(bindable("string[]", { type: "uuid[]", kind: "base" })).toBe(true)
    expect(bindable("string[]", { type: "jsonb", kind: "base" })).toBe(false)
    expect(bindable("Uint8Array", { type: "bytea", kind: "base" })).toBe(true)
  })

  it("the encoded side of schemas", () => {
    const shape = (s: Schema.Schema.Any) => encodedShape(SchemaAST.encodedAST(s.ast))
    expect(shape(UlidFromUuid)).toEqual({ kinds: new Set(["string"]), nullable: false })
    expect(shape(Schema.NullOr(Schema.DateFromSelf))).toEqual({ kinds: new Set(["Date"]), nullable: true })
    expect(shape(Schema.NumberFromString)).toEqual({ kinds: new Set(["string"]), nullable: false })
    expect(shape(Schema.Array(Schema.Literal("a", "b")))).toEqual({ kinds: new Set(["string[]"]), nullable: false })
    expect(shape(Schema.Uint8ArrayFromSelf)).toEqual({ kinds: new Set(["Uint8Array"]), nullable: false })
  })
})

describe("query describe input", () => {
  it("splits on a `-- next` line and drops empty pieces and trailing semicolons", () => {
    expect(splitQueries("SELECT 1;\n-- next\nSELECT 2\n  -- NEXT  \n\n-- next\n-- only a comment\n")).toEqual([
      "SELECT 1",
      "SELECT 2"
    ])
  })
})
