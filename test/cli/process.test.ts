// The command line as a real process from the source tree: exit codes, the one-line `error: …` on stderr, usage errors.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { adminClient, adminDatabaseUrl, scopedDatabase, withDatabase } from "../support/database.js"
import { childEnv, clientFor, repoRoot, runProcess, sha384Hex, tempDir, writeMigration } from "./helpers.js"

const A = "CREATE TABLE a (id int PRIMARY KEY);\n"
const B = "CREATE TABLE b (id int PRIMARY KEY);\n"

/** `node --import tsx src/cli/main.ts <args>` from the source tree, as `npm start -- <args>` runs it. */
const mainTs = (...args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    runProcess(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: repoRoot, env: childEnv() })
  )

const nonEmptyLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "")

layer(adminClient, { excludeTestServices: true })("CLI process (source tree)", (it) => {
  it.scoped(
    "success exits 0; a refusal exits non-zero with one `error:` line naming the version and both checksums",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("proc", { "1_create_a.sql": A, "2_create_b.sql": B })
        const db = yield* scopedDatabase({ prefix: "cliproc" })
        const connection = ["--database-url", db.url, "--source", dir]

        const ran = yield* mainTs("migrate", "run", ...connection)
        expect(ran.stderr).not.toMatch(/^error:/m)
        expect(ran.code).toBe(0)
        // log lines go to stderr only, never among the program's output
        expect(ran.stderr).toContain("applied migration 1 (create a)")
        expect(nonEmptyLines(ran.stdout).map((l) => l.replace(/ \(.*\)$/, ""))).toEqual([
          "applied 1 create a",
          "applied 2 create b"
        ])
        const { sql } = yield* clientFor(db.url)
        const rows = yield* sql<{ version: string }>`SELECT version::text AS version FROM _sqlx_migrations ORDER BY 1`
        expect(rows.map((r) => r.version)).toEqual(["1", "2"])

        const edited = A + "-- edited\n"
        yield* writeMigration(dir, "1_create_a.sql", edited)
        const refused = yield* mainTs("migrate", "validate", ...connection)
        expect(refused.code).toBe(1)
        expect(refused.stdout).toBe("")
        const errorLines = nonEmptyLines(refused.stderr)
        expect(errorLines).toHaveLength(1)
        expect(errorLines[0]).toMatch(/^error: migration 1 \(create a\) /)
        expect(errorLines[0]).toContain(sha384Hex(A))
        expect(errorLines[0]).toContain(sha384Hex(edited))
      })
  )

  it.scoped("a usage error (unknown command, bad option value) exits non-zero without touching the database", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase({ prefix: "cliproc" })
      const unknown = yield* mainTs("frobnicate", "--database-url", db.url)
      expect(unknown.code).not.toBe(0)
      expect(unknown.code).not.toBeNull()
      expect(unknown.stdout + unknown.stderr).toContain("Invalid subcommand")
      // @effect/cli has printed the usage error; main.ts adds no `error:` line of its own
      expect(unknown.stderr).not.toMatch(/^error:/m)

      const badValue = yield* mainTs("migrate", "run", "--out-of-order", "sometimes", "--database-url", db.url)
      expect(badValue.code).not.toBe(0)
      expect(badValue.code).not.toBeNull()
      expect(badValue.stdout + badValue.stderr).toContain("Expected one of the following cases: warn, error")

      const { sql } = yield* clientFor(db.url)
      const tables = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`
      expect(tables[0]!.n).toBe(0)
    })
  )

  it.scoped("a database that cannot be reached is a one-line error saying why", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("proc", { "1_create_a.sql": A })
      const missing = `cli_never_created_${process.pid}`
      const result = yield* mainTs(
        "migrate",
        "info",
        "--database-url",
        withDatabase(adminDatabaseUrl(), missing),
        "--source",
        dir
      )
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("")
      expect(nonEmptyLines(result.stderr)).toEqual([
        `error: PgClient: Failed to connect: database "${missing}" does not exist`
      ])
    })
  )
})
