// Contract suite for CompatRefreshTokenRepository: every method, consumeAndReplace (every unconsumed token of the session but the successor, refused and stale tokens), the unique token text and refused input, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import {
  type CompatAccessToken,
  CompatRefreshToken,
  CompatRefreshTokenConsumed,
  CompatSession
} from "../../../src/model/compat.js"
import type { User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { addUser, rolledBack, seedCompatSession } from "./fixtures.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const TOKENS = "compat_refresh_tokens"

/** A compat session of `user` with one access token. */
const sessionWithAccessToken = (user: User, accessToken: string) =>
  Effect.gen(function* () {
    const { compatAccessTokens } = yield* RepositoryAccess
    const session = yield* seedCompatSession(user)
    return { session, accessToken: yield* compatAccessTokens.add(session, accessToken, Option.none()) }
  })

const setup = Effect.flatMap(addUser("alice"), (alice) => sessionWithAccessToken(alice, "syt_access"))

const dumpTokens = Effect.flatMap(Seed, (seed) => seed.dump(TOKENS, "compat_refresh_token_id"))

/** Each stored token's text and consumedAt, in id order. */
const consumption = Effect.map(dumpTokens, (rows) => rows.map((r) => [r.refresh_token, r.consumed_at]))

const lookupOrThrow = (id: Ulid) =>
  Effect.flatMap(RepositoryAccess, (repos) => Effect.map(repos.compatRefreshTokens.lookup(id), Option.getOrThrow))

/** Adds refresh tokens one millisecond apart (so their ids are in the given order). */
const addTokens = (session: CompatSession, accessToken: CompatAccessToken, ...texts: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { compatRefreshTokens } = yield* RepositoryAccess
    const added: Array<CompatRefreshToken> = []
    for (const text of texts) {
      added.push(yield* compatRefreshTokens.add(session, accessToken, text))
      yield* TestClock.adjust(Duration.millis(1))
    }
    return added
  })

