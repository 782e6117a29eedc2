// What the statement's text says of each $n: unguarded `=`/`<>` comparisons and direct writes, from the text alone.
import { describe, expect, it } from "@effect/vitest"
import { paramUses } from "../../src/querycheck/paramUse.js"

/** `$n` → the comparison found, or undefined. */
const compared = (sql: string, count: number) => paramUses(sql, count).map((u) => u.comparedWithEquals)

/** `$n` → the `table.column`s it is written into. */
const written = (sql: string, count: number) =>
  paramUses(sql, count).map((u) => u.writes.map((w) => `${w.table}.${w.column}`))

describe("comparisons with = and <>", () => {
  it("flags =, <> and != with the parameter on either side, cast or parenthesised", () => {
    expect(
      compared(
        "SELECT 1 FROM t WHERE t.a = $1 AND $2::uuid <> b AND c != ($3) AND d = CAST($4 AS text) AND e = $5::timestamp with time zone",
        5
      )
    ).toEqual(["t.a = $1", "$2::uuid <> b", "c != ($3)", "d = cast($4 as text)", "e = $5::timestamp with time zone"])
  })

  it("flags comparisons through lower()/upper() and = ANY($n)", () => {
    expect(compared("SELECT 1 FROM users WHERE lower(username) = lower($1) AND id = ANY($2::uuid[])", 2)).toEqual([
      "lower(username) = lower($1)",
      "id = any($2::uuid[])"
    ])
  })

  it("flags comparisons inside CTEs, subqueries and an ON CONFLICT's WHERE", () => {
    expect(
      compared(
        "WITH x AS (SELECT id FROM t WHERE a = $1) INSERT INTO l (id, w) VALUES ($3, $2) ON CONFLICT (id) DO UPDATE SET w = EXCLUDED.w WHERE l.w = $2",
        3
      )
    ).toEqual(["a = $1", "l.w = $2", undefined])
  })

  it("does not flag a parameter the statement tests with IS NULL or IS NOT NULL", () => {
    expect(
      compared(
        "SELECT 1 FROM t WHERE ($1::timestamptz IS NULL OR t.at >= $1) AND ($2::uuid IS NULL OR t.id = $2) AND ($3 IS NOT NULL AND t.b = $3) AND (($4) ISNULL OR t.c <> $4)",
        4
      )
    ).toEqual([undefined, undefined, undefined, undefined])
  })

  it("does not flag IS [NOT] DISTINCT FROM, other operators, assignments, wrapped values or named arguments", () => {
    expect(
      compared(
        "UPDATE t SET a = $1, (b, c) = ($2, $3) WHERE d IS NOT DISTINCT FROM $4 AND e >= $5 AND f = coalesce($6, f) AND g = h($7) AND i = k(x := $8) AND $9 IS DISTINCT FROM j",
        9
      )
    ).toEqual(Array.from({ length: 9 }, () => undefined))
  })

  it("a guard of another parameter does not guard this one", () => {
    expect(compared("SELECT 1 FROM t WHERE ($1::uuid IS NULL OR a = $1) AND b = $2", 2)).toEqual([undefined, "b = $2"])
  })
})

describe("direct writes", () => {
  it("INSERT column lists: single and multi-row VALUES, schema-qualified and aliased targets, quoted names", () => {
    expect(
      written(
        `INSERT INTO public.users AS u (user_id, "Name", created_at) VALUES ($1, $2, now()), ($3, $4::text, $5) ON CONFLICT DO NOTHING`,
        5
      )
    ).toEqual([
      ["public.users.user_id"],
      ["public.users.Name"],
      ["public.users.user_id"],
      ["public.users.Name"],
      ["public.users.created_at"]
    ])
  })

  it("INSERT … SELECT maps the select list onto the column list", () => {
    expect(
      written(
        "INSERT INTO jobs (id, name, created_at, attempt) SELECT $1, name, $2 AS at, attempt + 1 FROM jobs WHERE id = $3",
        3
      )
    ).toEqual([["jobs.id"], ["jobs.created_at"], []])
  })

  it("UPDATE SET (aliased, multi-column) and ON CONFLICT DO UPDATE SET", () => {
    expect(
      written("UPDATE users u SET locked_at = $2, (a, b) = ROW($3, $4) WHERE u.user_id = $1 RETURNING u.user_id", 4)
    ).toEqual([[], ["users.locked_at"], ["users.a"], ["users.b"]])
    expect(
      written("INSERT INTO leader (id, at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET at = $3, id = EXCLUDED.id", 3)
    ).toEqual([["leader.id"], ["leader.at"], ["leader.at"]])
  })

  it("writes in CTEs count, to each statement's own table", () => {
    expect(
      written(
        "WITH a AS (UPDATE sessions SET finished_at = $2 WHERE user_id = $1 RETURNING 1), b AS (INSERT INTO log (at, who) VALUES ($2, $1)) SELECT count(*) FROM a",
        2
      )
    ).toEqual([["log.who"], ["sessions.finished_at", "log.at"]])
  })

  it("wrapped values, expressions, SELECT * and FOR UPDATE are not direct writes", () => {
    expect(
      written(
        "WITH locked AS (SELECT id FROM t WHERE id = $4 FOR UPDATE) UPDATE t SET a = coalesce($1, a), b = $2 || 'x', c = lower($3) FROM locked WHERE t.id = locked.id",
        4
      )
    ).toEqual([[], [], [], []])
    expect(written("INSERT INTO s (name) SELECT * FROM unnest($1::text[]) AS x(name)", 1)).toEqual([[]])
    expect(written("INSERT INTO s VALUES ($1)", 1)).toEqual([[]])
  })
})
