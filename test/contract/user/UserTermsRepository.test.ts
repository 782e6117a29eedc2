// Contract suite for UserTermsRepository: accepting terms once, again (a silent no-op), and the failures, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { User } from "../../../src/model/user.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import type { Url } from "../../../src/model/values.js"
import { fromSqlError } from "../../../src/pg/common/errors.js"
import { DriverError } from "../../../src/storage/common/errors.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"

const url = (text: string) => text as Url

/** The SQLSTATE of a failed seed insert (the PostgreSQL seeder reports the raw SqlError). */
const sqlState = (error: unknown): Option.Option<string> =>
  error instanceof DriverError
    ? error.sqlState
    : error instanceof SqlError
      ? fromSqlError(error).sqlState
      : Option.none()

/**
 * Whether `user` has accepted `termsUrl`, observed through the (user_id, terms_url) constraint: a
 * planted duplicate fails with a unique violation exactly when the row is there.
 */
const hasAccepted = (userId: Ulid, termsUrl: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const planted = yield* Effect.either(
      seed.insert("user_terms", {
        user_terms_id: yield* generateUlid,
        user_id: userId,
        terms_url: termsUrl,
        created_at: new Date(EPOCH)
      })
    )
    if (planted._tag === "Right") return false
    expect(sqlState(planted.left)).toEqual(Option.some("23505"))
    return true
  })

contract("UserTermsRepository", (test) => {
  test("acceptTerms records the (user, terms URL) pair", () =>
    Effect.gen(function* () {
      const { users, userTerms } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      yield* userTerms.acceptTerms(alice, url("https://example.com/tos/v1"))
      expect(yield* hasAccepted(alice.id, "https://example.com/tos/v1")).toBe(true)
      // Another URL is a different pair (the probe above planted v2 itself when it was absent).
      expect(yield* hasAccepted(alice.id, "https://example.com/tos/v2")).toBe(false)
    }))

  test("accepting the same terms again is a silent no-op that leaves the unit of work usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const tos = url("https://example.com/tos")
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.userTerms.acceptTerms(alice, tos)
          yield* repos.userTerms.acceptTerms(alice, tos)
          yield* repos.userTerms.acceptTerms(alice, tos)
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.users.exists("bob")).toBe(true)
      expect(yield* hasAccepted(alice.id, tos)).toBe(true)
      // Across units of work too.
      yield* repos.userTerms.acceptTerms(alice, tos)
    }))

  test("URLs are compared exactly and users independently", () =>
    Effect.gen(function* () {
      const { users, userTerms } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const bob = yield* users.add("bob")
      yield* userTerms.acceptTerms(alice, url("https://example.com/TOS"))
      yield* userTerms.acceptTerms(bob, url("https://example.com/tos"))
      expect(yield* hasAccepted(alice.id, "https://example.com/TOS")).toBe(true)
      expect(yield* hasAccepted(bob.id, "https://example.com/tos")).toBe(true)
      expect(yield* hasAccepted(bob.id, "https://example.com/TOS")).toBe(false)
      yield* userTerms.acceptTerms(alice, url("https://example.com/tos"))
      expect(yield* hasAccepted(alice.id, "https://example.com/tos")).toBe(true)
    }))

  test("terms of a user that is not stored are a foreign-key DriverError that dooms the unit of work", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const ghost = new User({
        id: yield* generateUlid,
        username: "ghost",
        createdAt: new Date(EPOCH),
        lockedAt: Option.none(),
        deactivatedAt: Option.none(),
        canRequestAdmin: false,
        isGuest: false
      })
      const error = yield* Effect.flip(repos.userTerms.acceptTerms(ghost, url("https://example.com/tos")))
      expect(error).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503"),
        constraint: Option.some("user_terms_user_id_fkey")
      })
      const doomed = yield* Effect.flip(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.users.add("carol")
            yield* Effect.ignore(repos.userTerms.acceptTerms(ghost, url("https://example.com/tos")))
          })
        )
      )
      expect(doomed._tag).toBe("DriverError")
      expect(yield* repos.users.exists("carol")).toBe(false)
    }))

  test("the URL is stored in its WHATWG form: spellings differing in host case or the origin's slash are one acceptance", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.userTerms.acceptTerms(alice, url("https://EXAMPLE.com"))
          yield* repos.userTerms.acceptTerms(alice, url("https://example.com/"))
          yield* repos.userTerms.acceptTerms(alice, url("HTTPS://Example.COM:443/tos/../"))
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.users.exists("bob")).toBe(true)
      expect(yield* hasAccepted(alice.id, "https://example.com/")).toBe(true)
      // The spellings as given were not stored (the probe plants them itself).
      expect(yield* hasAccepted(alice.id, "https://EXAMPLE.com")).toBe(false)
      expect(yield* hasAccepted(alice.id, "https://example.com")).toBe(false)
    }))

  test("text that is not an absolute URL (unparsable, relative, with NUL or spaces) is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const refused = [
        "not a url",
        "/tos",
        "",
        "https://example.com/\u0000",
        " https://example.com/",
        "https://exa mple.com/"
      ]
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const text of refused) {
            const error = yield* Effect.flip(repos.userTerms.acceptTerms(alice, url(text)))
            expect([text, error._tag]).toEqual([text, "InvalidOperationError"])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* repos.userTerms.acceptTerms(alice, url("https://example.com/ok"))
        })
      )
      expect(yield* hasAccepted(alice.id, "https://example.com/ok")).toBe(true)
      for (const text of ["not a url", "/tos", "https://example.com/"]) {
        expect(yield* hasAccepted(alice.id, text)).toBe(false)
      }
    }))
})
