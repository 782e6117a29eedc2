// The offline check, one test per failure kind: wrong declarations (never registered globally) against hand-made cache entries.
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { UlidFromUuid } from "../../src/model/Ulid.js"
import type { AnyQuery, AnyStaticQuery, DynamicQuery } from "../../src/querycheck/declaration.js"
import {
  type CacheEntry,
  type CacheFile,
  cacheContents,
  type MigrationFingerprint,
  migrationFingerprint,
  sha256,
  writeCache
} from "../../src/querycheck/cache.js"
import {
  checkCacheDir,
  type CheckReport,
  checkDeclarations,
  formatReport,
  requireClean
} from "../../src/querycheck/check.js"

const migrations: MigrationFingerprint = { fingerprint: "f".repeat(64), count: 3, latest: "3" }

/** A declaration as the check reads it. */
const declare = (
  name: string,
  text: string,
  params: Schema.Schema<any, any>,
  row: Schema.Schema<any, any>
): AnyStaticQuery => ({ kind: "static", name, text, params, row, table: "users" }) as unknown as AnyStaticQuery

type Column = CacheEntry["columns"][number]
const col = (name: string, type: string, nullable: boolean, kind: Column["kind"] = "base"): Column => ({
  name,
  type,
  kind,
  nullable,
  reason: nullable ? `column users.${name} is nullable` : `NOT NULL column users.${name}`
})

const entry = (
  name: string,
  text: string,
  params: ReadonlyArray<string>,
  columns: ReadonlyArray<Column>
): CacheEntry => ({
  name,
  text,
  textSha256: sha256(text),
  migrations,
  params: params.map((type) => ({ type, kind: "base" as const })),
  columns
})

const files = (...entries: ReadonlyArray<CacheEntry>): ReadonlyArray<CacheFile> =>
  entries.map((e) => ({ _tag: "Entry", file: `${e.name}.json`, entry: e }))

const lookupText = "SELECT user_id, username, locked_at FROM users WHERE user_id = $1"
const lookupEntry = entry(
  "user.lookup",
  lookupText,
  ["uuid"],
  [col("user_id", "uuid", false), col("username", "text", false), col("locked_at", "timestamptz", true)]
)
const LookupRow = Schema.Struct({
  user_id: UlidFromUuid,
  username: Schema.String,
  locked_at: Schema.NullOr(Schema.DateFromSelf)
})
const lookup = declare("user.lookup", lookupText, Schema.Tuple(UlidFromUuid), LookupRow)

const check = (queries: ReadonlyArray<AnyQuery>, cache: ReadonlyArray<CacheFile>): CheckReport =>
  checkDeclarations({ queries, cache, migrations })

const onlyError = (report: CheckReport) => {
  expect(report.errors).toHaveLength(1)
  return report.errors[0]!
}

