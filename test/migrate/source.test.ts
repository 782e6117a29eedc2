// Migration files: name parsing, checksums, the no-transaction lint, `addMigration`, and the lock key.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { createHash } from "node:crypto"
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { crc32, migrationLockKey } from "../../src/migrate/LockKey.js"
import {
  addMigration,
  checksum,
  loadMigrations,
  parseMigrationFileName,
  timestampVersion
} from "../../src/migrate/MigrationSource.js"
import { migrationDir, sha384Hex } from "./helpers.js"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const utf8 = (text: string) => new TextEncoder().encode(text)

describe("lock key", () => {
  it("matches sqlx's test vectors", () => {
    expect(migrationLockKey("postgres")).toBe(368907709894077238n)
    expect(migrationLockKey("mas")).toBe(183358133847234462n)
  })

  it("uses zlib's CRC-32", () => {
    expect(crc32(utf8("123456789"))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array())).toBe(0)
  })

  it("stays within a signed 64-bit integer", () => {
    const key = migrationLockKey("a database name with a large crc \u00e9")
    expect(key).toBe(BigInt.asIntN(64, key))
  })
})

describe("checksum", () => {
  it("is the SHA-384 of the exact bytes", () => {
    const text = "CREATE TABLE users (id uuid PRIMARY KEY);\n"
    expect(checksum(utf8(text)).length).toBe(48)
    expect(hex(checksum(utf8(text)))).toBe(createHash("sha384").update(text).digest("hex"))
    expect(hex(checksum(utf8("abc")))).toBe(
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
    )
  })

  it("does not normalise line endings", () => {
    expect(hex(checksum(utf8("SELECT 1;\r\n")))).not.toBe(hex(checksum(utf8("SELECT 1;\n"))))
  })
})

describe("parseMigrationFileName", () => {
  it("reads the version before the first _ and turns _ into spaces", () => {
    expect(parseMigrationFileName("20240101120000_create_users_table.sql")).toEqual(
      Either.right({ version: 20240101120000n, description: "create users table" })
    )
    expect(parseMigrationFileName("0001_x.sql")).toEqual(Either.right({ version: 1n, description: "x" }))
  })

  it("refuses a non-integer or oversized version", () => {
    expect(Either.isLeft(parseMigrationFileName("v1_create.sql"))).toBe(true)
    expect(Either.isLeft(parseMigrationFileName("1.5_create.sql"))).toBe(true)
    expect(Either.isLeft(parseMigrationFileName("-1_create.sql"))).toBe(true)
    expect(Either.isLeft(parseMigrationFileName("_create.sql"))).toBe(true)
    expect(Either.isLeft(parseMigrationFileName("9223372036854775808_too_big.sql"))).toBe(true)
    expect(Either.isRight(parseMigrationFileName("9223372036854775807_max.sql"))).toBe(true)
    expect(Either.isLeft(parseMigrationFileName("20240101.sql"))).toBe(true)
  })
})

