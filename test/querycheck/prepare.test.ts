// prepareCache on a real server: scratch database migrated and dropped, cache written, `--check` mode, describe failures named.
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { expect, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Either, Schema } from "effect"
import { UlidFromUuid } from "../../src/model/Ulid.js"
import type { AnyStaticQuery } from "../../src/pg/query.js"
import { countQuery, filter, pageQuery, piece } from "../../src/pg/dynamic.js"
import { checkCacheDir } from "../../src/querycheck/check.js"
import { prepareCache } from "../../src/querycheck/prepare.js"
import { adminClient, adminDatabaseUrl } from "../support/database.js"

const declare = (
  name: string,
  text: string,
  params: Schema.Schema<any, any>,
  row: Schema.Schema<any, any>
): AnyStaticQuery => ({ kind: "static", name, text, params, row, table: "users" }) as unknown as AnyStaticQuery

const queries = [
  declare(
    "test.lookup",
    "SELECT user_id, username, locked_at FROM users WHERE user_id = $1",
    Schema.Tuple(UlidFromUuid),
    Schema.Struct({ user_id: UlidFromUuid, username: Schema.String, locked_at: Schema.NullOr(Schema.DateFromSelf) })
  ),
  declare(
    "test.count",
    `SELECT count(*) AS "n" FROM users`,
    Schema.Tuple(),
    Schema.Struct({ n: Schema.NumberFromString })
  )
]

interface TestUserFilter {
  readonly name?: string
  readonly locked?: boolean
  readonly broken?: true
}

const userFilter = (criteria: Record<string, ReturnType<typeof piece>> = {}) =>
  filter<TestUserFilter>()(
    "TestUserFilter",
    {
      name: piece("users.username = $1", Schema.Tuple(Schema.String)),
      locked: piece("users.locked_at IS NOT NULL"),
      ...criteria
    },
    (f, use) => [f.name !== undefined && use.name(f.name), f.locked === true && use.locked()]
  )

/** A page query over users whose row says `locked_at` is never NULL (true only of the `locked` combinations). */
const listUsers = (options: {
  readonly lockedAlwaysSet?: boolean
  readonly criteria?: Record<string, ReturnType<typeof piece>>
}) =>
  pageQuery({
    description: "users, one keyset page",
    row: Schema.Struct({
      user_id: UlidFromUuid,
      username: Schema.String,
      locked_at: options.lockedAlwaysSet === true ? Schema.DateFromSelf : Schema.NullOr(Schema.DateFromSelf)
    }),
    select: "SELECT user_id, username, locked_at FROM users",
    slots: { filter: userFilter(options.criteria) },
    where: "filter",
    keyset: "users.user_id"
  })("test.list", "users")

const countUsers = countQuery({
  description: "number of users",
  from: "users",
  slots: { filter: userFilter() },
  where: "filter"
})("test.countUsers", "users")

const scratchDatabases = Effect.gen(function* () {
  const sql = yield* PgClient.PgClient
  const rows = yield* sql<{
    datname: string
  }>`SELECT datname FROM pg_database WHERE datname LIKE ${`mas_querycheck_${process.pid}_%`}`
  return rows.map((r) => r.datname)
})

