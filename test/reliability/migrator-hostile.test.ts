// Hostile migration folders: each refusal is typed and leaves the database untouched; each accepted oddity applies.
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Option } from "effect"
import { history, setup, sha384Hex, tableNames, writeMigration } from "../migrate/helpers.js"
import { adminClient } from "../support/database.js"

const A = "CREATE TABLE a (id int PRIMARY KEY);\n"

/** Every relation of the public schema plus the history table's existence: "nothing changed" is this staying []. */
const schemaObjects = (sql: SqlClient.SqlClient) =>
  sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`.pipe(
    Effect.map((rows) => rows.map((r) => r.name))
  )

/** Runs the folder and returns the typed refusal, checking that the database was left exactly as it was. */
const refusedUntouched = (files: Record<string, string | Uint8Array>) =>
  Effect.gen(function* () {
    const { sql, migrator } = yield* setup(files)
    const result = yield* Effect.either(migrator.run())
    expect(yield* schemaObjects(sql)).toEqual([])
    return Either.getLeft(result).pipe(Option.getOrThrow)
  })

layer(adminClient, { excludeTestServices: true })("hostile migration folders", (it) => {
  it.scoped("a non-numeric version: InvalidMigrationName, nothing created", () =>
    Effect.gen(function* () {
      const error = yield* refusedUntouched({ "1_create_a.sql": A, "two_create_b.sql": "CREATE TABLE b (id int);\n" })
      expect(error._tag).toBe("InvalidMigrationName")
      expect(error.message).toMatch(/two_create_b\.sql: the version "two" is not an integer/)
    })
  )

  it.scoped("duplicate versions: DuplicateMigrationVersion naming both files, nothing created", () =>
    Effect.gen(function* () {
      const error = yield* refusedUntouched({
        "1_create_a.sql": A,
        "2_create_b.sql": "CREATE TABLE b (id int);\n",
        "0002_create_c.sql": "CREATE TABLE c (id int);\n"
      })
      expect(error._tag).toBe("DuplicateMigrationVersion")
      expect(error.message).toMatch(/duplicate migration version 2: .*0002_create_c\.sql, .*2_create_b\.sql/)
    })
  )

  it.scoped("a UTF-8 BOM: PostgreSQL would choke on it, so MigrationByteOrderMark before anything is touched", () =>
    Effect.gen(function* () {
      const bom = "\ufeffCREATE TABLE b (id int);\n"
      const error = yield* refusedUntouched({ "1_create_a.sql": A, "2_bom.sql": bom })
      expect(error._tag).toBe("MigrationByteOrderMark")
      expect(error.message).toMatch(/2_bom\.sql starts with a UTF-8 byte order mark/)
    })
  )

  it.scoped("a UTF-8 BOM is what PostgreSQL rejects, and it hides -- no-transaction (why the run refuses it)", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({ "1_bom.sql": "\ufeff-- no-transaction\nSELECT 1;\n" })
      const direct = yield* Effect.either(sql.unsafe("\ufeffSELECT 1"))
      expect(Either.getLeft(direct).pipe(Option.map((e) => String((e.cause as { code?: string }).code)))).toEqual(
        Option.some("42601")
      )
      // loading keeps the file (info shows it, checksum over the exact bytes) but sees no marker
      const [status] = yield* migrator.info
      expect(status!.state).toBe("pending")
      expect(Buffer.from(Option.getOrThrow(status!.fileChecksum)).toString("hex")).toBe(
        sha384Hex("\ufeff-- no-transaction\nSELECT 1;\n")
      )
    })
  )

  it.scoped("an empty file is a valid no-op migration, as in sqlx: applied and recorded", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({
        "1_create_a.sql": A,
        "2_empty.sql": "",
        "3_comment_only.sql": "-- nothing to do yet\n",
        "4_create_d.sql": "CREATE TABLE d (id int);\n"
      })
      const report = yield* migrator.run()
      expect(report.applied.map((m) => m.version)).toEqual([1n, 2n, 3n, 4n])
      const rows = yield* history(sql)
      expect(rows.map((r) => [r.version, r.success, r.checksum])).toEqual([
        ["1", true, sha384Hex(A)],
        ["2", true, sha384Hex("")],
        ["3", true, sha384Hex("-- nothing to do yet\n")],
        ["4", true, sha384Hex("CREATE TABLE d (id int);\n")]
      ])
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "a", "d"])
      expect((yield* migrator.run()).applied).toEqual([])
    })
  )

  it.scoped("a -- no-transaction file with no statement: NoTransactionLintError, nothing created", () =>
    Effect.gen(function* () {
      const error = yield* refusedUntouched({ "1_create_a.sql": A, "2_nothing.sql": "-- no-transaction\n" })
      expect(error._tag).toBe("NoTransactionLintError")
      expect(error).toMatchObject({ statementCount: 0 })
    })
  )

  it.scoped("CRLF line ends apply (no-transaction marker included); the checksum is of the CRLF bytes", () =>
    Effect.gen(function* () {
      const crlf = "CREATE TABLE a (\r\n  id int PRIMARY KEY,\r\n  v text\r\n);\r\n"
      const index = "-- no-transaction\r\nCREATE INDEX CONCURRENTLY a_v_idx ON a (v);\r\n"
      const { dir, sql, migrator } = yield* setup({ "1_create_a.sql": crlf, "2_a_v_idx.sql": index })
      const report = yield* migrator.run()
      expect(report.applied.map((m) => m.version)).toEqual([1n, 2n])
      // CREATE INDEX CONCURRENTLY fails inside a transaction: it ran outside one, so the marker was seen
      const [valid] = yield* sql<{ valid: boolean }>`
        SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'a_v_idx'`
      expect(valid!.valid).toBe(true)
      const rows = yield* history(sql)
      expect(rows.map((r) => r.checksum)).toEqual([sha384Hex(crlf), sha384Hex(index)])
      const lf = crlf.replaceAll("\r\n", "\n")
      expect(sha384Hex(lf)).not.toBe(sha384Hex(crlf))

      // a checkout converting the applied file to LF (git autocrlf) is a checksum change, refused by name
      yield* writeMigration(dir, "1_create_a.sql", lf)
      const error = Either.getLeft(yield* Effect.either(migrator.validate)).pipe(Option.getOrThrow)
      expect(error._tag).toBe("ChecksumMismatch")
      expect(error.message).toContain(sha384Hex(crlf))
      expect(error.message).toContain(sha384Hex(lf))
    })
  )

  it.scoped(
    "a 10 MB file applies in bounded time",
    () =>
      Effect.gen(function* () {
        const parts = ["CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL);\n"]
        let size = parts[0]!.length
        let id = 0
        while (size < 10 * 1024 * 1024) {
          const values = Array.from({ length: 1000 }, () => `(${++id}, '${"x".repeat(90)}')`).join(",\n")
          const statement = `INSERT INTO big (id, payload) VALUES\n${values};\n`
          parts.push(statement)
          size += statement.length
        }
        const text = parts.join("")
        const { sql, migrator } = yield* setup({ "1_big.sql": text })
        const started = Date.now()
        const report = yield* migrator.run()
        const elapsedMs = Date.now() - started
        console.log(`[reliability] a ${(text.length / 1024 / 1024).toFixed(1)} MB migration applied in ${elapsedMs} ms`)
        expect(elapsedMs).toBeLessThan(30_000)
        expect(report.applied.map((m) => m.version)).toEqual([1n])
        const [count] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM big`
        expect(count!.n).toBe(id)
        expect((yield* history(sql)).map((r) => r.checksum)).toEqual([sha384Hex(text)])
      }),
    60_000
  )
})
