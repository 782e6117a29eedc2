// Contract suite for OAuth2RefreshTokenRepository: every method, rotation (a consumed token consumed again, a revoked one never), stale entities, the unique token text, refused input, planted impossible rows and both cleanups, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { AccessToken } from "../../../src/model/oauth2/accessToken.js"
import { RefreshToken, RefreshTokenConsumed } from "../../../src/model/oauth2/refreshToken.js"
import { OAuth2Session } from "../../../src/model/oauth2/session.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addUser,
  rolledBack,
  seedAccessToken,
  seedClient,
  seedOAuth2Session,
  seedRefreshTokenRow
} from "./fixtures.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const END = new Date(8.64e15)

const REFRESH_TOKENS = "oauth2_refresh_tokens"

/** A user's OAuth2 session and one access token of it (all seeded as rows). */
const setup = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const browserSession = yield* addBrowserSession(alice)
  const session = yield* seedOAuth2Session(yield* seedClient, { browserSession })
  const accessToken = yield* seedAccessToken(session, "mat_access")
  return { session, accessToken }
})

const dumpTokens = Effect.flatMap(Seed, (seed) => seed.dump(REFRESH_TOKENS, "oauth2_refresh_token_id"))

/** The texts of the stored tokens, in id order. */
const tokenTexts = Effect.map(dumpTokens, (rows) => rows.map((r) => r.refresh_token))

/** Runs `step` on each item with the clock set to its time (seconds after the epoch), in the order given. */
const atEach = <A>(
  schedule: ReadonlyArray<readonly [A, number]>,
  step: (item: A) => Effect.Effect<unknown, unknown, RepositoryAccess>
) =>
  Effect.forEach(schedule, ([item, seconds]) => Effect.zipRight(TestClock.setTime(at(seconds).getTime()), step(item)), {
    discard: true
  })

const lookupOrThrow = (id: Ulid) =>
  Effect.flatMap(RepositoryAccess, (repos) => Effect.map(repos.oauth2RefreshTokens.lookup(id), Option.getOrThrow))

/** Adds refresh tokens one millisecond apart (so their ids are in the given order). */
const addTokens = (session: OAuth2Session, accessToken: AccessToken, ...texts: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { oauth2RefreshTokens } = yield* RepositoryAccess
    const added: Array<RefreshToken> = []
    for (const text of texts) {
      added.push(yield* oauth2RefreshTokens.add(session, accessToken, text))
      yield* TestClock.adjust(Duration.millis(1))
    }
    return added
  })

/** A token of `session` that was never stored (its add rolled back). */
const unstoredToken = (session: OAuth2Session, accessToken: AccessToken, text: string) =>
  rolledBack(Effect.flatMap(RepositoryAccess, (repos) => repos.oauth2RefreshTokens.add(session, accessToken, text)))