describe("offline check", () => {
  it("passes a declaration that matches its entry", () => {
    const report = check([lookup], files(lookupEntry))
    expect(report.errors).toEqual([])
    expect(report.warnings).toEqual([])
    expect(report.totals).toMatchObject({ statements: 1, checked: 1, failed: 0, stale: 0, unchecked: 0 })
  })

  it("missing cache entry", () => {
    const e = onlyError(check([lookup], []))
    expect(e).toMatchObject({ kind: "missing-entry", query: "user.lookup", field: "entry" })
    expect(e.message).toMatch(/no cache entry \(user\.lookup\.json\): run npm run query:prepare/)
  })

  it("unreadable cache file", () => {
    const e = onlyError(check([lookup], [{ _tag: "Invalid", file: "user.lookup.json", detail: "Unexpected token" }]))
    expect(e).toMatchObject({ kind: "invalid-entry", query: "user.lookup" })
    expect(e.message).toMatch(/not a valid entry.*run npm run query:prepare/)
  })

  it("text changed since prepare", () => {
    const changed = declare("user.lookup", `${lookupText} AND locked_at IS NULL`, Schema.Tuple(UlidFromUuid), LookupRow)
    const e = onlyError(check([changed], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "text-changed", query: "user.lookup", field: "text" })
    expect(e.message).toMatch(/SQL text changed.*run npm run query:prepare/)
  })

  it("migration set changed since prepare", () => {
    const report = checkDeclarations({
      queries: [lookup],
      cache: files(lookupEntry),
      migrations: { fingerprint: "0".repeat(64), count: 4, latest: "4" }
    })
    const e = onlyError(report)
    expect(e).toMatchObject({ kind: "migrations-changed", query: "user.lookup", field: "migrations" })
    expect(e.message).toMatch(
      /prepared against 3 migration\(s\) up to 3, but the migrations are now 4 up to 4.*run npm run query:prepare/
    )
  })

  it("parameter count differs", () => {
    const q = declare("user.lookup", lookupText, Schema.Tuple(UlidFromUuid, Schema.String), LookupRow)
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "param-count", query: "user.lookup", field: "params" })
    expect(e.message).toMatch(/SQL has 1 parameter\(s\) .* the params schema has 2 element\(s\)/)
  })

  it("parameter type differs (the encoded side is what is bound)", () => {
    const q = declare("user.lookup", lookupText, Schema.Tuple(Schema.Number), LookupRow)
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "param-type", query: "user.lookup", field: "param $1" })
    expect(e.message).toMatch(/PostgreSQL expects uuid, but the schema's encoded side is number/)
    // a transformation binds its encoded side: UlidFromUuid is a string
    expect(check([lookup], files(lookupEntry)).errors).toEqual([])
  })

  it("parameter mapping: arrays for ANY($1), Date for timestamptz, null always, JSON not for arrays", () => {
    const text = "SELECT user_id FROM users WHERE user_id = ANY($1) AND created_at > $2 AND data @> $3 AND n = $4"
    const e = entry("t.params", text, ["uuid[]", "timestamptz", "jsonb", "int8"], [col("user_id", "uuid", false)])
    const ok = declare(
      "t.params",
      text,
      Schema.Tuple(Schema.Array(UlidFromUuid), Schema.NullOr(Schema.DateFromSelf), Schema.Unknown, Schema.String),
      Schema.Struct({ user_id: Schema.String })
    )
    expect(check([ok], files(e)).errors).toEqual([])
    const bad = declare(
      "t.params",
      text,
      Schema.Tuple(UlidFromUuid, Schema.String, Schema.Array(Schema.String), Schema.Boolean),
      Schema.Struct({ user_id: Schema.String })
    )
    expect(check([bad], files(e)).errors.map((i) => i.field)).toEqual(["param $1", "param $3", "param $4"])
  })

  it("row field without a column", () => {
    const q = declare(
      "user.lookup",
      lookupText,
      Schema.Tuple(UlidFromUuid),
      Schema.Struct({ ...LookupRow.fields, is_guest: Schema.Boolean })
    )
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "field-without-column", query: "user.lookup", field: "column is_guest" })
    expect(e.message).toMatch(/field "is_guest" but the statement returns no such column/)
  })

  it("column without a row field", () => {
    const { locked_at: _, ...rest } = LookupRow.fields
    const q = declare("user.lookup", lookupText, Schema.Tuple(UlidFromUuid), Schema.Struct(rest))
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "column-without-field", query: "user.lookup", field: "column locked_at" })
    expect(e.message).toMatch(/returns a column "locked_at" \(timestamptz\) that the row schema does not declare/)
  })

  it("an empty row schema means the rows are not read: any columns pass", () => {
    const q = declare("user.lookup", lookupText, Schema.Tuple(UlidFromUuid), Schema.Struct({}))
    expect(check([q], files(lookupEntry)).errors).toEqual([])
  })

  it("column type differs from the field's encoded type", () => {
    const q = declare(
      "user.lookup",
      lookupText,
      Schema.Tuple(UlidFromUuid),
      Schema.Struct({ ...LookupRow.fields, username: Schema.Number })
    )
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "column-type", query: "user.lookup", field: "column username" })
    expect(e.message).toMatch(
      /the column is text, which the driver returns as string, but the field's encoded side is number/
    )
  })

  it("int8 arrives as text: a number field over it is an error, a string or NumberFromString field is fine", () => {
    const text = "SELECT count(*) AS n FROM users"
    const e = entry(
      "t.count",
      text,
      [],
      [{ name: "n", type: "int8", kind: "base", nullable: false, reason: "count(*)" }]
    )
    const asNumber = onlyError(
      check([declare("t.count", text, Schema.Tuple(), Schema.Struct({ n: Schema.Number }))], files(e))
    )
    expect(asNumber.message).toMatch(/node-postgres returns int8 as decimal text/)
    expect(
      check([declare("t.count", text, Schema.Tuple(), Schema.Struct({ n: Schema.NumberFromString }))], files(e)).errors
    ).toEqual([])
  })

  it("enum column into literal fields; jsonb into any JSON-shaped field; arrays", () => {
    const text = "SELECT mood, data, tags FROM people"
    const e = entry(
      "t.kinds",
      text,
      [],
      [col("mood", "mood", false, "enum"), col("data", "jsonb", false), col("tags", "text[]", false)]
    )
    const ok = declare(
      "t.kinds",
      text,
      Schema.Tuple(),
      Schema.Struct({
        mood: Schema.Literal("happy", "sad"),
        data: Schema.Struct({ a: Schema.Number }),
        tags: Schema.Array(Schema.String)
      })
    )
    expect(check([ok], files(e)).errors).toEqual([])
    const bad = declare(
      "t.kinds",
      text,
      Schema.Tuple(),
      Schema.Struct({ mood: Schema.Boolean, data: Schema.DateFromSelf, tags: Schema.String })
    )
    expect(check([bad], files(e)).errors.map((i) => i.field)).toEqual(["column mood", "column data", "column tags"])
  })

  it("non-nullable field over a nullable column is an error", () => {
    const q = declare(
      "user.lookup",
      lookupText,
      Schema.Tuple(UlidFromUuid),
      Schema.Struct({ ...LookupRow.fields, locked_at: Schema.DateFromSelf })
    )
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "column-nullable", query: "user.lookup", field: "column locked_at" })
    expect(e.message).toMatch(/can be NULL \(column users\.locked_at is nullable\).*Schema\.NullOr.*AS "locked_at!"/)
  })

  it("nullable field over a NOT NULL column is a warning, not an error", () => {
    const q = declare(
      "user.lookup",
      lookupText,
      Schema.Tuple(UlidFromUuid),
      Schema.Struct({ ...LookupRow.fields, username: Schema.NullOr(Schema.String) })
    )
    const report = check([q], files(lookupEntry))
    expect(report.errors).toEqual([])
    expect(report.warnings).toHaveLength(1)
    expect(report.warnings[0]).toMatchObject({ kind: "field-nullable", query: "user.lookup", field: "column username" })
    expect(report.warnings[0]!.message).toMatch(/never NULL \(NOT NULL column users\.username\)/)
  })

  it("row schema that is not a struct", () => {
    const q = declare("user.lookup", lookupText, Schema.Tuple(UlidFromUuid), Schema.Array(Schema.String))
    const e = onlyError(check([q], files(lookupEntry)))
    expect(e).toMatchObject({ kind: "row-not-struct", field: "row" })
  })

  it("duplicate column names", () => {
    const text = "SELECT a.id, b.id FROM a, b"
    const e = entry("t.dup", text, [], [col("id", "int4", false), col("id", "int4", false)])
    const error = onlyError(
      check([declare("t.dup", text, Schema.Tuple(), Schema.Struct({ id: Schema.Number }))], files(e))
    )
    expect(error).toMatchObject({ kind: "duplicate-column", field: "column id" })
  })

  it("cache file of no declared query", () => {
    const stale = entry("user.gone", "SELECT 1", [], [])
    const e = onlyError(check([lookup], files(lookupEntry, stale)))
    expect(e).toMatchObject({ kind: "orphan-entry", query: "user.gone", field: "file user.gone.json" })
    expect(e.message).toMatch(/belongs to no declared query: run npm run query:prepare/)
  })

  it("a dynamic query declared by description only is listed unchecked, never silently skipped", () => {
    const dynamic: DynamicQuery = {
      kind: "dynamic",
      name: "user.list",
      table: "users",
      description: "users matching a filter",
      row: Schema.Struct({}),
      combinations: []
    }
    const report = check([lookup, dynamic], files(lookupEntry))
    expect(report.undeclared).toEqual([dynamic])
    expect(report.statements).toContainEqual({ query: "user.list", kind: "dynamic", state: "unchecked" })
    const text = formatReport(report)
    expect(text).toMatch(/unchecked: user\.list \(users\): users matching a filter: declared by description only/)
    expect(text).toMatch(
      /2 statements \(1 static, 1 combinations of 1 dynamic queries\): 1 checked, 0 failed, 0 stale, 1 unchecked \(50\.0 % checked offline\)/
    )
  })

  it.effect("requireClean fails with the formatted report", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(requireClean(check([lookup], [])))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left.errors).toBe(1)
        expect(result.left.message).toMatch(/error: user\.lookup: entry: no cache entry/)
      }
    })
  )

  it.effect("checkCacheDir reads a folder written by writeCache, and notices an invalid and a stale file", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-"))
      const migrationsDir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-migrations-"))
      try {
        fs.writeFileSync(join(migrationsDir, "1_first.sql"), "CREATE TABLE a (id int);\n")
        const real = yield* migrationFingerprint(migrationsDir)
        expect(real.count).toBe(1)
        yield* writeCache(dir, cacheContents([{ ...lookupEntry, migrations: real }]))
        const clean = yield* checkCacheDir({ queries: [lookup], cacheDir: dir, migrationsDir })
        expect(clean.errors).toEqual([])

        fs.writeFileSync(join(dir, "user.other.json"), "{ not json")
        const dirty = yield* checkCacheDir({ queries: [lookup], cacheDir: dir, migrationsDir })
        expect(dirty.errors.map((e) => e.kind)).toEqual(["orphan-entry"])

        // a changed migration file changes the fingerprint
        fs.writeFileSync(join(migrationsDir, "1_first.sql"), "CREATE TABLE a (id bigint);\n")
        const moved = yield* checkCacheDir({ queries: [lookup], cacheDir: dir, migrationsDir })
        expect(moved.errors.map((e) => e.kind)).toEqual(["migrations-changed", "orphan-entry"])

        // writeCache removes files of queries no longer declared
        yield* writeCache(dir, cacheContents([{ ...lookupEntry, migrations: real }]))
        expect(fs.readdirSync(dir).sort()).toEqual(["types.ts", "user.lookup.json"])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
        fs.rmSync(migrationsDir, { recursive: true, force: true })
      }
    })
  )
})
