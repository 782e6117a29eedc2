// The migrator's caches: unchanged files are not read again nor an unchanged history sent again; changes show at once.
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { afterEach, vi } from "vitest"
import { loadMigrations, type Migration } from "../../src/migrate/MigrationSource.js"
import { adminClient } from "../support/database.js"
import { migrationDir, removeMigration, setup, sha384Hex, writeMigration } from "./helpers.js"

// Counts the reads of file contents, passing every call through: the seam is the one call that reads a file.
vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs")>()
  return { ...actual, readFileSync: vi.fn(actual.readFileSync) }
})

const readFileSync = vi.mocked(fs.readFileSync)
afterEach(() => readFileSync.mockClear())

/** The files of `dir` whose contents were read since the last call. */
const readsSince = (dir: string) => {
  const paths = readFileSync.mock.calls.map(([path]) => String(path)).filter((path) => path.startsWith(dir))
  readFileSync.mockClear()
  return paths.map((path) => path.slice(dir.length + 1)).sort()
}

/** Waits until every file of `dir` last changed longer ago than the loader's tick allowance (see MigrationSource). */
const settle = (dir: string) =>
  Effect.promise(async () => {
    const wholeSeconds = fs
      .readdirSync(dir)
      .some((name) => fs.statSync(join(dir, name), { bigint: true }).ctimeNs % 1_000_000_000n === 0n)
    await new Promise((resolve) => setTimeout(resolve, wholeSeconds ? 2_100 : 150))
  })

const load = (dir: string) => Effect.orDie(loadMigrations(dir))
const hexOf = (m: Migration) => Buffer.from(m.checksum).toString("hex")
const checksums = (migrations: ReadonlyArray<Migration>) => migrations.map((m) => [m.version, hexOf(m)])

const A = "CREATE TABLE a (id int);\n"
const B = "CREATE TABLE b (id int);\n"
const C = "CREATE TABLE c (id int);\n"