contract("OAuth2RefreshTokenRepository", (test) => {
  test("add stores a valid token of the session issued with the access token; lookup and findByToken read it back", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const token = yield* oauth2RefreshTokens.add(session, accessToken, "mar_Tok3n-ünïcødé")
      expect(token.createdAt).toEqual(new Date(EPOCH))
      expect(ulidTimestamp(token.id)).toBe(EPOCH)
      expect(token.state._tag).toBe("Valid")
      expect(token.isValid).toBe(true)
      expect(token.sessionId).toBe(session.id)
      expect(token.accessTokenId).toEqual(Option.some(accessToken.id))
      expect(token.refreshToken).toBe("mar_Tok3n-ünïcødé")
      expect(yield* oauth2RefreshTokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* oauth2RefreshTokens.findByToken("mar_Tok3n-ünïcødé")).toEqual(Option.some(token))
      // stored as is, matched exactly
      for (const other of ["mar_tok3n-ünïcødé", "MAR_TOK3N-ÜNÏCØDÉ", "mar_Tok3n-ünïcødé ", "mar_Tok3n", ""]) {
        expect([other, yield* oauth2RefreshTokens.findByToken(other)]).toEqual([other, Option.none()])
      }
      expect(yield* oauth2RefreshTokens.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("a duplicate token text is a RowsAffectedError that leaves the unit of work usable: it commits afterwards", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const other = yield* seedOAuth2Session(yield* seedClient)
      const otherAccess = yield* seedAccessToken(other, "mat_other")
      const [kept, after] = yield* repos.transaction(
        Effect.gen(function* () {
          const kept = yield* repos.oauth2RefreshTokens.add(session, accessToken, "mar_same")
          const error = yield* Effect.flip(repos.oauth2RefreshTokens.add(other, otherAccess, "mar_same"))
          expect(error).toMatchObject(noRowAffected)
          const after = yield* repos.oauth2RefreshTokens.add(session, accessToken, "mar_after")
          return [kept, after] as const
        })
      )
      expect(yield* repos.oauth2RefreshTokens.findByToken("mar_same")).toEqual(Option.some(kept))
      expect(yield* repos.oauth2RefreshTokens.lookup(after.id)).toEqual(Option.some(after))
      expect(yield* (yield* Seed).count(REFRESH_TOKENS)).toBe(2)
    }))

  test("add for a session or an access token that is not stored is a DriverError (foreign key) and writes nothing", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const ghostSession = new OAuth2Session({ ...session, id: yield* generateUlid })
      const ghostAccess = new AccessToken({ ...accessToken, id: yield* generateUlid })
      for (const attempt of [
        oauth2RefreshTokens.add(ghostSession, accessToken, "mar_1"),
        oauth2RefreshTokens.add(session, ghostAccess, "mar_2")
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      }
      expect(yield* (yield* Seed).count(REFRESH_TOKENS)).toBe(0)
    }))

  test("refused input: NUL is a DriverError (22021), an unpaired surrogate or a malformed id an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token] = yield* addTokens(session, accessToken, "mar_kept")
      const before = yield* dumpTokens
      for (const text of ["bad\u0000token", "\u0000"]) {
        const error = yield* Effect.flip(repos.oauth2RefreshTokens.add(session, accessToken, text))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
        const read = yield* Effect.flip(repos.oauth2RefreshTokens.findByToken(text))
        expect(read).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail("InvalidOperationError", [
            ["add lone surrogate", repos.oauth2RefreshTokens.add(session, accessToken, "mar_\uD800"), "surrogate"],
            ["find lone surrogate", repos.oauth2RefreshTokens.findByToken("\uDC00"), "surrogate"],
            ...malformedIdsLike(token!.id).map(
              (bad) => [`lookup ${JSON.stringify(bad)}`, repos.oauth2RefreshTokens.lookup(bad)] as const
            )
          ])
          // refused before anything was sent: the unit of work goes on and commits
          yield* repos.oauth2RefreshTokens.add(session, accessToken, "mar_later")
        })
      )
      const after = yield* dumpTokens
      expect(after.filter((r) => r.refresh_token !== "mar_later")).toEqual(before)
      expect(after).toHaveLength(2)
    }))

  test("consume moves a valid token to Consumed at now with its successor; consuming it again overwrites both, as in MAS", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token, b, c] = yield* addTokens(session, accessToken, "mar_a", "mar_b", "mar_c")
      yield* TestClock.setTime(at(10).getTime())
      const consumed = yield* oauth2RefreshTokens.consume(token!, b!)
      expect(consumed.state).toEqual(
        new RefreshTokenConsumed({ consumedAt: at(10), nextRefreshTokenId: Option.some(b!.id) })
      )
      expect(consumed.isValid).toBe(false)
      expect(new RefreshToken({ ...consumed, state: token!.state })).toEqual(token)
      expect(yield* lookupOrThrow(token!.id)).toEqual(consumed)
      // the successor is untouched
      expect(yield* lookupOrThrow(b!.id)).toEqual(b)

      yield* TestClock.setTime(at(20).getTime())
      const again = yield* oauth2RefreshTokens.consume(consumed, c!)
      expect(again.state).toEqual(
        new RefreshTokenConsumed({ consumedAt: at(20), nextRefreshTokenId: Option.some(c!.id) })
      )
      expect(yield* lookupOrThrow(token!.id)).toEqual(again)

      // a stale Valid entity of a row consumed meanwhile may consume it too (consumed → consumed is allowed)
      yield* TestClock.setTime(at(30).getTime())
      const stale = yield* oauth2RefreshTokens.consume(token!, b!)
      expect(stale.state).toEqual(
        new RefreshTokenConsumed({ consumedAt: at(30), nextRefreshTokenId: Option.some(b!.id) })
      )
      expect(yield* lookupOrThrow(token!.id)).toEqual(stale)
    }))

  test("consume of a revoked token is an InvalidOperationError; of a stale entity whose row was revoked meanwhile, a RowsAffectedError; nothing is written", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token, b] = yield* addTokens(session, accessToken, "mar_a", "mar_b")
      yield* TestClock.setTime(at(10).getTime())
      const revoked = yield* oauth2RefreshTokens.revoke(token!)
      expect(revoked.state).toMatchObject({ _tag: "Revoked", revokedAt: at(10) })
      yield* TestClock.setTime(at(20).getTime())
      const before = yield* dumpTokens

      const refused = yield* Effect.flip(oauth2RefreshTokens.consume(revoked, b!))
      expect(refused._tag).toBe("InvalidOperationError")
      expect(yield* dumpTokens).toEqual(before)

      // the entity says Valid, the row says revoked: the guarded write decides
      expect(yield* Effect.flip(oauth2RefreshTokens.consume(token!, b!))).toMatchObject(noRowAffected)
      expect(yield* dumpTokens).toEqual(before)
      expect(yield* lookupOrThrow(token!.id)).toEqual(revoked)
    }))

  test("consume of a token not stored is a RowsAffectedError; with a successor not stored, a DriverError (foreign key); nothing is written", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token] = yield* addTokens(session, accessToken, "mar_a")
      const ghost = yield* unstoredToken(session, accessToken, "mar_ghost")
      const before = yield* dumpTokens
      expect(yield* Effect.flip(oauth2RefreshTokens.consume(ghost, token!))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(oauth2RefreshTokens.consume(token!, ghost))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("revoke moves a valid token to Revoked; a consumed or revoked one is an InvalidOperationError; a stale entity whose row was consumed or revoked meanwhile, or a token not stored, a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [a, b, c] = yield* addTokens(session, accessToken, "mar_a", "mar_b", "mar_c")
      yield* TestClock.setTime(at(10).getTime())
      const revoked = yield* oauth2RefreshTokens.revoke(a!)
      expect(revoked.state).toMatchObject({ _tag: "Revoked", revokedAt: at(10) })
      expect(new RefreshToken({ ...revoked, state: a!.state })).toEqual(a)
      expect(yield* lookupOrThrow(a!.id)).toEqual(revoked)
      const consumed = yield* oauth2RefreshTokens.consume(b!, c!)
      const ghost = yield* unstoredToken(session, accessToken, "mar_ghost")

      yield* TestClock.setTime(at(20).getTime())
      const before = yield* dumpTokens
      yield* expectEachToFail("InvalidOperationError", [
        ["revoked", oauth2RefreshTokens.revoke(revoked)],
        ["consumed", oauth2RefreshTokens.revoke(consumed)]
      ])
      yield* expectEachToFail("RowsAffectedError", [
        ["stale entity of a revoked row", oauth2RefreshTokens.revoke(a!)],
        ["stale entity of a consumed row", oauth2RefreshTokens.revoke(b!)],
        ["not stored", oauth2RefreshTokens.revoke(ghost)]
      ])
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("stored impossible states are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [next] = yield* addTokens(session, accessToken, "mar_next")
      const plant = (text: string, columns: Record<string, unknown>) =>
        seedRefreshTokenRow(session.id, accessToken.id, text, { created_at: at(0), ...columns })
      const planted = [
        ["consumed and revoked", { consumed_at: at(1), revoked_at: at(2) }],
        [
          "consumed and revoked, with a successor",
          { consumed_at: at(1), revoked_at: at(2), next_oauth2_refresh_token_id: next!.id }
        ],
        ["revoked with a successor", { revoked_at: at(2), next_oauth2_refresh_token_id: next!.id }],
        ["a successor but not consumed", { next_oauth2_refresh_token_id: next!.id }]
      ] as const
      for (const [name, columns] of planted) {
        const id = yield* plant(`mar_${name}`, columns)
        const expected = {
          _tag: "InconsistencyError",
          table: REFRESH_TOKENS,
          column: Option.some("next_oauth2_refresh_token_id"),
          row: Option.some(id)
        }
        expect([name, yield* Effect.flip(oauth2RefreshTokens.lookup(id))]).toMatchObject([name, expected])
        expect([name, yield* Effect.flip(oauth2RefreshTokens.findByToken(`mar_${name}`))]).toMatchObject([
          name,
          expected
        ])
      }
      // the good rows still read
      expect(yield* lookupOrThrow(next!.id)).toEqual(next)
    }))

  test("cleanupConsumed keeps the live end of a rotation chain: A→B→C with C valid loses A only; once C is consumed by D, B goes", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [a, b, c, d] = yield* addTokens(session, accessToken, "mar_a", "mar_b", "mar_c", "mar_d")
      yield* TestClock.setTime(at(10).getTime())
      yield* oauth2RefreshTokens.consume(a!, b!)
      yield* TestClock.setTime(at(20).getTime())
      const consumedB = yield* oauth2RefreshTokens.consume(b!, c!)

      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), END, 10)).toEqual([1, Option.some(at(10))])
      expect(yield* tokenTexts).toEqual(["mar_b", "mar_c", "mar_d"])
      expect(yield* lookupOrThrow(b!.id)).toEqual(consumedB)
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), END, 10)).toEqual([0, Option.none()])

      yield* TestClock.setTime(at(30).getTime())
      const consumedC = yield* oauth2RefreshTokens.consume(c!, d!)
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), END, 10)).toEqual([1, Option.some(at(20))])
      expect(yield* tokenTexts).toEqual(["mar_c", "mar_d"])
      expect(yield* lookupOrThrow(c!.id)).toEqual(consumedC)
    }))

  test("cleanupConsumed keeps a consumed token whose successor is revoked; deleting a token clears the successor pointers to it, on every cleanup", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [x, y, z, w] = yield* addTokens(session, accessToken, "mar_x", "mar_y", "mar_z", "mar_w")
      // Y is consumed before X points to it, so a batch of one takes Y first
      yield* TestClock.setTime(at(5).getTime())
      yield* oauth2RefreshTokens.consume(y!, z!)
      yield* TestClock.setTime(at(10).getTime())
      const consumedX = yield* oauth2RefreshTokens.consume(x!, y!)
      yield* TestClock.setTime(at(15).getTime())
      const consumedZ = yield* oauth2RefreshTokens.consume(z!, w!)
      yield* TestClock.setTime(at(20).getTime())
      yield* oauth2RefreshTokens.revoke(w!)

      // Y (its successor Z consumed) goes; X's pointer to it is cleared
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), END, 1)).toEqual([1, Option.some(at(5))])
      expect(yield* lookupOrThrow(x!.id)).toEqual(
        new RefreshToken({
          ...consumedX,
          state: new RefreshTokenConsumed({ consumedAt: at(10), nextRefreshTokenId: Option.none() })
        })
      )
      // X now has no successor: it goes; Z's successor W is revoked, not consumed: Z stays
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(5)), END, 10)).toEqual([1, Option.some(at(10))])
      expect(yield* lookupOrThrow(z!.id)).toEqual(consumedZ)

      // deleting the revoked W clears Z's pointer, and then Z goes too
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.none(), END, 10)).toEqual([1, Option.some(at(20))])
      expect(yield* lookupOrThrow(z!.id)).toEqual(
        new RefreshToken({
          ...consumedZ,
          state: new RefreshTokenConsumed({ consumedAt: at(15), nextRefreshTokenId: Option.none() })
        })
      )
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), END, 10)).toEqual([1, Option.some(at(15))])
      expect(yield* dumpTokens).toEqual([])
    }))

  test("cleanupConsumed takes batches by consumedAt (ties in id order), since inclusive, until exclusive, resumed from the returned key", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [t1, t2, t3, t4, t5, s, u] = yield* addTokens(
        session,
        accessToken,
        "mar_1",
        "mar_2",
        "mar_3",
        "mar_4",
        "mar_5",
        "mar_s",
        "mar_u"
      )
      // S is consumed (by the valid U), so every token replaced by S may go; S itself stays
      yield* TestClock.setTime(at(1).getTime())
      yield* oauth2RefreshTokens.consume(s!, u!)
      yield* atEach(
        [
          [t1, 10],
          [t2, 10],
          [t3, 20],
          [t4, 30],
          [t5, 40]
        ],
        (token) => oauth2RefreshTokens.consume(token!, s!)
      )
      const until = at(40)
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.none(), until, 1)).toEqual([1, Option.some(at(10))])
      expect(yield* tokenTexts).toEqual(["mar_2", "mar_3", "mar_4", "mar_5", "mar_s", "mar_u"])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(10)), until, 2)).toEqual([
        2,
        Option.some(at(20))
      ])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(20)), until, 2)).toEqual([
        1,
        Option.some(at(30))
      ])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(30)), until, 2)).toEqual([0, Option.none()])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(30)), at(41), 0)).toEqual([0, Option.none()])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(41)), END, 10)).toEqual([0, Option.none()])
      expect(yield* tokenTexts).toEqual(["mar_5", "mar_s", "mar_u"])
      expect(yield* oauth2RefreshTokens.cleanupConsumed(Option.some(at(30)), at(41), 10)).toEqual([
        1,
        Option.some(at(40))
      ])
      expect(yield* tokenTexts).toEqual(["mar_s", "mar_u"])
    }))

  test("cleanupRevoked deletes revoked tokens in batches by revokedAt (ties in id order), resumed from the returned key; valid and consumed tokens stay", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [t1, t2, t3, t4, valid, consumed] = yield* addTokens(
        session,
        accessToken,
        "mar_1",
        "mar_2",
        "mar_3",
        "mar_4",
        "mar_valid",
        "mar_consumed"
      )
      yield* TestClock.setTime(at(5).getTime())
      yield* oauth2RefreshTokens.consume(consumed!, valid!)
      yield* atEach(
        [
          [t1, 10],
          [t2, 10],
          [t3, 20],
          [t4, 30]
        ],
        (token) => oauth2RefreshTokens.revoke(token!)
      )
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.none(), at(30), 1)).toEqual([1, Option.some(at(10))])
      expect(yield* tokenTexts).toEqual(["mar_2", "mar_3", "mar_4", "mar_valid", "mar_consumed"])
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.some(at(10)), at(30), 5)).toEqual([
        2,
        Option.some(at(20))
      ])
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.some(at(20)), at(30), 5)).toEqual([0, Option.none()])
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.some(at(20)), END, 0)).toEqual([0, Option.none()])
      expect(yield* oauth2RefreshTokens.cleanupRevoked(Option.some(at(20)), END, 5)).toEqual([1, Option.some(at(30))])
      expect(yield* tokenTexts).toEqual(["mar_valid", "mar_consumed"])
    }))

  test("a cleanup limit that is not a non-negative safe integer is an InvalidOperationError and deletes nothing", () =>
    Effect.gen(function* () {
      const { oauth2RefreshTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [a, b] = yield* addTokens(session, accessToken, "mar_a", "mar_b")
      yield* oauth2RefreshTokens.consume(a!, b!)
      yield* oauth2RefreshTokens.revoke(b!)
      const before = yield* dumpTokens
      const attempts = [-1, 0.5, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 53].flatMap((limit) => [
        [`cleanupRevoked ${limit}`, oauth2RefreshTokens.cleanupRevoked(Option.none(), END, limit)] as const,
        [`cleanupConsumed ${limit}`, oauth2RefreshTokens.cleanupConsumed(Option.none(), END, limit)] as const
      ])
      yield* expectEachToFail("InvalidOperationError", attempts)
      expect(yield* dumpTokens).toEqual(before)
    }))

  test("a refresh token outlives the access token it was issued with: the access token's cleanup clears the pointer", () =>
    Effect.gen(function* () {
      const { oauth2AccessTokens } = yield* RepositoryAccess
      const { accessToken, session } = yield* setup
      const [token] = yield* addTokens(session, accessToken, "mar_a")
      yield* TestClock.setTime(at(10).getTime())
      yield* oauth2AccessTokens.revoke(accessToken)
      expect(yield* oauth2AccessTokens.cleanupRevoked(Option.none(), END, 10)).toEqual([1, Option.some(at(10))])
      expect(yield* lookupOrThrow(token!.id)).toEqual(new RefreshToken({ ...token!, accessTokenId: Option.none() }))
    }))
})
