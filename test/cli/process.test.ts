// The command line as a real process from the source tree: exit codes, stdout vs stderr, colours on a pipe, progress.
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ExitCode } from "../../src/cli/exitCodes.js"
import { adminClient, adminDatabaseUrl, scopedDatabase, withDatabase } from "../support/database.js"
import {
  childEnv,
  clientFor,
  outcome,
  repoRoot,
  runCli,
  runProcess,
  sha384Hex,
  tempDir,
  writeMigration
} from "./helpers.js"

const A = "CREATE TABLE a (id int PRIMARY KEY);\n"
const B = "CREATE TABLE b (id int PRIMARY KEY);\n"
const SLOW = "SELECT pg_sleep(1.2);\n"

const V1 = "20260101000001"
const V2 = "20260101000002"
const V3 = "20260101000003"

/** The child's environment: the colour variables left unset unless `extra` sets them (a pipe alone must do). */
const env = (extra: Record<string, string> = {}) => {
  const { NO_COLOR: _no, FORCE_COLOR: _force, ...rest } = childEnv()
  return { ...rest, ...extra }
}

/** `node --import tsx src/cli/main.ts <args>` from the source tree, as `npm start -- <args>` runs it. */
const mainTsWith = (extra: Record<string, string>, ...args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    runProcess(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: repoRoot, env: env(extra) })
  )
const mainTs = (...args: ReadonlyArray<string>) => mainTsWith({}, ...args)

const nonEmptyLines = (text: string) => text.split("\n").filter((l) => l.trim() !== "")

const ESC = "\x1b["

/** The output without `start`'s info table and summary (which list every version by design). */
const outsideInfoTable = (stdout: string) => {
  const lines = stdout.split("\n")
  const header = lines.findIndex((l) => /^version +description +state/.test(l))
  return header < 0 ? stdout : lines.slice(0, header).join("\n")
}

const occurrences = (text: string, word: string) => text.split(word).length - 1