describe("loadMigrations cache", () => {
  it.live("a second load of unchanged files reads none of them and returns the same records", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_a.sql": A, "2_b.sql": B, "3_c.sql": C, "README.md": "notes" })
      yield* settle(dir)
      const first = yield* load(dir)
      expect(readsSince(dir)).toEqual(["1_a.sql", "2_b.sql", "3_c.sql"])
      const second = yield* load(dir)
      expect(readsSince(dir)).toEqual([])
      expect(second).toEqual(first)
      second.forEach((m, i) => expect(m).toBe(first[i]))
    }).pipe(Effect.scoped)
  )

  it.live("a same-size edit is read again and its checksum used, also when the mtime is set back", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_a.sql": A, "2_b.sql": B })
      yield* settle(dir)
      yield* load(dir)
      readsSince(dir)
      const edited = "CREATE TABLE x (id int);\n"
      expect(edited.length).toBe(B.length)
      yield* writeMigration(dir, "2_b.sql", edited)
      expect(checksums(yield* load(dir))).toEqual([
        [1n, sha384Hex(A)],
        [2n, sha384Hex(edited)]
      ])
      expect(readsSince(dir)).toEqual(["2_b.sql"])

      // same size and the same mtime as when it was cached (cp -p, rsync -t, an editor restoring it): the ctime moved
      const path = join(dir, "2_b.sql")
      const past = new Date("2020-01-01T00:00:00Z")
      fs.utimesSync(path, past, past)
      yield* settle(dir)
      yield* load(dir)
      yield* load(dir)
      readsSince(dir)
      const cached = fs.statSync(path, { bigint: true })
      const again = "CREATE TABLE y (id int);\n"
      yield* writeMigration(dir, "2_b.sql", again)
      fs.utimesSync(path, past, past)
      const now = fs.statSync(path, { bigint: true })
      expect([now.size, now.mtimeNs, now.ino]).toEqual([cached.size, cached.mtimeNs, cached.ino])
      expect(checksums(yield* load(dir))[1]).toEqual([2n, sha384Hex(again)])
      expect(readsSince(dir)).toEqual(["2_b.sql"])
    }).pipe(Effect.scoped)
  )

  it.live("a touched but unchanged file is read again, with the same checksum", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_a.sql": A, "2_b.sql": B })
      yield* settle(dir)
      const first = yield* load(dir)
      readsSince(dir)
      const later = new Date(Date.now() + 60_000)
      fs.utimesSync(join(dir, "1_a.sql"), later, later)
      const second = yield* load(dir)
      expect(readsSince(dir)).toEqual(["1_a.sql"])
      expect(checksums(second)).toEqual(checksums(first))
      expect(second[1]).toBe(first[1])
    }).pipe(Effect.scoped)
  )

  it.live("a file read right after it changed is read again next time, so a same-tick write cannot hide", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({})
      // On a kernel with coarse timestamps two writes within one tick (a few ms) leave the same stamp; Linux 6.13+
      // ext4/xfs/btrfs/tmpfs hand out a finer one after a stat, so there the loop passes without the rule too.
      for (let round = 0; round < 30; round++) {
        const one = `SELECT ${round % 10}; -- one\n`
        const two = `SELECT ${round % 10}; -- two\n`
        yield* writeMigration(dir, "1_flip.sql", one)
        expect(checksums(yield* load(dir))).toEqual([[1n, sha384Hex(one)]])
        yield* writeMigration(dir, "1_flip.sql", two)
        expect(checksums(yield* load(dir))).toEqual([[1n, sha384Hex(two)]])
      }
      // The rule itself, wherever the timestamps come from: a load starting within 80 ms of the change (a round
      // slowed by the machine is tried again) reads the file, even though an earlier load read it unchanged.
      for (let attempt = 0; ; attempt++) {
        const changed = Date.now()
        yield* writeMigration(dir, "1_flip.sql", `SELECT ${attempt}; -- three\n`)
        yield* load(dir)
        readsSince(dir)
        const startedWithin = Date.now() - changed
        yield* load(dir)
        if (startedWithin < 80 || attempt === 20) {
          expect(startedWithin).toBeLessThan(80)
          expect(readsSince(dir)).toEqual(["1_flip.sql"])
          break
        }
      }
    }).pipe(Effect.scoped)
  )

  it.live("an added file is read and a removed one is gone; the others are not read", () =>
    Effect.gen(function* () {
      const dir = yield* migrationDir({ "1_a.sql": A, "3_c.sql": C })
      yield* settle(dir)
      yield* load(dir)
      readsSince(dir)
      yield* writeMigration(dir, "2_b.sql", B)
      expect(checksums(yield* load(dir))).toEqual([
        [1n, sha384Hex(A)],
        [2n, sha384Hex(B)],
        [3n, sha384Hex(C)]
      ])
      expect(readsSince(dir)).toEqual(["2_b.sql"])
      yield* settle(dir)
      yield* load(dir)
      readsSince(dir)
      yield* removeMigration(dir, "1_a.sql")
      expect(checksums(yield* load(dir))).toEqual([
        [2n, sha384Hex(B)],
        [3n, sha384Hex(C)]
      ])
      expect(readsSince(dir)).toEqual([])
    }).pipe(Effect.scoped)
  )

  it.live("folders are cached apart; a broken file fails every load until fixed", () =>
    Effect.gen(function* () {
      const one = yield* migrationDir({ "1_x.sql": A })
      const two = yield* migrationDir({ "1_x.sql": B })
      yield* settle(two)
      for (let i = 0; i < 2; i++) {
        expect(checksums(yield* load(one))).toEqual([[1n, sha384Hex(A)]])
        expect(checksums(yield* load(two))).toEqual([[1n, sha384Hex(B)]])
      }
      yield* writeMigration(one, "2_lint.sql", "-- no-transaction\nSELECT 1; SELECT 2;\n")
      for (let i = 0; i < 2; i++) {
        const error = Either.getLeft(yield* Effect.either(loadMigrations(one))).pipe(Option.getOrThrow)
        expect(error._tag).toBe("NoTransactionLintError")
      }
      yield* writeMigration(one, "2_lint.sql", "-- no-transaction\nSELECT 1;\n")
      expect((yield* load(one)).map((m) => m.version)).toEqual([1n, 2n])
      yield* removeMigration(one, "1_x.sql")
      expect((yield* load(one)).map((m) => m.version)).toEqual([2n])
    }).pipe(Effect.scoped)
  )
})