layer(adminClient, { excludeTestServices: true })("prepare", (it) => {
  it.scoped(
    "writes one file per query and types.ts, which the offline check accepts; --check passes, then notices an edit",
    () =>
      Effect.gen(function* () {
        const dir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-prepare-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
        const result = yield* prepareCache({ adminUrl: adminDatabaseUrl(), queries, mode: "write", cacheDir: dir })
        expect(result.entries.map((e) => e.name)).toEqual(["test.lookup", "test.count"])
        expect(fs.readdirSync(dir).sort()).toEqual(["test.count.json", "test.lookup.json", "types.ts"])
        const lookup = JSON.parse(fs.readFileSync(join(dir, "test.lookup.json"), "utf8"))
        expect(Object.keys(lookup)).toEqual(["columns", "migrations", "name", "params", "text", "textSha256"])
        expect(lookup.columns[2]).toEqual({
          kind: "base",
          name: "locked_at",
          nullable: true,
          reason: "column users.locked_at is nullable",
          type: "timestamptz"
        })
        expect(fs.readFileSync(join(dir, "types.ts"), "utf8")).toMatch(
          /"test\.count": \{\n {4}readonly "n": string\n {2}\}/
        )
        // the scratch database is gone
        expect(yield* scratchDatabases).not.toContain(result.database)

        const report = yield* checkCacheDir({ queries, cacheDir: dir })
        expect(report.errors).toEqual([])

        // deterministic: a second prepare in check mode finds nothing to change
        yield* prepareCache({ adminUrl: adminDatabaseUrl(), queries, mode: "check", cacheDir: dir })

        fs.writeFileSync(
          join(dir, "test.count.json"),
          fs.readFileSync(join(dir, "test.count.json"), "utf8").replace('"n"', '"m"')
        )
        fs.writeFileSync(join(dir, "test.stale.json"), "{}\n")
        const stale = yield* Effect.either(
          prepareCache({ adminUrl: adminDatabaseUrl(), queries, mode: "check", cacheDir: dir })
        )
        expect(Either.isLeft(stale)).toBe(true)
        if (Either.isLeft(stale) && stale.left._tag === "CacheOutOfDate") {
          expect(stale.left.differences).toEqual([
            "test.count.json: differs from a fresh describe",
            "test.stale.json: belongs to no declared query"
          ])
          expect(stale.left.message).toMatch(/run npm run query:prepare/)
        } else expect.fail("expected CacheOutOfDate")
      })
  )

  it.scoped("a query that does not describe fails naming it, and the scratch database is still dropped", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-prepare-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const broken = [
        ...queries,
        declare("test.broken", "SELECT no_such_column FROM users", Schema.Tuple(), Schema.Struct({}))
      ]
      const result = yield* Effect.either(
        prepareCache({ adminUrl: adminDatabaseUrl(), queries: broken, mode: "write", cacheDir: dir })
      )
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("QueryDescribeFailed")
        expect(result.left.message).toMatch(/query test\.broken cannot be described: .*no_such_column/)
      }
      expect(yield* scratchDatabases).toEqual([])
      // nothing is written when a describe fails
      expect(fs.readdirSync(dir)).toEqual([])
    })
  )

  it.scoped(
    "a dynamic query: every combination described into its one file, checked offline; a piece edited or a column disagreeing is named",
    () =>
      Effect.gen(function* () {
        const dir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-prepare-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
        const declared = [listUsers({}), countUsers]
        yield* prepareCache({ adminUrl: adminDatabaseUrl(), queries: declared, mode: "write", cacheDir: dir })
        const file = JSON.parse(fs.readFileSync(join(dir, "test.list.json"), "utf8"))
        expect(file.kind).toBe("dynamic")
        expect(file.combinations).toHaveLength(declared[0]!.combinations.length)
        const all = file.combinations.find(
          (c: { criteria: string; pagination: string }) => c.criteria === "all" && c.pagination === "last after before"
        )
        // the filter's text parameter, both cursors as uuid, and the LIMIT
        expect(all.params.map((p: { type: string }) => p.type)).toEqual(["text", "uuid", "uuid", "int8"])
        expect(all.columns.map((c: { name: string; nullable: boolean }) => [c.name, c.nullable])).toEqual([
          ["user_id", false],
          ["username", false],
          ["locked_at", true]
        ])
        const clean = yield* checkCacheDir({ queries: declared, cacheDir: dir })
        expect(clean.errors).toEqual([])
        expect(clean.totals).toMatchObject({ statements: 11 + 4, checked: 15 })

        // a piece's text edited after the prepare: the combinations using it are stale
        const edited = [
          listUsers({ criteria: { name: piece("LOWER(users.username) = LOWER($1)", Schema.Tuple(Schema.String)) } }),
          countUsers
        ]
        const stale = yield* checkCacheDir({ queries: edited, cacheDir: dir })
        expect(stale.errors.map((e) => [e.kind, e.query, e.combination])).toContainEqual([
          "text-changed",
          "test.list",
          "name · first"
        ])
        expect(stale.errors.filter((e) => e.combination === "locked · first")).toEqual([])
        expect(stale.totals.stale).toBe(1 + 8)

        // a row schema that holds for some combinations only: each other one is named, with the column
        const strict = yield* checkCacheDir({
          queries: [listUsers({ lockedAlwaysSet: true }), countUsers],
          cacheDir: dir
        })
        expect(new Set(strict.errors.map((e) => `${e.kind} ${e.query} [${e.combination}] ${e.field}`))).toContain(
          "column-nullable test.list [name · first] column locked_at"
        )
      })
  )

  it.scoped("a combination that does not describe fails naming the query and the criteria", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-prepare-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const broken = listUsers({ criteria: { broken: piece("users.no_such_column IS NULL") } })
      const result = yield* Effect.either(
        prepareCache({ adminUrl: adminDatabaseUrl(), queries: [broken], mode: "write", cacheDir: dir })
      )
      expect(Either.isLeft(result) && result.left.message).toMatch(
        /query test\.list \[broken · first\] cannot be described: .*no_such_column/
      )
      expect(fs.readdirSync(dir)).toEqual([])
    })
  )
})
