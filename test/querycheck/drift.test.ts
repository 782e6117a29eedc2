// The schema drift check on real PostgreSQL: a migrated database matches the cache; hand-made column changes are refused, naming query, combination and column; index changes pass; the startup option.
import * as fs from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, expect, layer } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import pg from "pg"
import { declaredQueries } from "../../src/pg/queries.js"
import type { AnyQuery } from "../../src/querycheck/declaration.js"
import { checkDrift, type Drift, driftLine, requireNoDrift } from "../../src/querycheck/drift.js"
import { prepareCache } from "../../src/querycheck/prepare.js"
import * as Startup from "../../src/startup/index.js"
import { adminClient, adminDatabaseUrl, migratedTemplate, scopedDatabase } from "../support/database.js"

const pick = (...names: ReadonlyArray<string>): ReadonlyArray<AnyQuery> =>
  names.map((name) => {
    const query = declaredQueries.find((q) => q.name === name)
    if (query === undefined) throw new Error(`no declared query ${name}`)
    return query
  })

/** A few real declarations, static and dynamic, over users and user_emails: the small cache is prepared from them. */
const queries = pick(
  "user.add",
  "user.count",
  "user.findByUsername",
  "user.lookup",
  "user.setLockedAt",
  "userEmail.add",
  "userEmail.lookup"
)
const statementCount = queries.reduce((n, q) => n + (q.kind === "static" ? 1 : q.combinations.length), 0)

// a cache of our own, so the committed one (which the lead may be regenerating) is read by one test only
let cacheDir = ""
beforeAll(async () => {
  cacheDir = fs.mkdtempSync(join(os.tmpdir(), "querycheck-drift-"))
  await Effect.runPromise(prepareCache({ adminUrl: adminDatabaseUrl(), queries, mode: "write", cacheDir }))
}, 120_000)
afterAll(() => {
  if (cacheDir !== "") fs.rmSync(cacheDir, { recursive: true, force: true })
})

/** A fresh clone of the migrated template, with `ddl` run on it first. */
const databaseWith = (ddl?: string) =>
  Effect.gen(function* () {
    const db = yield* scopedDatabase({ prefix: "drift", template: migratedTemplate() })
    if (ddl !== undefined) {
      yield* Effect.promise(async () => {
        const client = new pg.Client({ connectionString: db.url })
        await client.connect()
        try {
          await client.query(ddl)
        } finally {
          await client.end()
        }
      })
    }
    return db
  })

const lines = (differences: ReadonlyArray<Drift>) => differences.map(driftLine)

