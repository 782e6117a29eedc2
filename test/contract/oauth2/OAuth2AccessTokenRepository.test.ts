// Contract suite for OAuth2AccessTokenRepository: every method, transitions valid, invalid and stale, the unique token text, refused input and both cleanups, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import type { AccessToken } from "../../../src/model/oauth2/accessToken.js"
import { RefreshToken } from "../../../src/model/oauth2/refreshToken.js"
import { OAuth2Session } from "../../../src/model/oauth2/session.js"
import { generateUlid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addBrowserSession, addUser, rolledBack, seedClient, seedOAuth2Session } from "./fixtures.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const second = Duration.seconds(1)

const TOKENS = "oauth2_access_tokens"
const REFRESH_TOKENS = "oauth2_refresh_tokens"

/** A user's OAuth2 session (client and session seeded as rows). */
const setup = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const browserSession = yield* addBrowserSession(alice)
  const client = yield* seedClient
  return yield* seedOAuth2Session(client, { browserSession })
})

/** What both backends hold in the token tables: compared before and after a refused call. */
const dumpTokens = Effect.gen(function* () {
  const seed = yield* Seed
  return {
    access: yield* seed.dump(TOKENS, "oauth2_access_token_id"),
    refresh: yield* seed.dump(REFRESH_TOKENS, "oauth2_refresh_token_id")
  }
})

const lookupOrThrow = (token: AccessToken) =>
  Effect.flatMap(RepositoryAccess, (repos) => Effect.map(repos.oauth2AccessTokens.lookup(token.id), Option.getOrThrow))

/** A token of `session` that was never stored (its add rolled back). */
const unstoredToken = (session: OAuth2Session, text: string) =>
  rolledBack(Effect.flatMap(RepositoryAccess, (repos) => repos.oauth2AccessTokens.add(session, text, Option.none())))

