// Contract suite for CompatAccessTokenRepository: every method, expiry, the unique token text and refused input, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { type CompatAccessToken, CompatSession } from "../../../src/model/compat.js"
import { generateUlid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { addUser, rolledBack, seedCompatSession } from "./fixtures.js"
import { expectEachToFail, malformedIdsLike, noRowAffected } from "../refusals.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const TOKENS = "compat_access_tokens"

/** A compat session of a new user. */
const setup = Effect.flatMap(addUser("alice"), seedCompatSession)

const dumpTokens = Effect.flatMap(Seed, (seed) => seed.dump(TOKENS, "compat_access_token_id"))

const lookupOrThrow = (token: CompatAccessToken) =>
  Effect.flatMap(RepositoryAccess, (repos) => Effect.map(repos.compatAccessTokens.lookup(token.id), Option.getOrThrow))

contract("CompatAccessTokenRepository", (test) => {
  test("add stores a token of the session with id and createdAt from Clock and Random; lookup and findByToken read it back", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* compatAccessTokens.add(session, "syt_Tok3n-ünïcødé", Option.some(Duration.minutes(5)))
      expect(token.createdAt).toEqual(new Date(EPOCH))
      expect(ulidTimestamp(token.id)).toBe(EPOCH)
      expect(token.sessionId).toBe(session.id)
      expect(token.token).toBe("syt_Tok3n-ünïcødé")
      expect(token.expiresAt).toEqual(Option.some(at(300)))
      expect(token.isValid(new Date(EPOCH + 299_999))).toBe(true)
      expect(token.isValid(at(300))).toBe(false)
      expect(yield* compatAccessTokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* compatAccessTokens.findByToken("syt_Tok3n-ünïcødé")).toEqual(Option.some(token))

      yield* TestClock.adjust(Duration.seconds(1))
      const forever = yield* compatAccessTokens.add(session, "syt_forever", Option.none())
      expect(forever.createdAt).toEqual(at(1))
      expect(forever.expiresAt).toEqual(Option.none())
      expect(forever.isValid(new Date(8.64e15))).toBe(true)
      expect(yield* compatAccessTokens.findByToken("syt_forever")).toEqual(Option.some(forever))
      expect((yield* dumpTokens).map((r) => r.access_token)).toEqual(["syt_Tok3n-ünïcødé", "syt_forever"])
    }))

  test("the token text is matched exactly: case, surrounding spaces and prefixes differ", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* compatAccessTokens.add(session, " syt_AbC ", Option.none())
      for (const other of ["syt_AbC", " syt_abc ", " SYT_ABC ", " syt_Ab", "syt_AbC "]) {
        expect([other, yield* compatAccessTokens.findByToken(other)]).toEqual([other, Option.none()])
      }
      const upper = yield* compatAccessTokens.add(session, " SYT_ABC ", Option.none())
      expect(yield* compatAccessTokens.findByToken(" SYT_ABC ")).toEqual(Option.some(upper))
      expect(yield* compatAccessTokens.findByToken(" syt_AbC ")).toEqual(Option.some(token))
    }))

  test("an expiry is createdAt + expiresAfter to the millisecond; a zero duration expires at once", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      yield* TestClock.adjust(Duration.millis(7))
      const short = yield* compatAccessTokens.add(session, "short", Option.some(Duration.millis(1234)))
      expect(short.expiresAt).toEqual(Option.some(new Date(EPOCH + 7 + 1234)))
      const zero = yield* compatAccessTokens.add(session, "zero", Option.some(Duration.zero))
      expect(zero.expiresAt).toEqual(Option.some(zero.createdAt))
      expect(zero.isValid(zero.createdAt)).toBe(false)
      for (const t of [short, zero]) expect(yield* lookupOrThrow(t)).toEqual(t)
    }))

  test("a duplicate token text is a RowsAffectedError that leaves the unit of work usable: it commits afterwards", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const other = yield* seedCompatSession(yield* addUser("bob"))
      const [kept, after] = yield* repos.transaction(
        Effect.gen(function* () {
          const kept = yield* repos.compatAccessTokens.add(session, "syt_same", Option.none())
          // the same text, even for another session and with an expiry, is refused
          const error = yield* Effect.flip(
            repos.compatAccessTokens.add(other, "syt_same", Option.some(Duration.minutes(1)))
          )
          expect(error).toMatchObject(noRowAffected)
          const after = yield* repos.compatAccessTokens.add(session, "syt_after", Option.none())
          return [kept, after] as const
        })
      )
      expect(yield* repos.compatAccessTokens.findByToken("syt_same")).toEqual(Option.some(kept))
      expect(yield* repos.compatAccessTokens.lookup(after.id)).toEqual(Option.some(after))
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("add for a session that is not stored is a DriverError (foreign key) and writes nothing", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const ghost = new CompatSession({ ...session, id: yield* generateUlid })
      const error = yield* Effect.flip(compatAccessTokens.add(ghost, "syt_ghost", Option.none()))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      expect(yield* (yield* Seed).count(TOKENS)).toBe(0)
    }))

  test("refused text and expiries: NUL is a DriverError (22021), an unpaired surrogate or an unrepresentable expiry an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      yield* compatAccessTokens.add(session, "syt_kept", Option.none())
      const before = yield* dumpTokens
      for (const text of ["bad\u0000token", "\u0000"]) {
        const error = yield* Effect.flip(compatAccessTokens.add(session, text, Option.none()))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
        const read = yield* Effect.flip(compatAccessTokens.findByToken(text))
        expect(read).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      yield* expectEachToFail("InvalidOperationError", [
        ["add lone surrogate", compatAccessTokens.add(session, "syt_\uD800", Option.none()), "surrogate"],
        ["find lone surrogate", compatAccessTokens.findByToken("syt_\uDC00x"), "surrogate"],
        ["infinite expiry", compatAccessTokens.add(session, "syt_inf", Option.some(Duration.infinity))],
        ["expiry past the Date range", compatAccessTokens.add(session, "syt_far", Option.some(Duration.days(1e9)))]
      ])
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("lookup and findByToken of unknown tokens are none; malformed ids are an InvalidOperationError that leaves the unit usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* repos.compatAccessTokens.add(session, "syt_known", Option.none())
      expect(yield* repos.compatAccessTokens.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* repos.compatAccessTokens.findByToken("syt_unknown")).toEqual(Option.none())
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail(
            "InvalidOperationError",
            malformedIdsLike(token.id).map((bad) => [
              `lookup ${JSON.stringify(bad)}`,
              repos.compatAccessTokens.lookup(bad)
            ])
          )
          yield* repos.compatAccessTokens.add(session, "syt_later", Option.none())
        })
      )
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("expire sets expiresAt to now, so the token is invalid at once, whether it had no expiry or a later one", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const forever = yield* compatAccessTokens.add(session, "syt_forever", Option.none())
      const later = yield* compatAccessTokens.add(session, "syt_later", Option.some(Duration.hours(1)))
      yield* TestClock.adjust(Duration.seconds(30))
      const expired = yield* compatAccessTokens.expire(forever)
      expect(expired.expiresAt).toEqual(Option.some(at(30)))
      expect(expired.isValid(at(30))).toBe(false)
      expect(forever.isValid(at(30))).toBe(true)
      expect({ ...expired, expiresAt: forever.expiresAt }).toEqual({ ...forever })
      expect(yield* lookupOrThrow(forever)).toEqual(expired)

      const cut = yield* compatAccessTokens.expire(later)
      expect(cut.expiresAt).toEqual(Option.some(at(30)))
      expect(yield* lookupOrThrow(later)).toEqual(cut)
    }))

  test("expire overwrites whatever expiry the row holds, as in MAS: expiring again moves it to the new now", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* compatAccessTokens.add(session, "syt_twice", Option.some(Duration.seconds(5)))
      yield* TestClock.adjust(Duration.seconds(10))
      const first = yield* compatAccessTokens.expire(token)
      expect(first.expiresAt).toEqual(Option.some(at(10)))
      yield* TestClock.adjust(Duration.seconds(10))
      // a stale entity too: the statement is not guarded
      const second = yield* compatAccessTokens.expire(token)
      expect(second.expiresAt).toEqual(Option.some(at(20)))
      expect(second.isValid(at(20))).toBe(false)
      expect(yield* lookupOrThrow(token)).toEqual(second)
    }))

  test("expire of a token that is not stored is a RowsAffectedError and writes nothing", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      yield* compatAccessTokens.add(session, "syt_kept", Option.none())
      const ghost = yield* rolledBack(
        Effect.flatMap(RepositoryAccess, (repos) => repos.compatAccessTokens.add(session, "syt_ghost", Option.none()))
      )
      const before = yield* dumpTokens
      expect(yield* Effect.flip(compatAccessTokens.expire(ghost))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("tokens go with their session (ON DELETE CASCADE), on both backends", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const other = yield* seedCompatSession(yield* addUser("bob"))
      yield* compatAccessTokens.add(session, "syt_gone", Option.none())
      const kept = yield* compatAccessTokens.add(other, "syt_kept", Option.none())
      yield* (yield* Seed).delete("compat_sessions", "compat_session_id", session.id)
      expect(yield* compatAccessTokens.findByToken("syt_gone")).toEqual(Option.none())
      expect(yield* lookupOrThrow(kept)).toEqual(kept)
    }))
})
