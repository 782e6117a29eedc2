// The SQL lexer's output expressions and non-null proofs, the type tables, and the `-- next` splitting of `query describe`.
import { describe, expect, it } from "@effect/vitest"
import { Schema, SchemaAST } from "effect"
import { splitQueries } from "../../src/cli/query.js"
import { UlidFromUuid } from "../../src/model/Ulid.js"
import { bindable, driverType, encodedShape, tsTypeOf } from "../../src/querycheck/pgTypes.js"
import {
  type ColumnRef,
  type Nullability,
  nullabilityOf,
  provenNotNull,
  statementShape,
  tokenize,
  withPrefix
} from "../../src/querycheck/sqlText.js"

/** The proof of each output expression of a SELECT or RETURNING list (a star item gives its kind). */
const proofs = (sql: string) => {
  const shape = statementShape(sql)
  return shape.kind === "rows"
    ? shape.items.map((item) => (item.kind === "expression" ? provenNotNull(item.expr) : item.kind))
    : undefined
}

/** The shape of a SELECT or RETURNING statement (fails the test on any other). */
const rows = (sql: string) => {
  const shape = statementShape(sql)
  if (shape.kind !== "rows") throw new Error(`not a rows shape: ${shape.kind}`)
  return shape
}

const NOT_NULL_COLUMN: Nullability = { nullable: false, reason: "NOT NULL column t.a" }
const NULLABLE_COLUMN: Nullability = { nullable: true, reason: "column t.b is nullable" }
/** Nullability of an expression where `a` (and `t.a`) is a NOT NULL column, `b` a nullable one, others unknown. */
const over = (expr: string, grouped = false) =>
  nullabilityOf(tokenize(expr), {
    column: (ref: ColumnRef) =>
      ref.column === "a" ? NOT_NULL_COLUMN : ref.column === "b" ? NULLABLE_COLUMN : undefined,
    grouped
  })

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

  it("stars are items of their own; set operations, VALUES and parenthesised statements have shapes of their own", () => {
    expect(proofs("SELECT * FROM t")).toEqual(["star"])
    expect(proofs("SELECT t.*, 1, (t.c).* FROM t")).toEqual(["star", "literal", "composite-star"])
    expect(rows("SELECT s.t.*, * FROM s.t").items.map((i) => (i.kind === "star" ? i.qualifier : i.kind))).toEqual([
      "t",
      undefined
    ])
    expect(statementShape("SELECT 1 UNION SELECT NULL").kind).toBe("set-operation")
    expect(statementShape("VALUES (1)")).toMatchObject({ kind: "values" })
    expect(proofs("(SELECT 'x' FROM t) ORDER BY 1")).toEqual(["literal"])
    expect(statementShape("SHOW search_path").kind).toBe("other")
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

describe("statement shapes", () => {
  it("set operations: each branch with the WITH clause it sees, the trailing ORDER BY / LIMIT dropped", () => {
    expect(
      statementShape(
        "WITH c AS (SELECT 1 AS a) SELECT a FROM c UNION ALL (SELECT 2) UNION SELECT NULL FROM c ORDER BY 1 LIMIT 3"
      )
    ).toEqual({
      kind: "set-operation",
      operator: "UNION",
      branches: [
        "WITH c AS (SELECT 1 AS a) SELECT a FROM c",
        "WITH c AS (SELECT 1 AS a) SELECT 2",
        "WITH c AS (SELECT 1 AS a) SELECT NULL FROM c"
      ]
    })
    expect(statementShape("SELECT 1 INTERSECT SELECT 2 EXCEPT SELECT 3")).toMatchObject({
      operator: "set operation",
      branches: ["SELECT 1", "SELECT 2", "SELECT 3"]
    })
    // a union inside a subquery or a CTE is not the statement's
    expect(statementShape("SELECT x.a FROM (SELECT 1 AS a UNION SELECT 2) x").kind).toBe("rows")
  })

  it("a WITH prefix merges with the statement's own WITH clause", () => {
    const clause = rows("WITH RECURSIVE a AS (SELECT 1) SELECT 1").with!
    expect(withPrefix(clause, "SELECT * FROM a")).toBe("WITH RECURSIVE a AS (SELECT 1) SELECT * FROM a")
    expect(withPrefix(clause, "WITH b AS (SELECT 2) SELECT * FROM b")).toBe(
      "WITH RECURSIVE a AS (SELECT 1), b AS (SELECT 2) SELECT * FROM b"
    )
    expect(withPrefix(undefined, "SELECT 1")).toBe("SELECT 1")
  })

  it("FROM items: aliases, subqueries, CTE names, functions, and which sides of outer joins are nullable", () => {
    const shape = rows(
      `SELECT 1 FROM (SELECT 1 AS a) AS s (x) LEFT JOIN public.t ON left(t.a, 1) = s.x
       RIGHT JOIN u AS v ON v.id = t.id FULL JOIN w ON true, LATERAL generate_series(1, 2) g, c`
    )
    expect(shape.from!.items).toEqual([
      {
        alias: "s",
        source: { kind: "subquery", body: "SELECT 1 AS a" },
        columns: ["x"],
        outerJoin: "inner side of LEFT JOIN"
      },
      {
        alias: "t",
        source: { kind: "relation", name: "t", qualified: true },
        columns: undefined,
        outerJoin: "inner side of LEFT JOIN"
      },
      {
        alias: "v",
        source: { kind: "relation", name: "u", qualified: false },
        columns: undefined,
        outerJoin: "side of FULL JOIN"
      },
      {
        alias: "w",
        source: { kind: "relation", name: "w", qualified: false },
        columns: undefined,
        outerJoin: "side of FULL JOIN"
      },
      { alias: "g", source: { kind: "function" }, columns: undefined, outerJoin: undefined },
      {
        alias: "c",
        source: { kind: "relation", name: "c", qualified: false },
        columns: undefined,
        outerJoin: undefined
      }
    ])
    expect(shape.from!.merges).toBe(false)
    expect(rows("SELECT 1 FROM a JOIN b USING (id)").from!.merges).toBe(true)
    expect(rows("SELECT 1 FROM a NATURAL JOIN b").from!.merges).toBe(true)
    expect(rows("SELECT 1 FROM a JOIN b ON a.id = b.id").from!.items.map((i) => i.outerJoin)).toEqual([
      undefined,
      undefined
    ])
    // an alias on a parenthesised join hides its items: the FROM clause is not read
    expect(rows("SELECT 1 FROM (a JOIN b ON true) AS j").from).toBeUndefined()
  })

  it("UPDATE's FROM and DELETE's USING items come after the target; INSERT has only its target", () => {
    expect(
      rows("UPDATE t AS x SET a = 1 FROM (SELECT 1 AS b) s WHERE x.a IS DISTINCT FROM s.b RETURNING *").from!.items.map(
        (i) => [i.alias, i.source.kind]
      )
    ).toEqual([
      ["x", "relation"],
      ["s", "subquery"]
    ])
    expect(rows("DELETE FROM t USING u WHERE t.a = u.a RETURNING t.a").from!.items.map((i) => i.alias)).toEqual([
      "t",
      "u"
    ])
    expect(rows("INSERT INTO s.t (a) VALUES (1) RETURNING a").from!.items.map((i) => i.alias)).toEqual(["t"])
  })

  it("GROUP BY: none, plain, or grouping sets", () => {
    expect(rows("SELECT max(a) FROM t HAVING count(*) > 1").grouping).toBe("none")
    expect(rows("SELECT a, max(b) FROM t GROUP BY a ORDER BY a").grouping).toBe("plain")
    expect(rows("SELECT a FROM t GROUP BY ROLLUP (a)").grouping).toBe("sets")
    expect(rows("SELECT a FROM t GROUP BY GROUPING SETS ((a), ())").grouping).toBe("sets")
    expect(rows("SELECT count(*) FROM t GROUP BY ()").grouping).toBe("sets")
  })

  it("derived statements keep the WITH clause and FROM … WHERE, and drop GROUP BY … FOR", () => {
    expect(
      rows(
        "WITH c AS (SELECT 1 AS a) SELECT DISTINCT ON (a) max(b) FROM c JOIN t ON true WHERE b = $2 GROUP BY a ORDER BY a FOR UPDATE"
      ).derive(["a", "t.b"])
    ).toBe("WITH c AS (SELECT 1 AS a) SELECT a, t.b FROM c JOIN t ON true WHERE b = $2")
    expect(rows("SELECT coalesce($1, 'x')").derive(["x"])).toBe("SELECT x")
    expect(rows("UPDATE t SET a = $1 WHERE b = $2 RETURNING coalesce(a, b)").derive(["a", "b"])).toBe(
      "UPDATE t SET a = $1 WHERE b = $2 RETURNING a, b"
    )
  })

  it("VALUES rows", () => {
    const shape = statementShape("VALUES (1, NULL), (2, 'x') ORDER BY 1")
    expect(shape.kind === "values" ? shape.rows.map((r) => r.map(provenNotNull)) : undefined).toEqual([
      ["literal", undefined],
      ["literal", "literal"]
    ])
  })
})

describe("nullability of expressions", () => {
  it("coalesce: non-null when any argument is, including a NOT NULL column; else nullable", () => {
    expect(over("coalesce(b, a)")).toEqual({ nullable: false, reason: "coalesce with a non-null argument" })
    expect(over("coalesce(b, t.a, NULL)::text")).toEqual({
      nullable: false,
      reason: "coalesce with a non-null argument"
    })
    expect(over("coalesce(b, c, $1)")).toEqual({
      nullable: true,
      reason: "coalesce: no argument is known to be non-null"
    })
  })

  it("CASE: non-null only with an ELSE and every result non-null", () => {
    expect(over("CASE WHEN b::int > 0 THEN a ELSE 'x' END")).toEqual({
      nullable: false,
      reason: "CASE with every result non-null"
    })
    expect(over("CASE b WHEN 1 THEN CASE WHEN true THEN 1 ELSE 2 END ELSE 3 END::text")).toEqual({
      nullable: false,
      reason: "CASE with every result non-null"
    })
    expect(over("CASE WHEN a > 0 THEN 1 END")).toEqual({
      nullable: true,
      reason: "CASE without ELSE: NULL when no WHEN matches"
    })
    expect(over("CASE WHEN a > 0 THEN 1 WHEN a < 0 THEN b ELSE 0 END")).toEqual({
      nullable: true,
      reason: "CASE THEN 2: column t.b is nullable"
    })
    expect(over("CASE WHEN a > 0 THEN 1 ELSE NULL END")).toEqual({
      nullable: true,
      reason: "CASE ELSE: expression: unknown"
    })
    // the alias after END is not END
    expect(proofs("SELECT CASE WHEN x THEN 1 ELSE 2 END flag FROM t")).toEqual(["CASE with every result non-null"])
  })

  it("a scalar sub-select is nullable even of a literal; EXISTS is not", () => {
    expect(over("(SELECT 1)")).toEqual({ nullable: true, reason: "scalar sub-select" })
    expect(over("((SELECT a FROM t LIMIT 1))::text")).toEqual({ nullable: true, reason: "scalar sub-select" })
    expect(over("coalesce((SELECT b FROM t), 0)")).toEqual({
      nullable: false,
      reason: "coalesce with a non-null argument"
    })
    expect(over("EXISTS (SELECT 1 FROM t)")).toEqual({ nullable: false, reason: "exists" })
  })

  it("aggregates: NULL over no GROUP BY; per group they take their argument's nullability, unless filtered", () => {
    expect(over("max(a)")).toEqual({ nullable: true, reason: "max() over no GROUP BY: NULL on no rows" })
    expect(over("string_agg(a, ',')")).toEqual({
      nullable: true,
      reason: "string_agg() over no GROUP BY: NULL on no rows"
    })
    expect(over("max(a)", true)).toEqual({ nullable: false, reason: "max() per group: NOT NULL column t.a" })
    expect(over("array_agg(DISTINCT a ORDER BY a)", true)).toEqual({
      nullable: false,
      reason: "array_agg() per group: NOT NULL column t.a"
    })
    expect(over("sum(b)", true)).toEqual({ nullable: true, reason: "sum() per group: column t.b is nullable" })
    expect(over("min(a) FILTER (WHERE b > 0)", true)).toEqual({
      nullable: true,
      reason: "min() with FILTER: NULL when no row of a group passes"
    })
    expect(over("max(a) OVER (ORDER BY a ROWS BETWEEN 1 FOLLOWING AND 2 FOLLOWING)", true)).toEqual({
      nullable: true,
      reason: "expression: unknown"
    })
    expect(over("count(b)")).toEqual({ nullable: false, reason: "count(*)" })
  })

  it("a cast keeps its operand's nullability only when it ends the expression", () => {
    expect(over("a::text")).toEqual(NOT_NULL_COLUMN)
    expect(over("a::timestamp with time zone::date")).toEqual(NOT_NULL_COLUMN)
    expect(over("t.a::varchar(10)[]")).toEqual(NOT_NULL_COLUMN)
    expect(over("a::text || NULL").nullable).toBe(true)
    expect(over("a::int IN (1, NULL)").nullable).toBe(true)
    expect(over("b::text")).toEqual(NULLABLE_COLUMN)
  })

  it("ARRAY constructors are never NULL; unknown functions and parameters are", () => {
    expect(over("ARRAY[b]")).toEqual({ nullable: false, reason: "ARRAY constructor" })
    expect(over("ARRAY(SELECT b FROM t)")).toEqual({ nullable: false, reason: "ARRAY constructor" })
    expect(over("lower(a)")).toEqual({ nullable: true, reason: "expression: unknown" })
    expect(over("$1")).toEqual({ nullable: true, reason: "expression: unknown" })
    expect(over("current_timestamp")).toEqual({ nullable: true, reason: "expression: unknown" })
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