describe("loadMigrations", () => {
  it.scoped("loads .sql files sorted by version with their checksums", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({
        "10_second_one.sql": "SELECT 2;\r\n",
        "9_first.sql": "SELECT 1;\n",
        "README.md": "not a migration",
        "11_concurrent_index.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n"
      })
      const migrations = yield* loadMigrations(dir)
      expect(migrations.map((m) => [m.version, m.description, m.noTransaction])).toEqual([
        [9n, "first", false],
        [10n, "second one", false],
        [11n, "concurrent index", true]
      ])
      expect(migrations[1]!.sql).toBe("SELECT 2;\r\n")
      expect(migrations[1]!.path).toBe(join(dir, "10_second_one.sql"))
      expect(hex(migrations[1]!.checksum)).toBe(sha384Hex("SELECT 2;\r\n"))
    })
  )

  it.scoped("takes -- no-transaction only from the very first bytes", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({
        "1_bom.sql": "\ufeff-- no-transaction\nSELECT 1; SELECT 2;",
        "2_space.sql": " -- no-transaction\nSELECT 1; SELECT 2;"
      })
      const migrations = yield* loadMigrations(dir)
      expect(migrations.map((m) => m.noTransaction)).toEqual([false, false])
    })
  )

  it.scoped("refuses a non-integer version instead of skipping the file", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_ok.sql": "SELECT 1;", "v2_bad.sql": "SELECT 2;" })
      const error = yield* Effect.flip(loadMigrations(dir))
      expect(error._tag).toBe("InvalidMigrationName")
      expect(error.message).toContain("v2_bad.sql")
    })
  )

  it.scoped("refuses duplicate versions", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_one.sql": "SELECT 1;", "0001_also_one.sql": "SELECT 1;" })
      const error = yield* Effect.flip(loadMigrations(dir))
      expect(error._tag).toBe("DuplicateMigrationVersion")
      expect(error.message).toContain("duplicate migration version 1")
    })
  )

  it.scoped("refuses a no-transaction file with more than one statement, naming the count", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({
        "1_two.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY b ON t (y);\n"
      })
      const error = yield* Effect.flip(loadMigrations(dir))
      expect(error._tag).toBe("NoTransactionLintError")
      if (error._tag === "NoTransactionLintError") expect(error.statementCount).toBe(2)
    })
  )

  it.scoped("refuses a file that is not UTF-8", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_latin1.sql": new Uint8Array([0x53, 0xe9, 0x3b]) })
      const error = yield* Effect.flip(loadMigrations(dir))
      expect(error._tag).toBe("MigrationReadError")
    })
  )

  it.effect("fails with a read error for a missing folder", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(loadMigrations("/nonexistent/migrations/folder"))
      expect(error._tag).toBe("MigrationReadError")
    })
  )
})

describe("addMigration", () => {
  it("formats the version as YYYYMMDDhhmmss in UTC", () => {
    expect(timestampVersion(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe(20240102030405n)
  })

  it.scoped("names the file from the clock and reads back the same description", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({})
      yield* TestClock.setTime(Date.UTC(2024, 2, 5, 7, 8, 9))
      const path = yield* addMigration(dir, "add users table")
      expect(path).toBe(join(dir, "20240305070809_add_users_table.sql"))
      expect(yield* Effect.promise(() => readdir(dir))).toEqual(["20240305070809_add_users_table.sql"])
      expect(yield* Effect.promise(() => readFile(path, "utf8"))).toContain("add users table")
      const [migration] = yield* loadMigrations(dir)
      expect(migration!.version).toBe(20240305070809n)
      expect(migration!.description).toBe("add users table")
    })
  )

  it.scoped("creates the folder when missing", () =>
    Effect.gen(function* () {
      const dir = join(yield* migrationDir({}), "nested", "migrations")
      yield* TestClock.setTime(Date.UTC(2025, 11, 31, 23, 59, 59))
      const path = yield* addMigration(dir, "first")
      expect(path).toBe(join(dir, "20251231235959_first.sql"))
    })
  )

  it.scoped("refuses descriptions that would not round-trip", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({})
      for (const description of ["has_underscore", "", "  ", " padded", "a/b", "a\\b", "line\nbreak"]) {
        const error = yield* Effect.flip(addMigration(dir, description))
        expect(error._tag).toBe("InvalidMigrationDescription")
      }
      expect(yield* Effect.promise(() => readdir(dir))).toEqual([])
    })
  )

  it.scoped("refuses a second migration in the same second", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({})
      yield* TestClock.setTime(Date.UTC(2024, 2, 5, 7, 8, 9))
      yield* addMigration(dir, "one")
      const error = yield* Effect.flip(addMigration(dir, "two"))
      expect(error._tag).toBe("DuplicateMigrationVersion")
      expect((yield* Effect.promise(() => readdir(dir))).length).toBe(1)
    })
  )
})