contract("OAuth2AccessTokenRepository", (test) => {
  test("add stores a valid, unused token of the session with id and createdAt from Clock and Random; lookup and findByToken read it back", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, "mat_Tok3n-ünïcødé", Option.some(Duration.minutes(5)))
      expect(token.createdAt).toEqual(new Date(EPOCH))
      expect(ulidTimestamp(token.id)).toBe(EPOCH)
      expect(token.state._tag).toBe("Valid")
      expect(token.sessionId).toBe(session.id)
      expect(token.accessToken).toBe("mat_Tok3n-ünïcødé")
      expect(token.expiresAt).toEqual(Option.some(new Date(EPOCH + 5 * 60_000)))
      expect(token.firstUsedAt).toEqual(Option.none())
      expect(token.isUsed).toBe(false)
      expect(token.isValid(at(300))).toBe(true)
      expect(token.isExpired(at(301))).toBe(true)
      expect(yield* oauth2AccessTokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* oauth2AccessTokens.findByToken("mat_Tok3n-ünïcødé")).toEqual(Option.some(token))

      yield* TestClock.adjust(second)
      const forever = yield* oauth2AccessTokens.add(session, "mat_forever", Option.none())
      expect(forever.createdAt).toEqual(at(1))
      expect(forever.expiresAt).toEqual(Option.none())
      expect(forever.isExpired(new Date(8.64e15))).toBe(false)
      expect(yield* oauth2AccessTokens.findByToken("mat_forever")).toEqual(Option.some(forever))
    }))

  test("the token text is stored as is and matched exactly: case, surrounding spaces and prefixes differ", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, " mat_AbC ", Option.none())
      expect((yield* lookupOrThrow(token)).accessToken).toBe(" mat_AbC ")
      for (const other of ["mat_AbC", " mat_abc ", " MAT_ABC ", " mat_AbC", " mat_", ""]) {
        expect([other, yield* oauth2AccessTokens.findByToken(other)]).toEqual([other, Option.none()])
      }
      // a text differing only in case is another token
      const upper = yield* oauth2AccessTokens.add(session, " MAT_ABC ", Option.none())
      expect(yield* oauth2AccessTokens.findByToken(" MAT_ABC ")).toEqual(Option.some(upper))
      expect(yield* oauth2AccessTokens.findByToken(" mat_AbC ")).toEqual(Option.some(token))
    }))

  test("an expiry is createdAt + expiresAfter to the millisecond; a zero duration expires at once", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      yield* TestClock.adjust(Duration.millis(7))
      const short = yield* oauth2AccessTokens.add(session, "short", Option.some(Duration.millis(1234)))
      expect(short.expiresAt).toEqual(Option.some(new Date(EPOCH + 7 + 1234)))
      const zero = yield* oauth2AccessTokens.add(session, "zero", Option.some(Duration.zero))
      expect(zero.expiresAt).toEqual(Option.some(zero.createdAt))
      const long = yield* oauth2AccessTokens.add(session, "long", Option.some(Duration.days(365 * 1000)))
      expect(long.expiresAt).toEqual(Option.some(new Date(EPOCH + 7 + 365_000 * 86_400_000)))
      for (const t of [short, zero, long]) expect(yield* lookupOrThrow(t)).toEqual(t)
    }))

  test("a duplicate token text is a RowsAffectedError that leaves the unit of work usable: it commits afterwards", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const other = yield* seedOAuth2Session(yield* seedClient)
      const [kept, after] = yield* repos.transaction(
        Effect.gen(function* () {
          const kept = yield* repos.oauth2AccessTokens.add(session, "mat_same", Option.none())
          // the same text, even for another session and with an expiry, is refused
          const error = yield* Effect.flip(
            repos.oauth2AccessTokens.add(other, "mat_same", Option.some(Duration.minutes(1)))
          )
          expect(error).toMatchObject(noRowAffected)
          const after = yield* repos.oauth2AccessTokens.add(session, "mat_after", Option.none())
          return [kept, after] as const
        })
      )
      expect(yield* repos.oauth2AccessTokens.findByToken("mat_same")).toEqual(Option.some(kept))
      expect(yield* repos.oauth2AccessTokens.lookup(after.id)).toEqual(Option.some(after))
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("add for a session that is not stored is a DriverError (foreign key) and writes nothing", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const ghost = new OAuth2Session({ ...session, id: yield* generateUlid })
      const error = yield* Effect.flip(oauth2AccessTokens.add(ghost, "mat_ghost", Option.none()))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      expect(yield* (yield* Seed).count(TOKENS)).toBe(0)
    }))

  test("refused text and expiries: NUL is a DriverError (22021), an unpaired surrogate or an unrepresentable expiry an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      yield* oauth2AccessTokens.add(session, "mat_kept", Option.none())
      const before = yield* dumpTokens
      for (const text of ["bad\u0000token", "\u0000"]) {
        const error = yield* Effect.flip(oauth2AccessTokens.add(session, text, Option.none()))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
        const read = yield* Effect.flip(oauth2AccessTokens.findByToken(text))
        expect(read).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      yield* expectEachToFail("InvalidOperationError", [
        ["add lone surrogate", oauth2AccessTokens.add(session, "mat_\uD800", Option.none()), "surrogate"],
        ["find lone surrogate", oauth2AccessTokens.findByToken("mat_\uDC00x"), "surrogate"],
        ["infinite expiry", oauth2AccessTokens.add(session, "mat_inf", Option.some(Duration.infinity))],
        ["expiry past the Date range", oauth2AccessTokens.add(session, "mat_far", Option.some(Duration.days(1e9)))]
      ])
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("lookup and findByToken of unknown tokens are none; malformed ids are an InvalidOperationError that leaves the unit usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* repos.oauth2AccessTokens.add(session, "mat_known", Option.none())
      expect(yield* repos.oauth2AccessTokens.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* repos.oauth2AccessTokens.findByToken("mat_unknown")).toEqual(Option.none())
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail(
            "InvalidOperationError",
            malformedIdsLike(token.id).map((bad) => [
              `lookup ${JSON.stringify(bad)}`,
              repos.oauth2AccessTokens.lookup(bad)
            ])
          )
          yield* repos.oauth2AccessTokens.add(session, "mat_later", Option.none())
        })
      )
      expect(yield* (yield* Seed).count(TOKENS)).toBe(2)
    }))

  test("revoke moves a valid token to Revoked at now; revoking it again is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, "mat_r", Option.some(Duration.hours(1)))
      yield* TestClock.adjust(Duration.seconds(30))
      const revoked = yield* oauth2AccessTokens.revoke(token)
      expect(revoked.state).toMatchObject({ _tag: "Revoked", revokedAt: at(30) })
      expect(revoked.isValid(at(31))).toBe(false)
      expect({ ...revoked, state: token.state }).toEqual({ ...token })
      expect(yield* lookupOrThrow(token)).toEqual(revoked)

      yield* TestClock.adjust(Duration.seconds(30))
      const before = yield* dumpTokens
      const error = yield* Effect.flip(oauth2AccessTokens.revoke(revoked))
      expect(error._tag).toBe("InvalidOperationError")
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("revoke of a stale entity whose row was revoked meanwhile, or of a token not stored, is a RowsAffectedError and changes nothing", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, "mat_stale", Option.none())
      yield* TestClock.adjust(second)
      const revoked = yield* oauth2AccessTokens.revoke(token)
      yield* TestClock.adjust(second)
      const before = yield* dumpTokens
      expect(yield* Effect.flip(oauth2AccessTokens.revoke(token))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
      expect(yield* lookupOrThrow(token)).toEqual(revoked)

      const ghost = yield* unstoredToken(session, "mat_ghost")
      expect(yield* Effect.flip(oauth2AccessTokens.revoke(ghost))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("markUsed sets firstUsedAt to now, overwriting an earlier use, whatever the state; a token not stored is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, "mat_used", Option.none())
      yield* TestClock.adjust(Duration.seconds(5))
      const used = yield* oauth2AccessTokens.markUsed(token)
      expect(used.firstUsedAt).toEqual(Option.some(at(5)))
      expect(used.isUsed).toBe(true)
      expect(yield* lookupOrThrow(token)).toEqual(used)

      yield* TestClock.adjust(Duration.seconds(5))
      const again = yield* oauth2AccessTokens.markUsed(used)
      expect(again.firstUsedAt).toEqual(Option.some(at(10)))
      expect(yield* lookupOrThrow(token)).toEqual(again)

      yield* TestClock.adjust(Duration.seconds(5))
      const revoked = yield* oauth2AccessTokens.revoke(again)
      const usedRevoked = yield* oauth2AccessTokens.markUsed(revoked)
      expect(usedRevoked.state._tag).toBe("Revoked")
      expect(usedRevoked.firstUsedAt).toEqual(Option.some(at(15)))
      expect(yield* lookupOrThrow(token)).toEqual(usedRevoked)

      const ghost = yield* unstoredToken(session, "mat_ghost")
      const before = yield* dumpTokens
      expect(yield* Effect.flip(oauth2AccessTokens.markUsed(ghost))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("cleanupRevoked deletes revoked tokens in batches by revokedAt (ties in id order), resumed from the returned key", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const tokens: Array<AccessToken> = []
      for (let i = 0; i < 6; i++) {
        tokens.push(yield* oauth2AccessTokens.add(session, `mat_${i}`, Option.none()))
        yield* TestClock.adjust(Duration.millis(1))
      }
      const valid = tokens.pop()!
      // revoked at 10, 10, 20, 30, 40 (two share an instant)
      yield* TestClock.setTime(at(10).getTime())
      for (const [i, t] of tokens.entries()) {
        if (i >= 2) yield* TestClock.adjust(Duration.seconds(10))
        yield* oauth2AccessTokens.revoke(t)
      }
      const remaining = () => Effect.map(dumpTokens, (d) => d.access.map((r) => r.access_token))
      const until = at(40)

      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.none(), until, 1)).toEqual([1, Option.some(at(10))])
      // the lower id of the two revoked at 10 went first, as on both backends
      expect(yield* remaining()).toEqual(["mat_1", "mat_2", "mat_3", "mat_4", "mat_5"])
      // since is inclusive: the other token of instant 10 is not skipped
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(10)), until, 2)).toEqual([2, Option.some(at(20))])
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(20)), until, 2)).toEqual([1, Option.some(at(30))])
      // until is exclusive: the token revoked at 40 stays
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(30)), until, 2)).toEqual([0, Option.none()])
      expect(yield* remaining()).toEqual(["mat_4", "mat_5"])
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(30)), at(41), 0)).toEqual([0, Option.none()])
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(41)), at(50), 10)).toEqual([0, Option.none()])
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.some(at(30)), at(41), 10)).toEqual([
        1,
        Option.some(at(40))
      ])
      expect(yield* remaining()).toEqual(["mat_5"])
      expect(yield* lookupOrThrow(valid)).toEqual(valid)
    }))

  test("cleanupExpired deletes tokens by expiresAt, revoked or not; tokens without expiry stay", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const add = (text: string, seconds: number | null) =>
        oauth2AccessTokens.add(session, text, seconds === null ? Option.none() : Option.some(Duration.seconds(seconds)))
      yield* add("in20", 20)
      const revokedIn10 = yield* add("in10-revoked", 10)
      yield* add("in30", 30)
      yield* add("in10", 10)
      const never = yield* add("never", null)
      yield* oauth2AccessTokens.revoke(revokedIn10)
      const remaining = () => Effect.map(dumpTokens, (d) => d.access.map((r) => r.access_token).sort())

      const first = yield* oauth2AccessTokens.cleanupExpired(Option.none(), at(30), 2)
      expect(first).toEqual([2, Option.some(at(10))])
      expect(yield* remaining()).toEqual(["in20", "in30", "never"])
      expect(yield* oauth2AccessTokens.cleanupExpired(first[1], at(30), 2)).toEqual([1, Option.some(at(20))])
      expect(yield* oauth2AccessTokens.cleanupExpired(Option.some(at(20)), at(30), 2)).toEqual([0, Option.none()])
      expect(yield* oauth2AccessTokens.cleanupExpired(Option.none(), new Date(8.64e15), 10)).toEqual([
        1,
        Option.some(at(30))
      ])
      expect(yield* remaining()).toEqual(["never"])
      expect(yield* lookupOrThrow(never)).toEqual(never)
    }))

  test("both cleanups delete tokens that refresh tokens point to: the refresh tokens stay, their pointer cleared", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens, oauth2RefreshTokens } = yield* RepositoryAccess
      const session = yield* setup
      const expiring = yield* oauth2AccessTokens.add(session, "mat_expiring", Option.some(Duration.seconds(10)))
      const revoked = yield* oauth2AccessTokens.add(session, "mat_revoked", Option.none())
      const kept = yield* oauth2AccessTokens.add(session, "mat_kept", Option.none())
      const r1 = yield* oauth2RefreshTokens.add(session, expiring, "mar_1")
      const r2 = yield* oauth2RefreshTokens.add(session, revoked, "mar_2")
      const r3 = yield* oauth2RefreshTokens.add(session, kept, "mar_3")
      yield* oauth2AccessTokens.revoke(revoked)

      expect(yield* oauth2AccessTokens.cleanupExpired(Option.none(), at(60), 10)).toEqual([1, Option.some(at(10))])
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.none(), at(60), 10)).toEqual([1, Option.some(at(0))])
      expect(yield* oauth2AccessTokens.lookup(expiring.id)).toEqual(Option.none())
      expect(yield* oauth2AccessTokens.lookup(revoked.id)).toEqual(Option.none())
      expect(yield* oauth2RefreshTokens.lookup(r1.id)).toEqual(
        Option.some(new RefreshToken({ ...r1, accessTokenId: Option.none() }))
      )
      expect(yield* oauth2RefreshTokens.lookup(r2.id)).toEqual(
        Option.some(new RefreshToken({ ...r2, accessTokenId: Option.none() }))
      )
      expect(yield* oauth2RefreshTokens.lookup(r3.id)).toEqual(Option.some(r3))
      expect((yield* dumpTokens).refresh.map((r) => r.oauth2_access_token_id)).toEqual([null, null, kept.id])
    }))

  test("a cleanup limit that is not a non-negative safe integer is an InvalidOperationError and deletes nothing", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* oauth2AccessTokens.add(session, "mat_x", Option.some(Duration.seconds(1)))
      yield* oauth2AccessTokens.revoke(token)
      const before = yield* dumpTokens
      const attempts = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53].flatMap((limit) => [
        [`cleanupRevoked ${limit}`, oauth2AccessTokens.cleanupRevoked(Option.none(), at(60), limit)] as const,
        [`cleanupExpired ${limit}`, oauth2AccessTokens.cleanupExpired(Option.none(), at(60), limit)] as const
      ])
      yield* expectEachToFail("InvalidOperationError", attempts)
      expect(yield* dumpTokens).toEqual(before)
    }))
})
