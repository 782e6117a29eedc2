// Contract suite for UserPasswordRepository: the append-only password history, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Password, User } from "../../../src/model/user.js"
import { generateUlid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"

contract("UserPasswordRepository", (test) => {
  test("a user without a password has no active one", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      expect(yield* userPasswords.active(alice)).toEqual(Option.none())
    }))

  test("add stores a password whose id and createdAt come from Clock and Random, and it becomes active", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      yield* TestClock.adjust(Duration.seconds(2))
      const password = yield* userPasswords.add(alice, 1, "$argon2id$v=19$hash", Option.none())
      expect(password.hashedPassword).toBe("$argon2id$v=19$hash")
      expect(password.version).toBe(1)
      expect(password.upgradedFromId).toEqual(Option.none())
      expect(password.createdAt.getTime()).toBe(EPOCH + 2_000)
      expect(ulidTimestamp(password.id)).toBe(EPOCH + 2_000)
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(password))
    }))

  test("the active password is the newest; upgradedFrom links to the previous one", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const bob = yield* users.add("bob")
      const v1 = yield* userPasswords.add(alice, 1, "old", Option.none())
      yield* TestClock.adjust(Duration.seconds(1))
      const bobs = yield* userPasswords.add(bob, 1, "bob's", Option.none())
      yield* TestClock.adjust(Duration.seconds(1))
      const v2 = yield* userPasswords.add(alice, 2, "upgraded", Option.some(v1))
      expect(v2.upgradedFromId).toEqual(Option.some(v1.id))
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(v2))
      // Another user's newer password does not count.
      yield* TestClock.adjust(Duration.seconds(1))
      yield* userPasswords.add(bob, 3, "bob's newest", Option.none())
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(v2))
      expect(Option.map(yield* userPasswords.active(bob), (p) => p.hashedPassword)).toEqual(Option.some("bob's newest"))
      expect(bobs.version).toBe(1)
    }))

  test("passwords added in one millisecond: the active one is the greatest id, on both backends", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const added: Array<Password> = []
      for (let i = 0; i < 4; i++) added.push(yield* userPasswords.add(alice, i, `hash-${i}`, Option.none()))
      const newest = added.reduce((a, b) => (a.id > b.id ? a : b))
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(newest))
    }))

  test("the active password is the newest by createdAt even when its id is smaller (as MAS); the id breaks ties", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      // Ids in creation order, createdAt in the reverse order: the smallest id carries the latest instant.
      const ids = [yield* generateUlid, yield* generateUlid, yield* generateUlid].sort()
      const stamps = [EPOCH + 30_000, EPOCH + 10_000, EPOCH + 10_000]
      const seeded = ids.map(
        (id, i) =>
          new Password({
            id,
            hashedPassword: `h${i}`,
            version: 1,
            upgradedFromId: Option.none(),
            createdAt: new Date(stamps[i]!)
          })
      )
      for (const p of seeded) {
        yield* seed.insert("user_passwords", {
          user_password_id: p.id,
          user_id: alice.id,
          hashed_password: p.hashedPassword,
          version: p.version,
          upgraded_from_id: null,
          created_at: p.createdAt
        })
      }
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(seeded[0]))
      // An added password is newer than all of them only once the clock has passed the latest instant.
      yield* TestClock.adjust(Duration.seconds(20))
      const early = yield* userPasswords.add(alice, 1, "early", Option.none())
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(seeded[0]))
      yield* TestClock.adjust(Duration.seconds(20))
      const late = yield* userPasswords.add(alice, 1, "late", Option.none())
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(late))
      expect(early.id < late.id).toBe(true)
    }))

  test("two passwords with the same createdAt: the greater id is active", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      const [small, great] = [yield* generateUlid, yield* generateUlid].sort()
      const createdAt = new Date(EPOCH + 5_000)
      for (const id of [small!, great!]) {
        yield* seed.insert("user_passwords", {
          user_password_id: id,
          user_id: alice.id,
          hashed_password: id,
          version: 1,
          upgraded_from_id: null,
          created_at: createdAt
        })
      }
      expect(Option.map(yield* userPasswords.active(alice), (p) => p.id)).toEqual(Option.some(great))
    }))

  test("versions 0 and 65535 are accepted; anything outside 0..65535 or fractional is refused and writes nothing", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      yield* userPasswords.add(alice, 0, "zero", Option.none())
      yield* TestClock.adjust(Duration.seconds(1))
      const max = yield* userPasswords.add(alice, 65535, "max", Option.none())
      expect(max.version).toBe(65535)
      for (const version of [-1, 65536, 1.5, Number.NaN, 2 ** 40]) {
        yield* TestClock.adjust(Duration.seconds(1))
        const error = yield* Effect.flip(userPasswords.add(alice, version, "refused", Option.none()))
        expect(error._tag).toBe("InvalidOperationError")
      }
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(max))
    }))

  test("hashes keep non-ASCII text exactly; a NUL byte is a DriverError and writes nothing", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const unicode = yield* userPasswords.add(alice, 7, "ÄÖÜ-ß-Σίσυφος-🔐", Option.none())
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(unicode))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = yield* Effect.flip(userPasswords.add(alice, 7, "bad\u0000hash", Option.none()))
      expect(error._tag).toBe("DriverError")
      if (error._tag === "DriverError") expect(error.sqlState).toEqual(Option.some("22021"))
      expect(yield* userPasswords.active(alice)).toEqual(Option.some(unicode))
    }))

  test("a user or an upgraded-from password missing from the database is a foreign-key DriverError", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const ghost = new User({ ...alice, id: yield* generateUlid, username: "ghost" })
      const ghostPassword = new Password({
        id: yield* generateUlid,
        hashedPassword: "x",
        version: 1,
        upgradedFromId: Option.none(),
        createdAt: new Date(EPOCH)
      })
      for (const attempt of [
        userPasswords.add(ghost, 1, "h", Option.none()),
        userPasswords.add(alice, 1, "h", Option.some(ghostPassword))
      ]) {
        const error = yield* Effect.flip(attempt)
        expect(error._tag).toBe("DriverError")
        if (error._tag === "DriverError") expect(error.sqlState).toEqual(Option.some("23503"))
      }
      expect(yield* userPasswords.active(alice)).toEqual(Option.none())
      expect(yield* userPasswords.active(ghost)).toEqual(Option.none())
    }))

  test("a failed unit of work leaves no password behind", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const kept = yield* repos.userPasswords.add(alice, 1, "kept", Option.none())
      yield* TestClock.adjust(Duration.seconds(1))
      const failed = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            const p = yield* repos.userPasswords.add(alice, 2, "rolled back", Option.some(kept))
            expect(yield* repos.userPasswords.active(alice)).toEqual(Option.some(p))
            return yield* Effect.fail("cancel" as const)
          })
        )
      )
      expect(failed).toBe("cancel")
      expect(yield* repos.userPasswords.active(alice)).toEqual(Option.some(kept))
    }))

  test("a stored password with an infinite createdAt is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { users, userPasswords } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      const id = yield* generateUlid
      yield* seed.insert("user_passwords", {
        user_password_id: id,
        user_id: alice.id,
        hashed_password: "h",
        version: 1,
        upgraded_from_id: null,
        created_at: "infinity"
      })
      const error = yield* Effect.flip(userPasswords.active(alice))
      expect(error).toMatchObject({
        _tag: "InconsistencyError",
        table: "user_passwords",
        column: Option.some("created_at"),
        row: Option.some(id)
      })
      expect(error.message).toBe(`Database inconsistency on table user_passwords column created_at row ${id}`)
    }))
})