contract("CompatRefreshTokenRepository", (test) => {
  test("add stores a valid token of the session issued with the access token; lookup and findByToken read it back", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const token = yield* compatRefreshTokens.add(session, accessToken, "syr_Tok3n-ünïcødé")
      expect(token.createdAt).toEqual(new Date(EPOCH))
      expect(ulidTimestamp(token.id)).toBe(EPOCH)
      expect(token.state._tag).toBe("Valid")
      expect(token.isValid).toBe(true)
      expect(token.sessionId).toBe(session.id)
      expect(token.accessTokenId).toBe(accessToken.id)
      expect(token.token).toBe("syr_Tok3n-ünïcødé")
      expect(yield* compatRefreshTokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* compatRefreshTokens.findByToken("syr_Tok3n-ünïcødé")).toEqual(Option.some(token))
      for (const other of ["syr_tok3n-ünïcødé", "syr_Tok3n", " syr_Tok3n-ünïcødé"]) {
        expect([other, yield* compatRefreshTokens.findByToken(other)]).toEqual([other, Option.none()])
      }
    }))

  test("a duplicate token text is a RowsAffectedError that leaves the unit of work usable: it commits afterwards", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const other = yield* sessionWithAccessToken(yield* addUser("bob"), "syt_other")
      const [kept, after] = yield* repos.transaction(
        Effect.gen(function* () {
          const kept = yield* repos.compatRefreshTokens.add(session, accessToken, "syr_same")
          const error = yield* Effect.flip(repos.compatRefreshTokens.add(other.session, other.accessToken, "syr_same"))
          expect(error).toMatchObject(noRowAffected)
          const after = yield* repos.compatRefreshTokens.add(session, accessToken, "syr_after")
          return [kept, after] as const
        })
      )
      expect(yield* repos.compatRefreshTokens.findByToken("syr_same")).toEqual(Option.some(kept))
      expect(yield* lookupOrThrow(after.id)).toEqual(after)
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("add for a session or an access token that is not stored is a DriverError (foreign key) and writes nothing", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const ghostSession = new CompatSession({ ...session, id: yield* generateUlid })
      const ghostAccess = yield* rolledBack(
        Effect.flatMap(RepositoryAccess, (repos) => repos.compatAccessTokens.add(session, "syt_ghost", Option.none()))
      )
      for (const attempt of [
        compatRefreshTokens.add(ghostSession, accessToken, "syr_1"),
        compatRefreshTokens.add(session, ghostAccess, "syr_2")
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      }
      expect(yield* (yield* Seed).count(TOKENS)).toBe(0)
    }))

  test("refused text: NUL is a DriverError (22021), an unpaired surrogate an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      yield* compatRefreshTokens.add(session, accessToken, "syr_kept")
      const before = yield* dumpTokens
      for (const text of ["bad\u0000token", "\u0000"]) {
        const error = yield* Effect.flip(compatRefreshTokens.add(session, accessToken, text))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
        const read = yield* Effect.flip(compatRefreshTokens.findByToken(text))
        expect(read).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      yield* expectEachToFail("InvalidOperationError", [
        ["add lone surrogate", compatRefreshTokens.add(session, accessToken, "syr_\uD800"), "surrogate"],
        ["find lone surrogate", compatRefreshTokens.findByToken("syr_\uDC00x"), "surrogate"]
      ])
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("lookup of an unknown id is none; malformed ids are an InvalidOperationError that leaves the unit usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const token = yield* repos.compatRefreshTokens.add(session, accessToken, "syr_known")
      expect(yield* repos.compatRefreshTokens.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* repos.compatRefreshTokens.findByToken("syr_unknown")).toEqual(Option.none())
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail(
            "InvalidOperationError",
            malformedIdsLike(token.id).map((bad) => [
              `lookup ${JSON.stringify(bad)}`,
              repos.compatRefreshTokens.lookup(bad)
            ])
          )
          yield* repos.compatRefreshTokens.add(session, accessToken, "syr_later")
        })
      )
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("consumeAndReplace moves the token to Consumed at now and leaves its successor the session's one valid token", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token, successor] = yield* addTokens(session, accessToken, "syr_1", "syr_2")
      yield* TestClock.setTime(at(30).getTime())
      const consumed = yield* compatRefreshTokens.consumeAndReplace(token!, successor!)
      expect(consumed).toEqual(
        new CompatRefreshToken({ ...token!, state: new CompatRefreshTokenConsumed({ consumedAt: at(30) }) })
      )
      expect(consumed.isValid).toBe(false)
      expect(yield* lookupOrThrow(token!.id)).toEqual(consumed)
      expect(yield* lookupOrThrow(successor!.id)).toEqual(successor)
    }))

  test("consumeAndReplace consumes every unconsumed token of the session but the successor (as after an import from Synapse), with the same instant; other sessions and earlier consumptions are untouched", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const { accessToken, session } = yield* sessionWithAccessToken(alice, "syt_a")
      const other = yield* sessionWithAccessToken(alice, "syt_b")
      const [old] = yield* addTokens(session, accessToken, "old", "i1", "p", "i2")
      const [elsewhere] = yield* addTokens(other.session, other.accessToken, "elsewhere")
      const [oldSuccessor] = yield* addTokens(session, accessToken, "old-successor")
      yield* TestClock.setTime(at(10).getTime())
      yield* compatRefreshTokens.consumeAndReplace(old!, oldSuccessor!)
      // that consumed everything of the session but the old successor
      expect(yield* consumption).toEqual([
        ["old", at(10)],
        ["i1", at(10)],
        ["p", at(10)],
        ["i2", at(10)],
        ["elsewhere", null],
        ["old-successor", null]
      ])

      // Tokens imported after that rotation: three valid ones besides the successor of the next rotation.
      yield* TestClock.setTime(at(20).getTime())
      const [a, b, c, next] = yield* addTokens(session, accessToken, "a", "b", "c", "next")
      yield* TestClock.setTime(at(30).getTime())
      const consumed = yield* compatRefreshTokens.consumeAndReplace(b!, next!)
      expect(consumed.state).toEqual(new CompatRefreshTokenConsumed({ consumedAt: at(30) }))
      expect(yield* consumption).toEqual([
        ["old", at(10)],
        ["i1", at(10)],
        ["p", at(10)],
        ["i2", at(10)],
        ["elsewhere", null],
        ["old-successor", at(30)],
        ["a", at(30)],
        ["b", at(30)],
        ["c", at(30)],
        ["next", null]
      ])
      for (const t of [a, c]) expect((yield* lookupOrThrow(t!.id)).state._tag).toBe("Consumed")
      expect(yield* lookupOrThrow(elsewhere!.id)).toEqual(elsewhere)
      expect(yield* lookupOrThrow(next!.id)).toEqual(next)
    }))

  test("consumeAndReplace refuses, with an InvalidOperationError and nothing written: a successor of another session, the token as its own successor, a token passed in consumed, malformed ids", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const { accessToken, session } = yield* sessionWithAccessToken(alice, "syt_a")
      const other = yield* sessionWithAccessToken(alice, "syt_b")
      const [token, successor] = yield* addTokens(session, accessToken, "syr_1", "syr_2")
      const [foreign] = yield* addTokens(other.session, other.accessToken, "syr_foreign")
      const consumedEntity = new CompatRefreshToken({
        ...token!,
        state: new CompatRefreshTokenConsumed({ consumedAt: at(0) })
      })
      const malformed = malformedIdsLike(token!.id)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* expectEachToFailWithoutWriting(dumpTokens, "InvalidOperationError", [
        ["successor of another session", compatRefreshTokens.consumeAndReplace(token!, foreign!), "different"],
        ["token of another session", compatRefreshTokens.consumeAndReplace(foreign!, successor!), "different"],
        ["its own successor", compatRefreshTokens.consumeAndReplace(token!, token!), "own successor"],
        ["consumed", compatRefreshTokens.consumeAndReplace(consumedEntity, successor!), "Invalid transition"],
        ...malformed.map(
          (bad) =>
            [
              `malformed id ${JSON.stringify(bad)}`,
              compatRefreshTokens.consumeAndReplace({ ...token!, id: bad } as CompatRefreshToken, successor!)
            ] as const
        ),
        ...malformed.map(
          (bad) =>
            [
              `malformed successor ${JSON.stringify(bad)}`,
              compatRefreshTokens.consumeAndReplace(token!, { ...successor!, id: bad } as CompatRefreshToken)
            ] as const
        )
      ])
    }))

  test("consumeAndReplace of a stale entity whose row another rotation consumed is a RowsAffectedError and consumes nothing, though the session has unconsumed tokens", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token, first, second] = yield* addTokens(session, accessToken, "presented", "first", "second")
      yield* TestClock.setTime(at(10).getTime())
      // the first rotation consumes `presented` and `second`: `first` is the valid one
      yield* compatRefreshTokens.consumeAndReplace(token!, first!)
      // a second rotation of the same presented token, with the stale (valid) entity
      yield* TestClock.setTime(at(20).getTime())
      const [third] = yield* addTokens(session, accessToken, "third")
      const before = yield* dumpTokens
      expect(yield* Effect.flip(compatRefreshTokens.consumeAndReplace(token!, third!))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
      expect(yield* lookupOrThrow(first!.id)).toEqual(first)
      expect((yield* lookupOrThrow(second!.id)).state).toEqual(new CompatRefreshTokenConsumed({ consumedAt: at(10) }))
    }))

  test("consumeAndReplace of a token that is not stored, or whose entity names another session than its row, is a RowsAffectedError and consumes nothing", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const { accessToken, session } = yield* sessionWithAccessToken(alice, "syt_a")
      const other = yield* sessionWithAccessToken(alice, "syt_b")
      const [, successor] = yield* addTokens(session, accessToken, "kept", "successor")
      const [otherToken] = yield* addTokens(other.session, other.accessToken, "o1", "o2")
      const ghost = yield* rolledBack(
        Effect.flatMap(RepositoryAccess, (repos) => repos.compatRefreshTokens.add(session, accessToken, "ghost"))
      )
      // the stored row of `otherToken` is of the other session, its entity claims this one
      const misplaced = new CompatRefreshToken({ ...otherToken!, sessionId: session.id })
      const before = yield* dumpTokens
      for (const attempt of [
        compatRefreshTokens.consumeAndReplace(ghost, successor!),
        compatRefreshTokens.consumeAndReplace(misplaced, successor!)
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject(noRowAffected)
      }
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("consumeAndReplace does not require the successor to be stored, as in MAS: every token of the session is consumed", () =>
    Effect.gen(function* () {
      const { compatRefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token] = yield* addTokens(session, accessToken, "t", "sibling")
      const ghost = yield* rolledBack(
        Effect.flatMap(RepositoryAccess, (repos) => repos.compatRefreshTokens.add(session, accessToken, "ghost"))
      )
      yield* TestClock.setTime(at(5).getTime())
      yield* compatRefreshTokens.consumeAndReplace(token!, ghost)
      expect(yield* consumption).toEqual([
        ["t", at(5)],
        ["sibling", at(5)]
      ])
    }))

  test("refresh tokens go with their session or their access token (ON DELETE CASCADE), on both backends", () =>
    Effect.gen(function* () {
      const { compatAccessTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const second = yield* compatAccessTokens.add(session, "syt_second", Option.none())
      yield* addTokens(session, accessToken, "with-first")
      yield* addTokens(session, second, "with-second")
      const seed = yield* Seed
      yield* seed.delete("compat_access_tokens", "compat_access_token_id", accessToken.id)
      expect((yield* dumpTokens).map((r) => r.refresh_token)).toEqual(["with-second"])
      yield* seed.delete("compat_sessions", "compat_session_id", session.id)
      expect(yield* dumpTokens).toEqual([])
    }))
})
