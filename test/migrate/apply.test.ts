// Applying a transactional file in two messages (BEGIN with the file; the history row with COMMIT): what is sent, and
// that every failure on the way still leaves nothing behind.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Option } from "effect"
import pg from "pg"
import { history, setup, sha384Hex, tableNames, writeMigration } from "./helpers.js"
import { adminClient } from "../support/database.js"

const advisoryLocks = (sql: SqlClient.SqlClient) =>
  sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.pipe(
    Effect.map((rows) => rows[0]!.n)
  )

/** The text of every query any pg client of this process sends while `effect` runs. */
const sentDuring = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const proto = pg.Client.prototype as unknown as { query: (...args: Array<unknown>) => unknown }
      const original = proto.query
      const texts: Array<string> = []
      proto.query = function (this: unknown, ...args: Array<unknown>) {
        const first = args[0]
        texts.push(typeof first === "string" ? first : String((first as { text?: string } | undefined)?.text))
        return original.apply(this, args)
      }
      return { proto, original, texts }
    }),
    ({ texts }) => Effect.map(effect, (value) => ({ value, texts })),
    ({ proto, original }) => Effect.sync(() => (proto.query = original))
  )

const failureOf = <A, E>(result: Either.Either<A, E>) => Either.getLeft(result).pipe(Option.getOrThrow)

const PARENT =
  "CREATE TABLE parent (id int PRIMARY KEY);\n" +
  "CREATE TABLE child (parent_id int REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n"

layer(adminClient, { excludeTestServices: true })("applying a transactional migration", (it) => {
  it.scoped("costs two round trips: BEGIN with the file, then the history row with COMMIT", () =>
    Effect.gen(function* () {
      const A = "CREATE TABLE a (id int);\n"
      const B = "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n"
      const { sql, migrator } = yield* setup({ "1_create_a.sql": A, "2_create_b.sql": B })
      const { texts } = yield* sentDuring(migrator.run())
      const insertThenCommit = /^INSERT INTO _sqlx_migrations [^;]*;\nCOMMIT$/
      const start = texts.indexOf(`BEGIN;\n${A}`)
      expect(start).toBeGreaterThan(-1)
      expect(texts[start + 1]).toMatch(insertThenCommit)
      expect(texts[start + 2]).toBe(`BEGIN;\n${B}`)
      expect(texts[start + 3]).toMatch(insertThenCommit)
      expect(texts.filter((t) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(t))).toEqual([])
      expect((yield* history(sql)).map((r) => [r.version, r.success, r.checksum])).toEqual([
        ["1", true, sha384Hex(A)],
        ["2", true, sha384Hex(B)]
      ])
    })
  )

  it.scoped("a syntax error: its line in the file, nothing created, no transaction left open", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator } = yield* setup({
        "1_create_a.sql": "CREATE TABLE a (id int);\n",
        "2_typo.sql": "CREATE TABLE ok (id int);\n\nCREATE TABLEX bad (id int);\n"
      })
      const error = failureOf(yield* Effect.either(migrator.run()))
      expect(error._tag).toBe("MigrationFailed")
      expect(error).toMatchObject({ version: 2n })
      expect(error.message).toContain("SQLSTATE 42601")
      expect(error.message).toContain("at line 3")
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a"])
      expect(yield* advisoryLocks(sql)).toBe(0)

      yield* writeMigration(dir, "2_typo.sql", "CREATE TABLE ok (id int);\n")
      expect((yield* migrator.run()).applied.map((m) => m.version)).toEqual([2n])
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a", "ok"])
    })
  )

  it.scoped("a failed COMMIT (a deferred constraint): nothing of the file and no history row", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator } = yield* setup({
        "1_parent.sql": PARENT,
        "2_orphan.sql": "CREATE TABLE marker (id int);\nINSERT INTO child VALUES (42);\n"
      })
      const error = failureOf(yield* Effect.either(migrator.run()))
      expect(error._tag).toBe("MigrationFailed")
      expect(error).toMatchObject({ version: 2n })
      expect(error.message).toContain("SQLSTATE 23503")
      expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "child", "parent"])
      expect(yield* advisoryLocks(sql)).toBe(0)

      yield* writeMigration(dir, "2_orphan.sql", "CREATE TABLE marker (id int);\nINSERT INTO parent VALUES (42);\n")
      expect((yield* migrator.run()).applied.map((m) => m.version)).toEqual([2n])
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "child", "marker", "parent"])
    })
  )

  it.scoped("a failed history INSERT: PostgreSQL skips the COMMIT and the file's changes go too", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator } = yield* setup({
        "1_create_a.sql": "CREATE TABLE a (id int);\n",
        "2_squatter.sql":
          "CREATE TABLE marker (id int);\n" +
          "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)\n" +
          "  VALUES (2, 'squatter', TRUE, '\\x00', 0);\n"
      })
      const error = failureOf(yield* Effect.either(migrator.run()))
      expect(error._tag).toBe("MigrationFailed")
      expect(error.message).toContain("writing the history row and committing")
      expect(error.message).toContain("SQLSTATE 23505")
      expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a"])
      expect(yield* advisoryLocks(sql)).toBe(0)

      yield* writeMigration(dir, "2_squatter.sql", "CREATE TABLE marker (id int);\n")
      expect((yield* migrator.run()).applied.map((m) => m.version)).toEqual([2n])
    })
  )

  it.scoped("descriptions are stored exactly, whatever session settings an earlier migration left", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({
        "1_old_strings.sql": "SET standard_conforming_strings = off;\nSET client_min_messages = error;\n",
        "2_it's_a\\b_\u00e9\u00e8_\u{1f600}.sql": "CREATE TABLE a (id int);\n",
        "3_quote'_and_\\'.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n"
      })
      expect((yield* migrator.run()).applied.map((m) => m.version)).toEqual([1n, 2n, 3n])
      expect((yield* history(sql)).map((r) => [r.version, r.description, r.success])).toEqual([
        ["1", "old strings", true],
        ["2", "it's a\\b \u00e9\u00e8 \u{1f600}", true],
        ["3", "quote' and \\'", true]
      ])
      expect((yield* migrator.validate).appliedCount).toBe(3)
    })
  )
})
