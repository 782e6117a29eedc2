// The statement splitter used to lint `-- no-transaction` migrations.
import { describe, expect, it } from "@effect/vitest"
import { splitStatements } from "../../src/migrate/StatementSplitter.js"

const count = (sql: string) => splitStatements(sql).length

describe("splitStatements", () => {
  it("splits on top-level semicolons and trims", () => {
    expect(splitStatements("SELECT 1;\n  SELECT 2 ;\nSELECT 3")).toEqual(["SELECT 1", "SELECT 2", "SELECT 3"])
  })

  it("drops empty and comment-only segments", () => {
    expect(count("")).toBe(0)
    expect(count(" ;; \n")).toBe(0)
    expect(count("-- only a comment; really\n/* and ; this */")).toBe(0)
    expect(count("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n-- trailing; comment\n")).toBe(1)
  })

  it("ignores semicolons in standard strings, with doubled quotes", () => {
    expect(count("SELECT 'a;b'; SELECT 'it''s; fine'")).toBe(2)
    expect(count("INSERT INTO t VALUES ('x;y;z')")).toBe(1)
  })

  it("treats a backslash as an escape only in E'' strings", () => {
    // E'a\';b' is one string: the statement continues
    expect(count("SELECT E'a\\';b'; SELECT 2")).toBe(2)
    expect(count("SELECT e'a\\';b'")).toBe(1)
    // with standard_conforming_strings, 'a\' ends at the second quote
    expect(count("SELECT 'a\\'; SELECT 2")).toBe(2)
    // an identifier ending in e is not an E-string prefix
    expect(count("SELECT some'x\\'; SELECT 2")).toBe(2)
  })

  it("ignores semicolons in dollar-quoted bodies, matching the tag", () => {
    expect(count("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;")).toBe(1)
    expect(count("DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$; SELECT 1")).toBe(2)
    expect(count("SELECT $a$ x $b$ ; $b$ y $a$")).toBe(1)
  })

  it("does not take parameters or identifiers containing $ for dollar quotes", () => {
    expect(count("PREPARE p(int) AS SELECT $1; EXECUTE p(1)")).toBe(2)
    expect(count("SELECT 1 AS a$b$; SELECT 2;")).toBe(2)
  })

  it("ignores semicolons in quoted identifiers", () => {
    expect(count('CREATE TABLE "a;b" (x int); SELECT 1')).toBe(2)
    expect(count('SELECT 1 AS "x"";y"')).toBe(1)
  })

  it("ignores semicolons in line comments and nested block comments", () => {
    expect(count("SELECT 1 -- a; b\n + 1 /* ; /* nested ; */ still inside ; */ ;")).toBe(1)
    expect(count("SELECT 1 /* a /* b */ c; */; SELECT 2")).toBe(2)
  })

  it("keeps an unterminated quote to the end (PostgreSQL reports the error)", () => {
    expect(count("SELECT 'abc; SELECT 2")).toBe(1)
  })
})
