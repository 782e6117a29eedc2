// Contract suite for RepositoryAccess.transaction: all or nothing on both backends, including interruption and doomed units.
import { expect } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option } from "effect"
import type { DriverError } from "../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { Seed } from "../support/seed.js"
import { contract, EPOCH } from "./backends.js"

const userCount = Effect.flatMap(RepositoryAccess, (r) => r.users.count({}))

contract("RepositoryAccess.transaction", (test) => {
  test("success commits every write of the unit", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* repos.transaction(
        Effect.gen(function* () {
          const alice = yield* repos.users.add("alice")
          yield* seed.insert("user_unsupported_third_party_ids", {
            user_id: alice.id,
            medium: "msisdn",
            address: "+4411",
            created_at: new Date(EPOCH)
          })
          return yield* repos.users.lock(alice)
        })
      )
      expect(Option.map(yield* repos.users.lookup(alice.id), (u) => u.lockedAt)).toEqual(Option.some(alice.lockedAt))
      expect(yield* repos.users.deleteUnsupportedThreepids(alice)).toBe(1)
    }))

  test("two repositories written in one unit: both visible after success", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [alice, email] = yield* repos.transaction(
        Effect.gen(function* () {
          const alice = yield* repos.users.add("alice")
          const email = yield* repos.userEmails.add(alice, "alice@example.com")
          return [alice, email] as const
        })
      )
      expect(Option.isSome(yield* repos.users.lookup(alice.id))).toBe(true)
      expect(yield* repos.userEmails.lookup(email.id)).toEqual(Option.some(email))
    }))

  test("a failure midway leaves no trace of the writes before it, in any repository", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const exit = yield* Effect.exit(
        repos.transaction(
          Effect.gen(function* () {
            const alice = yield* repos.users.add("alice")
            yield* repos.userEmails.add(alice, "alice@example.com")
            yield* repos.users.add("bob")
            return yield* Effect.fail("midway" as const)
          })
        )
      )
      expect(exit).toEqual(Exit.fail("midway"))
      expect(yield* userCount).toBe(0)
      expect(yield* repos.users.exists("alice")).toBe(false)
      expect(yield* repos.userEmails.count({})).toBe(0)
    }))

  test("writes are visible inside the unit before it commits", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const seen = yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.users.add("alice")
          return yield* repos.users.exists("alice")
        })
      )
      expect(seen).toBe(true)
    }))

  test.live("an interrupted unit of work is rolled back", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const wrote = yield* Deferred.make<void>()
      const fiber = yield* repos
        .transaction(
          Effect.gen(function* () {
            yield* repos.users.add("alice")
            yield* Deferred.succeed(wrote, undefined)
            return yield* Effect.never
          })
        )
        .pipe(Effect.fork)
      yield* Deferred.await(wrote)
      yield* Fiber.interrupt(fiber)
      expect(yield* userCount).toBe(0)
      // The backend is usable afterwards: the connection or lock of the unit was released.
      yield* repos.users.add("bob")
      expect(yield* userCount).toBe(1)
    })
  )

  test("a driver error caught inside dooms the unit: it fails instead of committing, and nothing is kept", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const result = yield* Effect.exit(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.users.add("alice")
            const bad = yield* Effect.flip(repos.users.add("nul\u0000byte"))
            expect(bad._tag).toBe("DriverError")
            // Any further statement fails too (PostgreSQL's 25P02); the caller swallows that as well.
            const after = yield* Effect.flip(repos.users.add("bob"))
            expect(after._tag).toBe("DriverError")
            expect(after).toMatchObject({ sqlState: Option.some("25P02") })
          })
        )
      )
      expect(Exit.isFailure(result)).toBe(true)
      const error = Exit.isFailure(result) ? Cause.failureOption(result.cause) : Option.none()
      // (the error type also holds the flipped successes of the swallowed calls, hence the cast)
      expect(Option.map(error, (e) => (e as DriverError)._tag)).toEqual(Option.some("DriverError"))
      expect(Option.map(error, (e) => (e as DriverError).sqlState)).toEqual(Option.some(Option.some("25P02")))
      expect(yield* userCount).toBe(0)
    }))

  test("a nested unit is a savepoint: its failure rolls back only its own writes", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.users.add("outer")
          const inner = yield* Effect.exit(
            repos.transaction(Effect.zipRight(repos.users.add("inner"), Effect.fail("inner fails" as const)))
          )
          expect(inner).toEqual(Exit.fail("inner fails"))
        })
      )
      expect(yield* repos.users.exists("outer")).toBe(true)
      expect(yield* repos.users.exists("inner")).toBe(false)
    }))

  test("a driver error outside any unit of work fails that call only", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      expect((yield* Effect.flip(repos.users.add("nul\u0000byte")))._tag).toBe("DriverError")
      yield* repos.users.add("alice")
      expect(yield* userCount).toBe(1)
    }))
})

// Regression found by test/reliability: a failed COMMIT/ROLLBACK was a defect from @effect/sql on PostgreSQL.
contract("RepositoryAccess.transaction: driver failures stay typed (regression)", (test) => {
  test("a doomed unit fails with a typed DriverError, never a defect, and commits nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const exit = yield* Effect.exit(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.users.add("alice")
            // A NUL byte is refused by the server: the unit is doomed, its rollback must stay a typed failure.
            yield* Effect.ignore(repos.users.add("nul\u0000byte"))
          })
        )
      )
      expect(Exit.isFailure(exit) && Option.isSome(Cause.failureOption(exit.cause))).toBe(true)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(false)
      expect(yield* userCount).toBe(0)
    }))
})
