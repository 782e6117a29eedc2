// The migrator against real PostgreSQL: apply, re-run, validation, no-transaction files, failures, info, dry run.
import { expect, layer } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { migrateOnStartup, Migrator, type MigratorService } from "../../src/migrate/Migrator.js"
import { adminClient } from "../support/database.js"
import { captureLogs, history, removeMigration, setup, sha384Hex, tableNames, writeMigration } from "./helpers.js"

const USERS =
  "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n" +
  "CREATE UNIQUE INDEX users_email ON users (email);\n"
const POSTS = "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));\n"
const TAGS = "CREATE TABLE tags (name text PRIMARY KEY);\n"

const twoFiles = { "1_create_users.sql": USERS, "2_create_posts.sql": POSTS }

const states = (migrator: MigratorService) =>
  Effect.map(migrator.info, (statuses) => statuses.map((s) => [s.version, s.state] as const))

const advisoryLocks = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`

layer(adminClient)("Migrator", (it) => {
  it.scoped("applies a fresh database and records sqlx history rows", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup(twoFiles)
      const report = yield* migrator.run()
      expect(report.dryRun).toBe(false)
      expect(report.applied.map((m) => [m.version, m.description])).toEqual([
        [1n, "create users"],
        [2n, "create posts"]
      ])
      expect(report.applied.every((m) => m.durationNs > 0n)).toBe(true)
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "posts", "users"])

      const rows = yield* history(sql)
      expect(rows.map((r) => [r.version, r.description, r.success])).toEqual([
        ["1", "create users", true],
        ["2", "create posts", true]
      ])
      expect(rows[0]!.checksum).toBe(sha384Hex(USERS))
      expect(rows[1]!.checksum).toBe(sha384Hex(POSTS))
      expect(rows.every((r) => r.checksum.length === 96 && BigInt(r.execution_time) > 0n)).toBe(true)

      const columns = yield* sql<{
        column_name: string
        data_type: string
        is_nullable: string
        column_default: string | null
      }>`
        SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
         WHERE table_name = '_sqlx_migrations' ORDER BY ordinal_position`
      expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
        ["version", "bigint", "NO"],
        ["description", "text", "NO"],
        ["installed_on", "timestamp with time zone", "NO"],
        ["success", "boolean", "NO"],
        ["checksum", "bytea", "NO"],
        ["execution_time", "bigint", "NO"]
      ])
      expect(columns[2]!.column_default).toBe("now()")
      expect((yield* sql<{ n: number }>`${sql.unsafe(advisoryLocks)}`)[0]!.n).toBe(0)
      expect(yield* states(migrator)).toEqual([
        [1n, "applied"],
        [2n, "applied"]
      ])
    })
  )

  it.scoped("a re-run applies nothing and leaves the history untouched", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup(twoFiles)
      yield* migrator.run()
      const before = yield* history(sql)
      const again = yield* migrator.run()
      expect(again.applied).toEqual([])
      expect(again.planned).toEqual([])
      expect(yield* history(sql)).toEqual(before)
    })
  )

  it.scoped("refuses a changed file, naming both checksums", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator } = yield* setup(twoFiles)
      yield* migrator.run()
      const edited = USERS + "-- an edit\n"
      yield* writeMigration(dir, "1_create_users.sql", edited)
      yield* writeMigration(dir, "3_create_tags.sql", TAGS)
      const error = yield* Effect.flip(migrator.run())
      expect(error._tag).toBe("ChecksumMismatch")
      expect(error.message).toContain(sha384Hex(USERS))
      expect(error.message).toContain(sha384Hex(edited))
      expect(error.message).toContain("migration 1 ")
      // validation happens before applying: the new migration did not run
      expect(yield* tableNames(sql)).not.toContain("tags")
      expect((yield* Effect.flip(migrator.validate))._tag).toBe("ChecksumMismatch")
      expect(yield* states(migrator)).toEqual([
        [1n, "changed-refused"],
        [2n, "applied"],
        [3n, "pending"]
      ])
    })
  )

  it.scoped("accepts a changed file whose stored checksum prefix is listed", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator, withConfig } = yield* setup(twoFiles)
      yield* migrator.run()
      yield* writeMigration(dir, "1_create_users.sql", USERS + "-- an edit\n")
      const prefix = sha384Hex(USERS).slice(0, 32)
      const wrongVersion = yield* withConfig({ allowedAlternateChecksums: [{ version: 2n, prefix }] })
      expect((yield* Effect.flip(wrongVersion.run()))._tag).toBe("ChecksumMismatch")

      const accepting = yield* withConfig({
        allowedAlternateChecksums: [{ version: 1n, prefix: prefix.toUpperCase() }]
      })
      yield* writeMigration(dir, "3_create_tags.sql", TAGS)
      const report = yield* accepting.run()
      expect(report.applied.map((m) => m.version)).toEqual([3n])
      expect(yield* tableNames(sql)).toContain("tags")
      expect(yield* states(accepting)).toEqual([
        [1n, "changed-accepted"],
        [2n, "applied"],
        [3n, "applied"]
      ])
      // the stored checksum is kept as applied
      expect((yield* history(sql))[0]!.checksum).toBe(sha384Hex(USERS))
    })
  )

  it.scoped("refuses a stored checksum shorter than 16 bytes", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup(twoFiles)
      yield* migrator.run()
      yield* sql`UPDATE _sqlx_migrations SET checksum = '\\x0102'::bytea WHERE version = 2`
      const error = yield* Effect.flip(migrator.validate)
      expect(error._tag).toBe("StoredChecksumTooShort")
      expect(error.message).toContain("migration 2")
    })
  )

  it.scoped("warns about an applied version without a file, unless it is allowed", () =>
    Effect.gen(function* () {
      const { dir, migrator, withConfig } = yield* setup(twoFiles)
      yield* migrator.run()
      yield* removeMigration(dir, "2_create_posts.sql")

      const warned = yield* captureLogs(migrator.validate)
      expect(Either.isRight(warned.result)).toBe(true)
      const warnings = warned.lines.filter((l) => l.level === "WARN")
      expect(warnings.length).toBe(1)
      expect(warnings[0]!.message).toContain("applied migration 2 (create posts) has no file")
      expect(yield* states(migrator)).toEqual([
        [1n, "applied"],
        [2n, "missing"]
      ])
      // not an error for run either
      const ran = yield* captureLogs(migrator.run())
      expect(Either.isRight(ran.result)).toBe(true)
      expect(ran.lines.some((l) => l.level === "WARN" && l.message.includes("migration 2"))).toBe(true)

      const allowing = yield* withConfig({ allowedMissing: [2n] })
      const quiet = yield* captureLogs(allowing.validate)
      expect(Either.isRight(quiet.result)).toBe(true)
      expect(quiet.lines.filter((l) => l.level === "WARN")).toEqual([])
      expect(quiet.lines.some((l) => l.level === "DEBUG" && l.message.includes("allowedMissing"))).toBe(true)
      expect(yield* states(allowing)).toEqual([
        [1n, "applied"],
        [2n, "missing-allowed"]
      ])
    })
  )

  it.scoped("refuses a dirty (success = false) row", () =>
    Effect.gen(function* () {
      const { sql, migrator, dir } = yield* setup(twoFiles)
      yield* migrator.run()
      yield* sql`UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2`
      yield* writeMigration(dir, "3_create_tags.sql", TAGS)
      const error = yield* Effect.flip(migrator.run())
      expect(error._tag).toBe("DirtyMigration")
      expect(error.message).toContain("migration 2")
      expect(yield* tableNames(sql)).not.toContain("tags")
      expect((yield* Effect.flip(migrator.validate))._tag).toBe("DirtyMigration")
      expect(yield* states(migrator)).toEqual([
        [1n, "applied"],
        [2n, "dirty"],
        [3n, "pending"]
      ])
    })
  )

  it.scoped("applies a -- no-transaction CREATE INDEX CONCURRENTLY", () =>
    Effect.gen(function* () {
      const index = "-- no-transaction\nCREATE INDEX CONCURRENTLY users_email_lower ON users (lower(email));\n"
      const { sql, migrator } = yield* setup({ ...twoFiles, "3_index_emails.sql": index })
      const report = yield* migrator.run()
      expect(report.applied.map((m) => m.version)).toEqual([1n, 2n, 3n])
      const indexes = yield* sql<{ indexname: string }>`
        SELECT indexname FROM pg_indexes WHERE tablename = 'users' AND indexname = 'users_email_lower'`
      expect(indexes.length).toBe(1)
      const rows = yield* history(sql)
      expect(rows[2]).toMatchObject({
        version: "3",
        description: "index emails",
        success: true,
        checksum: sha384Hex(index)
      })
      expect(BigInt(rows[2]!.execution_time) > 0n).toBe(true)
    })
  )

  it.scoped("refuses a two-statement no-transaction file before touching the database", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({
        ...twoFiles,
        "3_two_indexes.sql":
          "-- no-transaction\nCREATE INDEX CONCURRENTLY a ON users (email);\n" +
          "CREATE INDEX CONCURRENTLY b ON posts (user_id);\n"
      })
      const error = yield* Effect.flip(migrator.run())
      expect(error._tag).toBe("NoTransactionLintError")
      expect(error.message).toContain("3_two_indexes.sql")
      expect(error.message).toContain("holds 2")
      expect(yield* tableNames(sql)).toEqual([])
    })
  )

  it.scoped("a failing migration leaves no history row and no partial schema", () =>
    Effect.gen(function* () {
      const bad = "CREATE TABLE audit (id bigint);\nINSERT INTO no_such_table VALUES (1);\n"
      const { sql, migrator, dir } = yield* setup({
        "1_create_users.sql": USERS,
        "2_audit.sql": bad,
        "3_create_tags.sql": TAGS
      })
      const error = yield* Effect.flip(migrator.run())
      expect(error._tag).toBe("MigrationFailed")
      if (error._tag !== "MigrationFailed") return
      expect(error.version).toBe(2n)
      expect(error.description).toBe("audit")
      expect(error.cause).toContain('relation "no_such_table" does not exist')
      expect(error.cause).toContain("line 2")
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "users"])
      expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
      // the lock was released and the connection is usable again
      expect((yield* sql<{ n: number }>`${sql.unsafe(advisoryLocks)}`)[0]!.n).toBe(0)

      yield* writeMigration(dir, "2_audit.sql", "CREATE TABLE audit (id bigint);\n")
      const report = yield* migrator.run()
      expect(report.applied.map((m) => m.version)).toEqual([2n, 3n])
    })
  )

  it.scoped("a failing no-transaction migration records nothing", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({
        "1_create_users.sql": USERS,
        "2_index.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON missing_table (x);\n"
      })
      const error = yield* Effect.flip(migrator.run())
      expect(error._tag).toBe("MigrationFailed")
      expect(error.message).toContain("migration 2 (index) failed")
      expect((yield* history(sql)).map((r) => r.version)).toEqual(["1"])
    })
  )

  it.scoped("reports out-of-order pending versions, and refuses them under the error policy", () =>
    Effect.gen(function* () {
      const { dir, sql, migrator, withConfig } = yield* setup({
        "1_create_users.sql": USERS,
        "3_create_tags.sql": TAGS
      })
      yield* migrator.run()
      yield* writeMigration(dir, "2_create_posts.sql", POSTS)
      expect(yield* states(migrator)).toEqual([
        [1n, "applied"],
        [2n, "out-of-order"],
        [3n, "applied"]
      ])

      const strict = yield* withConfig({ outOfOrder: "error" })
      const error = yield* Effect.flip(strict.run())
      expect(error._tag).toBe("OutOfOrderMigrations")
      expect(error.message).toContain("2")
      expect(error.message).toContain("latest applied migration 3")
      expect((yield* Effect.flip(strict.validate))._tag).toBe("OutOfOrderMigrations")
      expect(yield* tableNames(sql)).not.toContain("posts")

      const lenient = yield* captureLogs(migrator.run())
      expect(Either.getOrThrow(lenient.result).applied.map((m) => m.version)).toEqual([2n])
      expect(Either.getOrThrow(lenient.result).outOfOrder).toEqual([2n])
      expect(lenient.lines.some((l) => l.level === "WARN" && l.message.includes("pending migrations 2"))).toBe(true)
    })
  )

  it.scoped("applies only versions up to the target", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({ ...twoFiles, "3_create_tags.sql": TAGS })
      const first = yield* migrator.run({ targetVersion: 2n })
      expect(first.applied.map((m) => m.version)).toEqual([1n, 2n])
      expect(first.skipped.map((m) => m.version)).toEqual([3n])
      expect(yield* tableNames(sql)).not.toContain("tags")
      expect(yield* states(migrator)).toEqual([
        [1n, "applied"],
        [2n, "applied"],
        [3n, "pending"]
      ])
      const rest = yield* migrator.run()
      expect(rest.applied.map((m) => m.version)).toEqual([3n])
    })
  )

  it.scoped("a dry run reports what would run and changes nothing", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({ ...twoFiles, "3_create_tags.sql": TAGS })
      const dry = yield* migrator.run({ dryRun: true })
      expect(dry.dryRun).toBe(true)
      expect(dry.applied).toEqual([])
      expect(dry.planned).toEqual([
        { version: 1n, description: "create users" },
        { version: 2n, description: "create posts" },
        { version: 3n, description: "create tags" }
      ])
      expect(yield* tableNames(sql)).toEqual([])

      yield* migrator.run({ targetVersion: 1n })
      const before = yield* history(sql)
      const dryAgain = yield* migrator.run({ dryRun: true, targetVersion: 2n })
      expect(dryAgain.planned.map((m) => m.version)).toEqual([2n])
      expect(dryAgain.skipped.map((m) => m.version)).toEqual([3n])
      expect(yield* history(sql)).toEqual(before)
      expect(yield* tableNames(sql)).toEqual(["_sqlx_migrations", "users"])
    })
  )

  it.scoped("info on a database without history lists everything pending and creates nothing", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup(twoFiles)
      const statuses = yield* migrator.info
      expect(statuses.map((s) => [s.version, s.description, s.state])).toEqual([
        [1n, "create users", "pending"],
        [2n, "create posts", "pending"]
      ])
      expect(Option.isNone(statuses[0]!.installedOn)).toBe(true)
      expect(Option.map(statuses[0]!.fileChecksum, (c) => Buffer.from(c).toString("hex"))).toEqual(
        Option.some(sha384Hex(USERS))
      )
      expect(yield* tableNames(sql)).toEqual([])
      expect(Option.isNone(yield* migrator.appliedChecksum(1n))).toBe(true)

      yield* migrator.run()
      const applied = yield* migrator.info
      expect(Option.isSome(applied[0]!.installedOn)).toBe(true)
      expect(Option.getOrThrow(applied[0]!.executionTimeNs) > 0n).toBe(true)
      const stored = yield* migrator.appliedChecksum(1n)
      expect(Option.map(stored, (s) => [s.description, Buffer.from(s.checksum).toString("hex")])).toEqual(
        Option.some(["create users", sha384Hex(USERS)])
      )
      expect(Option.isNone(yield* migrator.appliedChecksum(99n))).toBe(true)
    })
  )

  it.scoped("startup refuses pending migrations when told not to migrate, and applies them otherwise", () =>
    Effect.gen(function* () {
      const { ctx, config } = yield* setup(twoFiles)
      const startup = (migrate: boolean) =>
        migrateOnStartup({ migrate }).pipe(Effect.provide(Migrator.layer(config)), Effect.provide(ctx))
      const refused = yield* Effect.flip(startup(false))
      expect(refused._tag).toBe("PendingMigrations")
      expect(refused.message).toContain("1, 2")
      const applied = yield* startup(true)
      expect(applied.applied.map((m) => m.version)).toEqual([1n, 2n])
      const nothing = yield* startup(false)
      expect(nothing.applied).toEqual([])
    })
  )
})