/** How many rows the history query of each call of `effect` brought back, counted at every pg client of the process. */
const historyRowsReceived = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const proto = pg.Client.prototype as unknown as { query: (...args: Array<unknown>) => unknown }
      const original = proto.query
      const counts: Array<number> = []
      proto.query = function (this: unknown, ...args: Array<unknown>) {
        const [text, params, callback] = args
        if (typeof text === "string" && text.includes("AS digest") && typeof callback === "function") {
          return original.call(this, text, params, (error: unknown, result: { rows?: Array<unknown> }) => {
            counts.push(result?.rows?.length ?? -1)
            return (callback as (...a: Array<unknown>) => unknown)(error, result)
          })
        }
        return original.apply(this, args)
      }
      return { proto, original, counts }
    }),
    ({ counts }) => Effect.map(Effect.either(effect), (result) => ({ result, counts })),
    ({ proto, original }) => Effect.sync(() => (proto.query = original))
  )

layer(adminClient, { excludeTestServices: true })("Migrator with the cache", (it) => {
  it.scoped("an unchanged history is not sent again; any change to the table is", () =>
    Effect.gen(function* () {
      const { sql, migrator } = yield* setup({ "1_a.sql": A, "2_b.sql": B, "3_c.sql": C })
      yield* migrator.run()
      const twice = yield* historyRowsReceived(Effect.zip(migrator.validate, migrator.info))
      expect(twice.counts).toEqual([3, 1])
      expect(Either.isRight(twice.result)).toBe(true)

      const stateAfter = (change: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function* () {
          yield* Effect.orDie(change)
          const { result, counts } = yield* historyRowsReceived(migrator.validate)
          const again = yield* historyRowsReceived(migrator.info)
          return { refusal: Either.getLeft(result).pipe(Option.map((e) => e._tag)), counts, again }
        })
      const edited = yield* stateAfter(
        sql`UPDATE _sqlx_migrations SET checksum = ${Buffer.from(sha384Hex(C), "hex")} WHERE version = 2`
      )
      expect(edited.refusal).toEqual(Option.some("ChecksumMismatch"))
      expect(edited.counts).toEqual([3])
      expect(edited.again.counts).toEqual([1])
      const restored = yield* stateAfter(
        sql`UPDATE _sqlx_migrations SET checksum = ${Buffer.from(sha384Hex(B), "hex")} WHERE version = 2`
      )
      expect(restored.refusal).toEqual(Option.none())
      const dirty = yield* stateAfter(sql`UPDATE _sqlx_migrations SET success = FALSE WHERE version = 3`)
      expect(dirty.refusal).toEqual(Option.some("DirtyMigration"))
      const gone = yield* stateAfter(sql`DELETE FROM _sqlx_migrations WHERE version = 3`)
      expect(gone.refusal).toEqual(Option.none())
      expect((yield* migrator.info).map((s) => [s.version, s.state])).toEqual([
        [1n, "applied"],
        [2n, "applied"],
        [3n, "pending"]
      ])
      const dropped = yield* stateAfter(sql`DROP TABLE _sqlx_migrations`)
      expect(dropped.refusal).toEqual(Option.none())
      expect((yield* migrator.validate).pending.map((m) => m.version)).toEqual([1n, 2n, 3n])
    })
  )

  it.scoped("validate and info see a file edited in the same process, same size, as a checksum mismatch", () =>
    Effect.gen(function* () {
      const { dir, migrator } = yield* setup({ "1_a.sql": A, "2_b.sql": B })
      yield* migrator.run()
      yield* settle(dir)
      yield* migrator.validate
      readsSince(dir)
      expect((yield* migrator.validate).appliedCount).toBe(2)
      expect(readsSince(dir)).toEqual([])

      const edited = "CREATE TABLE z (id int);\n"
      expect(edited.length).toBe(B.length)
      yield* writeMigration(dir, "2_b.sql", edited)
      const error = Either.getLeft(yield* Effect.either(migrator.validate)).pipe(Option.getOrThrow)
      expect(error._tag).toBe("ChecksumMismatch")
      expect(error.message).toContain(sha384Hex(B))
      expect(error.message).toContain(sha384Hex(edited))
      const states = (yield* migrator.info).map((s) => [s.version, s.state])
      expect(states).toEqual([
        [1n, "applied"],
        [2n, "changed-refused"]
      ])

      yield* writeMigration(dir, "2_b.sql", B)
      expect((yield* migrator.validate).appliedCount).toBe(2)
    })
  )
})
