// The command line in-process (output captured): info states, run options, validate, checksum, add, start.
import { expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import {
  ChecksumMismatch,
  DirtyMigration,
  MigrationHistoryRefused,
  Migrator,
  type MigratorConfig
} from "../../src/migrate/Migrator.js"
import { adminClient, scopedDatabase } from "../support/database.js"
import {
  clientFor,
  failureMessage,
  type Files,
  infoRows,
  infoStates,
  outcome,
  removeMigration,
  runCli,
  sha384Hex,
  tempDir,
  writeMigration
} from "./helpers.js"

const A = "CREATE TABLE a (id int PRIMARY KEY);\n"
const B = "CREATE TABLE b (id int PRIMARY KEY);\n"
const C = "CREATE TABLE c (id int PRIMARY KEY);\n"
const D = "CREATE TABLE d (id int PRIMARY KEY);\n"
const E = "CREATE TABLE e (id int PRIMARY KEY);\n"
const F = "CREATE TABLE f (id int PRIMARY KEY);\n"
const G = "CREATE TABLE g (id int PRIMARY KEY);\n"

/** Needs the admin client and a Scope: a fresh database, a folder of `files`, and the CLI pointed at both. */
const fixture = (files: Files) =>
  Effect.gen(function* () {
    const dir = yield* tempDir("src", files)
    const db = yield* scopedDatabase({ prefix: "cli" })
    const { ctx, sql } = yield* clientFor(db.url)
    /** A database command: `migrate <sub>` or `start`, with this fixture's `--database-url` and `--source`. */
    const cli = (...args: ReadonlyArray<string>) => runCli(...args, "--database-url", db.url, "--source", dir)
    const history = sql<{ version: string; success: boolean; checksum: string }>`
      SELECT version::text AS version, success, encode(checksum, 'hex') AS checksum
        FROM _sqlx_migrations ORDER BY version`
    const tables = sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.pipe(
      Effect.map((rows) => rows.map((r) => r.table_name))
    )
    const config = (overrides?: Partial<MigratorConfig>): MigratorConfig => ({
      source: dir,
      allowedMissing: [],
      allowedAlternateChecksums: [],
      outOfOrder: "warn",
      ...overrides
    })
    const migrator = (overrides?: Partial<MigratorConfig>) =>
      Migrator.pipe(Effect.provide(Migrator.layer(config(overrides))), Effect.provide(ctx))
    return { dir, db, sql, cli, history, tables, migrator }
  })

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const DURATION = /^\d+(\.\d+)? (µs|ms|s)$/

// Live services: `migrate add` stamps the version from the Clock, and a TestClock would make it 1970.
layer(adminClient, { excludeTestServices: true })("CLI commands (in-process)", (it) => {
  it.scoped("migrate info shows applied, changed-refused, missing, out-of-order, dirty and pending rows", () =>
    Effect.gen(function* () {
      const { dir, sql, cli } = yield* fixture({
        "1_create_a.sql": A,
        "2_create_b.sql": B,
        "3_create_c.sql": C,
        "5_create_e.sql": E,
        "6_create_f.sql": F
      })
      const run = yield* cli("migrate", "run", "--target-version", "5")
      expect(outcome(run)).toBe("success")
      // a row another tool left after a failed attempt at 6
      yield* sql.unsafe(
        `INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (6, 'create f', false, decode('${sha384Hex(F)}', 'hex'), 0)`
      )
      yield* writeMigration(dir, "2_create_b.sql", B + "-- edited after release\n")
      yield* removeMigration(dir, "3_create_c.sql")
      yield* writeMigration(dir, "4_create_d.sql", D)
      yield* writeMigration(dir, "7_create_g.sql", G)

      const info = yield* cli("migrate", "info")
      expect(outcome(info)).toBe("success")
      expect(info.stdout[0]).toMatch(/^version\s+description\s+state\s+installed_on\s+execution_time$/)
      expect(info.stdout[1]).toMatch(/^-+( +-+){4}$/)
      expect(infoStates(info.stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "changed-refused"],
        ["3", "create c", "missing"],
        ["4", "create d", "out-of-order"],
        ["5", "create e", "applied"],
        ["6", "create f", "dirty"],
        ["7", "create g", "pending"]
      ])
      const rows = infoRows(info.stdout)
      for (const row of rows) {
        expect(row).toHaveLength(5)
        if (["1", "2", "3", "5", "6"].includes(row[0]!)) {
          expect(row[3]).toMatch(ISO_TIME)
          expect(row[4]).toMatch(row[0] === "6" ? /^0 µs$/ : DURATION)
        } else {
          expect(row.slice(3)).toEqual(["-", "-"])
        }
      }
      expect(info.stdout.filter((l) => l.trim() !== "").at(-1)).toBe(
        "2 applied, 1 changed-refused, 1 missing, 1 out-of-order, 1 dirty, 1 pending"
      )
    })
  )

  it.scoped("migrate info on an empty folder and an empty database says so", () =>
    Effect.gen(function* () {
      const { cli } = yield* fixture({})
      const info = yield* cli("migrate", "info")
      expect(outcome(info)).toBe("success")
      expect(info.stdout).toEqual(["no migrations (none shipped, none applied)", "", "nothing"])
    })
  )

  it.scoped("migrate run --dry-run prints what would run and changes nothing", () =>
    Effect.gen(function* () {
      const { cli, tables, history } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      const dry = yield* cli("migrate", "run", "--dry-run")
      expect(outcome(dry)).toBe("success")
      expect(dry.stdout).toEqual(["would apply 1 create a", "would apply 2 create b"])
      // not even the history table
      expect(yield* tables).toEqual([])

      const real = yield* cli("migrate", "run")
      expect(outcome(real)).toBe("success")
      expect(real.stdout.map((l) => l.replace(/ \(.*\)$/, ""))).toEqual(["applied 1 create a", "applied 2 create b"])
      const before = yield* history
      const again = yield* cli("migrate", "run", "--dry-run")
      expect(again.stdout).toEqual(["dry run: nothing to apply, the database is up to date"])
      expect(yield* history).toEqual(before)
      expect((yield* cli("migrate", "run")).stdout).toEqual(["nothing to apply: the database is up to date"])
    })
  )

  it.scoped("migrate run --target-version stops after that version", () =>
    Effect.gen(function* () {
      const { cli, tables, history } = yield* fixture({
        "1_create_a.sql": A,
        "2_create_b.sql": B,
        "3_create_c.sql": C
      })
      const dry = yield* cli("migrate", "run", "--dry-run", "--target-version", "2")
      expect(dry.stdout).toEqual([
        "would apply 1 create a",
        "would apply 2 create b",
        "left pending (above the target version) 3 create c"
      ])
      const run = yield* cli("migrate", "run", "--target-version", "2")
      expect(outcome(run)).toBe("success")
      expect(run.stdout.map((l) => l.replace(/ \(.*\)$/, ""))).toEqual([
        "applied 1 create a",
        "applied 2 create b",
        "left pending (above the target version) 3 create c"
      ])
      expect((yield* history).map((r) => r.version)).toEqual(["1", "2"])
      expect(yield* tables).toEqual(["_sqlx_migrations", "a", "b"])
      expect(infoStates((yield* cli("migrate", "info")).stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "applied"],
        ["3", "create c", "pending"]
      ])
      const bad = yield* cli("migrate", "run", "--target-version", "two")
      expect(outcome(bad)).toBe("ValidationError")
      expect((yield* history).map((r) => r.version)).toEqual(["1", "2"])
    })
  )

  it.scoped("migrate validate refuses a changed file, naming the version and both checksums", () =>
    Effect.gen(function* () {
      const { dir, cli } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      expect(outcome(yield* cli("migrate", "run"))).toBe("success")
      const ok = yield* cli("migrate", "validate")
      expect(outcome(ok)).toBe("success")
      expect(ok.stdout).toEqual(["applied migrations are valid"])

      const edited = B.replace("int", "bigint")
      yield* writeMigration(dir, "2_create_b.sql", edited)
      const refused = yield* cli("migrate", "validate")
      expect(outcome(refused)).toBe("ChecksumMismatch")
      expect(refused.stdout).toEqual([])
      const message = failureMessage(refused)
      expect(message).toContain("migration 2 (create b)")
      expect(message).toContain(sha384Hex(B))
      expect(message).toContain(sha384Hex(edited))
      // startup refuses too, before applying anything
      expect(outcome(yield* cli("start"))).toBe("ChecksumMismatch")
      expect(outcome(yield* cli("migrate", "run"))).toBe("ChecksumMismatch")
    })
  )

  it.scoped("migrate validate reports two changed files and a dirty row in one run, each on its own line", () =>
    Effect.gen(function* () {
      const { dir, sql, cli, tables } = yield* fixture({
        "1_create_a.sql": A,
        "2_create_b.sql": B,
        "3_create_c.sql": C
      })
      expect(outcome(yield* cli("migrate", "run"))).toBe("success")
      const editedA = A.replace("int", "bigint")
      const editedC = C + "-- edited after release\n"
      yield* writeMigration(dir, "1_create_a.sql", editedA)
      yield* writeMigration(dir, "3_create_c.sql", editedC)
      yield* sql`UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2`
      yield* writeMigration(dir, "4_create_d.sql", D)

      const changed = (version: bigint, description: string, applied: string, file: string) =>
        new ChecksumMismatch({
          version,
          description,
          appliedChecksum: sha384Hex(applied),
          fileChecksum: sha384Hex(file)
        })
      const expected = new MigrationHistoryRefused({
        refusals: [
          new DirtyMigration({ version: 2n, description: "create b" }),
          changed(1n, "create a", A, editedA),
          changed(3n, "create c", C, editedC)
        ]
      }).message
      // a header, then one line each
      expect(expected.split("\n")).toHaveLength(4)
      // validate, startup and run all list the three, before applying anything
      for (const command of [["migrate", "validate"], ["start"], ["migrate", "run"]]) {
        const run = yield* cli(...command)
        expect(outcome(run)).toBe("MigrationHistoryRefused")
        expect(run.stdout).toEqual([])
        expect(failureMessage(run)).toBe(expected)
      }
      expect(yield* tables).not.toContain("d")
    })
  )

  it.scoped("migrate checksum prints an entry that, pasted into allowedAlternateChecksums, makes validate pass", () =>
    Effect.gen(function* () {
      const { dir, cli, history, migrator } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      expect(outcome(yield* cli("migrate", "run"))).toBe("success")
      const edited = B + "-- a comment added after release\n"
      yield* writeMigration(dir, "2_create_b.sql", edited)

      const printed = yield* cli("migrate", "checksum", "2")
      expect(outcome(printed)).toBe("success")
      const stored = (yield* history).find((r) => r.version === "2")!.checksum
      expect(stored).toBe(sha384Hex(B))
      const entry = printed.stdout.filter((l) => l.startsWith("  "))
      expect(entry).toEqual([
        "  // 2 (create b): applied with an earlier text of the file; say why the edit is safe.",
        `  // full stored checksum: ${stored}`,
        `  { version: 2n, prefix: "${stored.slice(0, 32)}" },`
      ])
      expect(printed.stdout[0]).toBe("Add this entry to allowedAlternateChecksums in src/migrate/allowed.ts:")

      // "paste" the printed text, comments and trailing comma included, into an array literal
      const pasted = new Function(`return [\n${entry.join("\n")}\n]`)() as Array<{ version: bigint; prefix: string }>
      expect(pasted).toEqual([{ version: 2n, prefix: stored.slice(0, 32) }])

      // the CLI cannot be given the lists (it uses allowed.ts), so acceptance is proved on the Migrator
      const refusing = yield* migrator()
      expect((yield* Effect.flip(refusing.validate))._tag).toBe("ChecksumMismatch")
      const accepting = yield* migrator({ allowedAlternateChecksums: pasted })
      const report = yield* accepting.validate
      expect(report.acceptedChanges).toEqual([2n])
      expect((yield* accepting.info).map((s) => [s.version, s.state])).toEqual([
        [1n, "applied"],
        [2n, "changed-accepted"]
      ])
      // an entry for another version, or another prefix, accepts nothing
      const wrongVersion = yield* migrator({ allowedAlternateChecksums: [{ version: 1n, prefix: pasted[0]!.prefix }] })
      expect((yield* Effect.flip(wrongVersion.validate))._tag).toBe("ChecksumMismatch")
      const wrongPrefix = yield* migrator({
        allowedAlternateChecksums: [{ version: 2n, prefix: sha384Hex(edited).slice(0, 32) }]
      })
      expect((yield* Effect.flip(wrongPrefix.validate))._tag).toBe("ChecksumMismatch")
      // and the CLI, on the reviewed (empty) lists, still shows the row as refused
      expect(infoStates((yield* cli("migrate", "info")).stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "changed-refused"]
      ])
    })
  )

  it.scoped("migrate checksum of a version that is not applied fails", () =>
    Effect.gen(function* () {
      const { cli } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      // no history table yet
      const none = yield* cli("migrate", "checksum", "1")
      expect(outcome(none)).toBe("NotApplied")
      expect(failureMessage(none)).toBe("version 1 is not applied in this database: there is no checksum to accept")
      expect(none.stdout).toEqual([])

      expect(outcome(yield* cli("migrate", "run", "--target-version", "1"))).toBe("success")
      const pending = yield* cli("migrate", "checksum", "2")
      expect(outcome(pending)).toBe("NotApplied")
      expect(failureMessage(pending)).toContain("version 2 is not applied")
      expect(pending.stdout).toEqual([])
    })
  )

  it.scoped("migrate add creates <14 digits>_some_description.sql in the --source folder", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("add", { "1_create_a.sql": A })
      const before = Date.now()
      const added = yield* runCli("migrate", "add", "some description", "--source", dir)
      const after = Date.now()
      expect(outcome(added)).toBe("success")
      const names = (yield* Effect.promise(() => readdir(dir))).sort()
      expect(names).toHaveLength(2)
      const name = names.find((n) => n !== "1_create_a.sql")!
      expect(name).toMatch(/^\d{14}_some_description\.sql$/)
      expect(added.stdout).toEqual([join(dir, name)])
      // the version is the UTC time of the call, YYYYMMDDhhmmss
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/\D/g, "").slice(0, 14)
      const version = name.slice(0, 14)
      expect(version >= stamp(before) && version <= stamp(after)).toBe(true)
      expect(yield* Effect.promise(() => readFile(join(dir, name), "utf8"))).toBe("-- some description\n")

      // a description that would not survive the file-name round trip is refused, and nothing is written
      const refused = yield* runCli("migrate", "add", "bad/description", "--source", dir)
      expect(outcome(refused)).toBe("InvalidMigrationDescription")
      expect((yield* Effect.promise(() => readdir(dir))).sort()).toEqual(names)
    })
  )

  it.scoped("--out-of-order error refuses an out-of-order pending migration; the default warns and applies it", () =>
    Effect.gen(function* () {
      const { dir, cli, history, tables } = yield* fixture({ "1_create_a.sql": A, "3_create_c.sql": C })
      expect(outcome(yield* cli("migrate", "run"))).toBe("success")
      yield* writeMigration(dir, "2_create_b.sql", B)
      expect(infoStates((yield* cli("migrate", "info")).stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "out-of-order"],
        ["3", "create c", "applied"]
      ])

      const refused = yield* cli("migrate", "run", "--out-of-order", "error")
      expect(outcome(refused)).toBe("OutOfOrderMigrations")
      expect(failureMessage(refused)).toBe("pending migrations 2 are older than the latest applied migration 3")
      expect((yield* history).map((r) => r.version)).toEqual(["1", "3"])
      expect(yield* tables).not.toContain("b")
      expect(outcome(yield* cli("migrate", "validate", "--out-of-order", "error"))).toBe("OutOfOrderMigrations")

      const applied = yield* cli("migrate", "run")
      expect(outcome(applied)).toBe("success")
      expect(applied.stdout.map((l) => l.replace(/ \(.*\)$/, ""))).toEqual(["applied 2 create b"])
      expect(applied.logs.filter((l) => l.level === "WARN").map((l) => l.message)).toEqual([
        "pending migrations 2 are older than the latest applied migration 3"
      ])
      expect((yield* history).map((r) => r.version)).toEqual(["1", "2", "3"])
      expect(yield* tables).toContain("b")
    })
  )

  it.scoped("start --no-migrate refuses while anything is pending; start migrates and prints the table", () =>
    Effect.gen(function* () {
      const { dir, cli, tables } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      const refused = yield* cli("start", "--no-migrate")
      expect(outcome(refused)).toBe("PendingMigrations")
      expect(failureMessage(refused)).toBe("migrations pending and migrating is disabled: 1, 2")
      expect(refused.stdout).toEqual([])
      expect(yield* tables).toEqual([])
      // the root command is `start`
      expect(outcome(yield* cli("--no-migrate"))).toBe("PendingMigrations")

      const started = yield* cli("start")
      expect(outcome(started)).toBe("success")
      expect(started.stdout.slice(0, 2).map((l) => l.replace(/ \(.*\)$/, ""))).toEqual([
        "applied 1 create a",
        "applied 2 create b"
      ])
      expect(infoStates(started.stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "applied"]
      ])
      expect(started.stdout.at(-1)).toBe("2 applied")

      const quiet = yield* cli("start", "--no-migrate")
      expect(outcome(quiet)).toBe("success")
      expect(infoStates(quiet.stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "applied"]
      ])

      yield* writeMigration(dir, "3_create_c.sql", C)
      const pendingAgain = yield* cli("start", "--no-migrate")
      expect(failureMessage(pendingAgain)).toBe("migrations pending and migrating is disabled: 3")
      expect(yield* tables).toEqual(["_sqlx_migrations", "a", "b"])
      const root = yield* cli()
      expect(outcome(root)).toBe("success")
      expect(infoStates(root.stdout).map((r) => r[2])).toEqual(["applied", "applied", "applied"])
    })
  )

  it.scoped("--json: info, validate, run and start print one document (versions as strings, dates ISO)", () =>
    Effect.gen(function* () {
      const { dir, cli } = yield* fixture({ "1_create_a.sql": A, "20261125000002_create_b.sql": B })
      const json = (run: { readonly stdout: ReadonlyArray<string> }) => JSON.parse(run.stdout.join("\n")) as any

      const before = json(yield* cli("migrate", "info", "--json"))
      expect(before.summary).toEqual({ pending: 2 })
      expect(before.migrations.map((m: any) => [m.version, m.state, m.installedOn, m.appliedChecksum])).toEqual([
        ["1", "pending", null, null],
        ["20261125000002", "pending", null, null]
      ])
      expect(before.migrations[0].fileChecksum).toBe(sha384Hex(A))

      const ran = yield* cli("migrate", "run", "--json", "--target-version", "1")
      expect(outcome(ran)).toBe("success")
      const report = json(ran)
      expect(report.dryRun).toBe(false)
      expect(report.applied.map((m: any) => [m.version, m.description])).toEqual([["1", "create a"]])
      expect(report.applied[0].durationNs).toMatch(/^\d+$/)
      expect(report.skipped).toEqual([{ version: "20261125000002", description: "create b" }])

      const started = yield* cli("start", "--json")
      expect(outcome(started)).toBe("success")
      const state = json(started)
      expect(state.applied.map((m: any) => m.version)).toEqual(["20261125000002"])
      expect(state.summary).toEqual({ applied: 2 })
      for (const m of state.migrations) {
        expect(m.installedOn).toMatch(ISO_TIME)
        expect(m.executionTimeNs).toMatch(/^\d+$/)
        expect(m.appliedChecksum).toBe(m.fileChecksum)
      }

      const valid = json(yield* cli("migrate", "validate", "--json"))
      expect(valid).toEqual({
        valid: true,
        appliedCount: 2,
        pending: [],
        outOfOrder: [],
        unknown: [],
        acceptedChanges: []
      })

      // a refusal is a document too, and still a failure of the command
      const edited = A + "-- edited\n"
      yield* writeMigration(dir, "1_create_a.sql", edited)
      const refused = yield* cli("migrate", "validate", "--json")
      expect(outcome(refused)).toBe("ChecksumMismatch")
      expect(json(refused)).toEqual({
        error: {
          _tag: "ChecksumMismatch",
          message: failureMessage(refused),
          version: "1",
          description: "create a",
          appliedChecksum: sha384Hex(A),
          fileChecksum: sha384Hex(edited)
        }
      })
      const several = yield* cli("start", "--json")
      expect(outcome(several)).toBe("ChecksumMismatch")
      expect(json(several).error._tag).toBe("ChecksumMismatch")
      // without --json, the same refusal prints nothing on stdout
      expect((yield* cli("migrate", "validate")).stdout).toEqual([])
    })
  )

  it.scoped("--migrations-url: the migrator works on that database, --database-url is left alone", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("src", { "1_create_a.sql": A, "2_create_b.sql": B })
      const app = yield* scopedDatabase({ prefix: "cli" })
      const migrations = yield* scopedDatabase({ prefix: "cli" })
      const both = ["--database-url", app.url, "--migrations-url", migrations.url, "--source", dir]
      const tablesOf = (url: string) =>
        Effect.gen(function* () {
          const { sql } = yield* clientFor(url)
          const rows = yield* sql<{ table_name: string }>`
            SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
          return rows.map((r) => r.table_name)
        })

      const ran = yield* runCli("migrate", "run", "--target-version", "1", ...both)
      expect(outcome(ran)).toBe("success")
      expect(ran.stdout.map((l) => l.replace(/ \(.*\)$/, ""))).toEqual([
        "applied 1 create a",
        "left pending (above the target version) 2 create b"
      ])
      expect(yield* tablesOf(migrations.url)).toEqual(["_sqlx_migrations", "a"])
      expect(yield* tablesOf(app.url)).toEqual([])

      // info and validate read the migrations database too
      expect(infoStates((yield* runCli("migrate", "info", ...both)).stdout)).toEqual([
        ["1", "create a", "applied"],
        ["2", "create b", "pending"]
      ])
      expect(outcome(yield* runCli("migrate", "validate", ...both))).toBe("success")
      // start: migrations on one, the locale check on the other
      const started = yield* runCli("start", ...both)
      expect(outcome(started)).toBe("success")
      expect(yield* tablesOf(migrations.url)).toEqual(["_sqlx_migrations", "a", "b"])
      expect(yield* tablesOf(app.url)).toEqual([])
      // without it, the program's database is the migrator's
      expect(outcome(yield* runCli("migrate", "run", "--database-url", app.url, "--source", dir))).toBe("success")
      expect(yield* tablesOf(app.url)).toEqual(["_sqlx_migrations", "a", "b"])
    })
  )

  it.scoped("an unreachable --migrations-url is a DatabaseUnreachable naming it, without its password", () =>
    Effect.gen(function* () {
      const { cli } = yield* fixture({ "1_create_a.sql": A })
      const run = yield* cli("migrate", "run", "--migrations-url", "postgres://someone:secret@127.0.0.1:1/nowhere")
      expect(outcome(run)).toBe("DatabaseUnreachable")
      expect(failureMessage(run)).toMatch(/^cannot connect to postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nowhere: /)
      expect(failureMessage(run)).not.toContain("secret")
    })
  )

  it.scoped("a dirty row fails validate and startup, naming the version", () =>
    Effect.gen(function* () {
      const { sql, cli } = yield* fixture({ "1_create_a.sql": A, "2_create_b.sql": B })
      expect(outcome(yield* cli("migrate", "run", "--target-version", "1"))).toBe("success")
      yield* sql.unsafe(
        `INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (2, 'create b', false, decode('${sha384Hex(B)}', 'hex'), 0)`
      )
      const refused = yield* cli("migrate", "validate")
      expect(outcome(refused)).toBe("DirtyMigration")
      expect(failureMessage(refused)).toContain("migration 2 (create b) is recorded as failed")
      expect(outcome(yield* cli("start"))).toBe("DirtyMigration")
      expect(Either.isLeft((yield* cli("migrate", "run")).result)).toBe(true)
    })
  )
})