layer(adminClient, { excludeTestServices: true })("CLI process (source tree)", (it) => {
  it.scoped(
    "start (migrations on MIGRATIONS_DATABASE_URL) names each applied migration once, shows a slow one's progress, exits 0",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("proc", {
          [`${V1}_create_a.sql`]: A,
          [`${V2}_create_b.sql`]: B,
          [`${V3}_slow.sql`]: SLOW
        })
        const app = yield* scopedDatabase({ prefix: "cliproc" })
        const migrations = yield* scopedDatabase({ prefix: "cliproc" })

        const started = yield* mainTsWith(
          { MIGRATIONS_DATABASE_URL: migrations.url },
          "start",
          "--database-url",
          app.url,
          "--source",
          dir
        )
        expect(started.stderr).not.toMatch(/^error:/m)
        expect(started.code).toBe(ExitCode.Ok)
        // the result on stdout, once per migration; nothing about the fast ones in the log
        expect(nonEmptyLines(outsideInfoTable(started.stdout)).map((l) => l.replace(/ \([^)]*\)$/, ""))).toEqual([
          `applied ${V1} create a`,
          `applied ${V2} create b`,
          `applied ${V3} slow`
        ])
        for (const version of [V1, V2]) {
          expect(occurrences(outsideInfoTable(started.stdout) + started.stderr, version)).toBe(1)
        }
        // the slow one (1.2 s) is shown on stderr while it runs and when it is done, as plain lines on a pipe
        expect(started.stderr).toMatch(new RegExp(`migration 3/3 ${V3} \\(slow\\) running for 1 s`))
        expect(started.stderr).toMatch(new RegExp(`migration 3/3 ${V3} \\(slow\\) applied in 1\\.\\d\\d s`))
        expect(started.stderr).not.toContain("\r")
        // no colours on a pipe, though nothing asked for that
        expect(started.stdout + started.stderr).not.toContain(ESC)

        // the migrator used its own URL; the program's database got none of it
        const onMigrations = yield* clientFor(migrations.url)
        const history = yield* onMigrations.sql<{ version: string }>`
          SELECT version::text AS version FROM _sqlx_migrations ORDER BY 1`
        expect(history.map((r) => r.version)).toEqual([V1, V2, V3])
        const onApp = yield* clientFor(app.url)
        const appTables = yield* onApp.sql<{ n: number }>`
          SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`
        expect(appTables[0]!.n).toBe(0)
      }),
    60_000
  )

  it.scoped("a refusal exits 1 with one `error:` line naming the version and both checksums, nothing on stdout", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("proc", { "1_create_a.sql": A, "2_create_b.sql": B })
      const db = yield* scopedDatabase({ prefix: "cliproc" })
      const connection = ["--database-url", db.url, "--source", dir]
      // applied in-process: only the refusal needs a process
      expect(outcome(yield* runCli("migrate", "run", ...connection))).toBe("success")
      const edited = A + "-- edited\n"
      yield* writeMigration(dir, "1_create_a.sql", edited)

      const refused = yield* mainTs("migrate", "validate", ...connection)
      expect(refused.code).toBe(ExitCode.Failed)
      expect(refused.stdout).toBe("")
      const errorLines = nonEmptyLines(refused.stderr)
      expect(errorLines).toHaveLength(1)
      expect(errorLines[0]).toMatch(/^error: migration 1 \(create a\) /)
      expect(errorLines[0]).toContain(sha384Hex(A))
      expect(errorLines[0]).toContain(sha384Hex(edited))
      expect(refused.stderr).not.toContain(ESC)
    })
  )

  it.scoped(
    "a usage error exits 2 without touching the database; --help exits 0, plain on a pipe unless FORCE_COLOR",
    () =>
      Effect.gen(function* () {
        const db = yield* scopedDatabase({ prefix: "cliproc" })
        const unknown = yield* mainTs("frobnicate", "--database-url", db.url)
        expect(unknown.code).toBe(ExitCode.Usage)
        expect(unknown.stdout + unknown.stderr).toContain("Invalid subcommand")
        // @effect/cli has printed the usage error; main.ts adds no `error:` line of its own
        expect(unknown.stderr).not.toMatch(/^error:/m)
        expect(unknown.stdout + unknown.stderr).not.toContain(ESC)

        const badValue = yield* mainTs("migrate", "run", "--out-of-order", "sometimes", "--database-url", db.url)
        expect(badValue.code).toBe(ExitCode.Usage)
        expect(badValue.stdout + badValue.stderr).toContain("Expected one of the following cases: warn, error")

        const { sql } = yield* clientFor(db.url)
        const tables = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`
        expect(tables[0]!.n).toBe(0)

        // @effect/cli styles its help in bold whatever the stream: a pipe gets it plain
        const help = yield* mainTs("migrate", "--help")
        expect(help.code).toBe(ExitCode.Ok)
        expect(help.stdout).toContain("USAGE")
        expect(help.stdout + help.stderr).not.toContain(ESC)
        const forced = yield* mainTsWith({ FORCE_COLOR: "1" }, "migrate", "--help")
        expect(forced.code).toBe(ExitCode.Ok)
        expect(forced.stdout).toContain(ESC)
      })
  )

  it.scoped("a database that cannot be reached exits 3; with --json stdout is the error document", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("proc", { "1_create_a.sql": A })
      const missing = `cli_never_created_${process.pid}`
      const url = withDatabase(adminDatabaseUrl(), missing)
      const result = yield* mainTs("migrate", "info", "--database-url", url, "--source", dir)
      expect(result.code).toBe(ExitCode.Unreachable)
      expect(result.stdout).toBe("")
      expect(nonEmptyLines(result.stderr)).toEqual([
        `error: cannot connect to ${url}: database "${missing}" does not exist`
      ])

      const json = yield* mainTs("migrate", "validate", "--json", "--database-url", url, "--source", dir)
      expect(json.code).toBe(ExitCode.Unreachable)
      const document = JSON.parse(json.stdout) as { error: Record<string, unknown> }
      expect(document.error).toMatchObject({
        _tag: "DatabaseUnreachable",
        url,
        reason: `database "${missing}" does not exist`
      })
      expect(document.error.message).toBe(`cannot connect to ${url}: database "${missing}" does not exist`)
    })
  )
})