layer(adminClient, { excludeTestServices: true })("schema drift", (it) => {
  it.scoped("a migrated database matches the small cache and the committed one: no difference", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith()
      const small = yield* checkDrift({ url: db.url, queries, cacheDir })
      expect(small).toEqual({ statements: statementCount, differences: [] })
      const all = yield* checkDrift({ url: db.url, queries: declaredQueries })
      expect(lines(all.differences)).toEqual([])
      expect(all.statements).toBe(
        declaredQueries.reduce((n, q) => n + (q.kind === "static" ? 1 : q.combinations.length), 0)
      )
      expect(all.statements).toBeGreaterThan(500)
    })
  )

  it.scoped("DROP NOT NULL on users.username is refused, naming every user query reading it and the column", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith("ALTER TABLE users ALTER COLUMN username DROP NOT NULL")
      const exit = yield* Effect.exit(requireNoDrift({ url: db.url, queries, cacheDir }))
      if (!Exit.isFailure(exit) || exit.cause._tag !== "Fail" || exit.cause.error._tag !== "SchemaDrift")
        return expect.fail(`expected SchemaDrift, got ${String(exit)}`)
      const refusal = exit.cause.error
      const nullability =
        "column username: cached NOT NULL (NOT NULL column users.username), live nullable (column users.username is nullable)"
      expect(lines(refusal.differences)).toEqual([`user.findByUsername: ${nullability}`, `user.lookup: ${nullability}`])
      expect(refusal.message).toContain(`\n  user.lookup: ${nullability}\n`)
      expect(refusal.message).toMatch(/^the database schema no longer matches the query cache \(2 difference/)
      expect(refusal.message).toMatch(/npm run query:prepare/)
    })
  )

  it.scoped("SET NOT NULL on a nullable column is a difference too (the cache's reason came from the table)", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith("ALTER TABLE users ALTER COLUMN locked_at SET NOT NULL")
      const report = yield* checkDrift({ url: db.url, queries, cacheDir })
      expect(lines(report.differences)).toContain(
        "user.lookup: column locked_at: cached nullable (column users.locked_at is nullable), live NOT NULL (NOT NULL column users.locked_at)"
      )
    })
  )

  it.scoped("a type change (text → varchar(300)) is refused for the columns and the parameters it reaches", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith("ALTER TABLE user_emails ALTER COLUMN email TYPE varchar(300)")
      const report = yield* checkDrift({ url: db.url, queries, cacheDir })
      expect(lines(report.differences)).toEqual([
        "userEmail.add: param $3: cached text, live varchar",
        "userEmail.lookup: column email: cached text, live varchar"
      ])
    })
  )

  it.scoped(
    "DROP COLUMN: each statement selecting it no longer describes, with PostgreSQL's message; later statements are still compared",
    () =>
      Effect.gen(function* () {
        const db = yield* databaseWith(
          "ALTER TABLE users DROP COLUMN locked_at; ALTER TABLE user_emails ALTER COLUMN email DROP NOT NULL"
        )
        const report = yield* checkDrift({ url: db.url, queries, cacheDir })
        const found = lines(report.differences)
        expect(found).toContain(
          'user.findByUsername: statement: no longer describes: column "locked_at" does not exist (SQLSTATE 42703) at character 39'
        )
        expect(found).toContain(
          'user.lookup: statement: no longer describes: column "locked_at" does not exist (SQLSTATE 42703) at character 39'
        )
        expect(
          found.some((l) =>
            l.startsWith(
              'user.add: statement: no longer describes: column "locked_at" of relation "users" does not exist'
            )
          )
        ).toBe(true)
        expect(found.some((l) => l.startsWith("user.count [locked]: statement: no longer describes:"))).toBe(true)
        // the pipeline went on after each failure: the user_emails change, described last, is found
        expect(found.at(-1)).toBe(
          "userEmail.lookup: column email: cached NOT NULL (NOT NULL column user_emails.email), live nullable (column user_emails.email is nullable)"
        )
      })
  )

  it.scoped("index changes (CREATE, REINDEX, DROP INDEX) are no drift", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith(
        "CREATE INDEX drift_users_created_at ON users (created_at); REINDEX TABLE users; DROP INDEX drift_users_created_at; CREATE INDEX drift_emails ON user_emails (lower(email), created_at)"
      )
      expect(yield* requireNoDrift({ url: db.url, queries, cacheDir })).toEqual({
        statements: statementCount,
        differences: []
      })
    })
  )

  it.scoped("a statement the cache does not describe (no entry, or another text) is a difference", () =>
    Effect.gen(function* () {
      const db = yield* databaseWith()
      const lookup = pick("user.lookup")[0]!
      if (lookup.kind !== "static") return expect.fail("user.lookup is a static query")
      const edited: AnyQuery = { ...lookup, text: `${lookup.text} ` }
      const report = yield* checkDrift({
        url: db.url,
        queries: [...pick("userEmail.find"), edited],
        cacheDir
      })
      expect(report.differences.map((d) => [d.query, d.field, d.detail.replace(/:.*/, "")])).toEqual([
        ["userEmail.find", "cache", "the query cache has no description of this statement"],
        [
          "user.lookup",
          "cache",
          "the query cache describes another text of this statement (the SQL changed since the prepare)"
        ]
      ])
    })
  )

  it.scoped(
    "startup with checkDrift: true fails with SchemaDrift on a drifted database and starts on a clean one",
    () =>
      Effect.gen(function* () {
        const build = (url: string) =>
          Effect.scoped(Layer.build(Layer.fresh(Startup.layer({ databaseUrl: url, checkDrift: true }))))
        const drifted = yield* databaseWith("ALTER TABLE users ALTER COLUMN username DROP NOT NULL")
        const refused = yield* Effect.exit(build(drifted.url))
        expect(Exit.isFailure(refused) && refused.cause._tag === "Fail" ? refused.cause.error._tag : refused).toBe(
          "SchemaDrift"
        )
        if (Exit.isFailure(refused) && refused.cause._tag === "Fail")
          expect(refused.cause.error.message).toContain("user.findByUsername: column username: cached NOT NULL")
        const clean = yield* databaseWith()
        expect(Exit.isSuccess(yield* Effect.exit(build(clean.url)))).toBe(true)
        // without the option the drifted database starts
        const unchecked = yield* Effect.exit(
          Effect.scoped(Layer.build(Layer.fresh(Startup.layer({ databaseUrl: drifted.url }))))
        )
        expect(Exit.isSuccess(unchecked)).toBe(true)
      })
  )
})
