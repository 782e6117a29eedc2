// Contract suite for PersonalAccessTokenRepository: the hashed token and its lookups, one unrevoked token per session, revocation valid, refused and stale, and refused input, on PostgreSQL and in memory.
import { createHash } from "node:crypto"
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { InvalidTransition } from "../../../src/model/errors.js"
import { ownedByOAuth2Client } from "../../../src/model/personal.js"
import { generateUlid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addUser, rolledBack, seedClient } from "../oauth2/fixtures.js"
import {
  addPersonalSession,
  dumpPersonal,
  dumpTokenRows,
  expiresIn,
  PERSONAL_ACCESS_TOKENS,
  storedDigest
} from "./fixtures.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const sha256Hex = (text: string) => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex")

/** A personal session of a user, owned by itself. */
const setup = Effect.flatMap(addUser("alice"), (alice) => addPersonalSession(alice))

const lookupOrThrow = (id: string) =>
  Effect.flatMap(RepositoryAccess, (repos) =>
    Effect.map(repos.personalAccessTokens.lookup(id as never), Option.getOrThrow)
  )

contract("PersonalAccessTokenRepository", (test) => {
  test("add stores an unrevoked token of the session with id and createdAt from Clock and Random; lookup, findByToken and findActiveForSession read it back", () =>
    Effect.gen(function* () {
      const { personalAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* personalAccessTokens.add(session, "mpt_Tok3n-ünïcødé", expiresIn(300))
      expect(ulidTimestamp(token.id)).toBe(EPOCH + 1000)
      expect(token.createdAt).toEqual(at(1))
      expect(token.sessionId).toBe(session.id)
      expect(token.expiresAt).toEqual(Option.some(at(301)))
      expect(token.revokedAt).toEqual(Option.none())
      expect([token.isValid(at(300)), token.isValid(at(301))]).toEqual([true, false])
      expect(yield* personalAccessTokens.lookup(token.id)).toEqual(Option.some(token))
      expect(yield* personalAccessTokens.findByToken("mpt_Tok3n-ünïcødé")).toEqual(Option.some(token))
      expect(yield* personalAccessTokens.findActiveForSession(session)).toEqual(Option.some(token))

      const other = yield* addPersonalSession(yield* addUser("bob"))
      const forever = yield* personalAccessTokens.add(other, "mpt_forever", Option.none())
      expect(forever.expiresAt).toEqual(Option.none())
      expect(forever.isValid(new Date(8.64e15))).toBe(true)
      expect(yield* personalAccessTokens.findByToken("mpt_forever")).toEqual(Option.some(forever))
      expect(yield* personalAccessTokens.findActiveForSession(other)).toEqual(Option.some(forever))
    }))

  test("the table holds the SHA-256 digest of the token's UTF-8 bytes and never the text", () =>
    Effect.gen(function* () {
      const { personalAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const text = "mpt_SeCrEt-ünï-🎉"
      const token = yield* personalAccessTokens.add(session, text, expiresIn(60))
      const rows = yield* (yield* Seed).dump(PERSONAL_ACCESS_TOKENS, "personal_access_token_id")
      expect(rows).toHaveLength(1)
      const row = rows[0]!
      expect(Object.keys(row).sort()).toEqual([
        "access_token_sha256",
        "created_at",
        "expires_at",
        "personal_access_token_id",
        "personal_session_id",
        "revoked_at"
      ])
      const digest = storedDigest(row.access_token_sha256)
      expect(digest).toHaveLength(32)
      expect(digest.toString("hex")).toBe(sha256Hex(text))
      expect(row).toMatchObject({
        personal_access_token_id: token.id,
        personal_session_id: session.id,
        created_at: token.createdAt,
        expires_at: at(61),
        revoked_at: null
      })
      // nowhere the text, whole or in part, in any encoding the column could take
      for (const value of Object.values(row)) {
        const shown = value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : String(value)
        expect(shown).not.toContain("SeCrEt")
        expect(shown).not.toContain(Buffer.from(text, "utf8").toString("hex"))
      }
    }))

  test("findByToken hashes its input: only the same text finds the token; NUL is ordinary text, an unpaired surrogate is refused", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* repos.personalAccessTokens.add(session, " mpt_AbC ", Option.none())
      for (const other of ["mpt_AbC", " mpt_abc ", " MPT_ABC ", " mpt_AbC", "", sha256Hex(" mpt_AbC ")]) {
        expect([other, yield* repos.personalAccessTokens.findByToken(other)]).toEqual([other, Option.none()])
      }
      expect(yield* repos.personalAccessTokens.findByToken(" mpt_AbC ")).toEqual(Option.some(token))

      // NUL never reaches a text column: it is hashed like any other character
      yield* repos.personalAccessTokens.revoke(token)
      const nul = yield* repos.personalAccessTokens.add(session, "mpt_\u0000nul", Option.none())
      expect(yield* repos.personalAccessTokens.findByToken("mpt_\u0000nul")).toEqual(Option.some(nul))
      expect(yield* repos.personalAccessTokens.findByToken("mpt_nul")).toEqual(Option.none())
      expect((yield* dumpTokenRows).map((r) => r.access_token_sha256)).toEqual([
        sha256Hex(" mpt_AbC "),
        sha256Hex("mpt_\u0000nul")
      ])

      // an unpaired surrogate has no UTF-8 form (it would hash as U+FFFD): refused, the unit of work goes on
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail("InvalidOperationError", [
            ["findByToken high", repos.personalAccessTokens.findByToken("mpt_\uD800")],
            ["findByToken low", repos.personalAccessTokens.findByToken("\uDC00mpt")]
          ])
          yield* repos.personalAccessTokens.revoke(nul)
        })
      )
      expect(yield* repos.personalAccessTokens.findByToken("mpt_\uFFFD")).toEqual(Option.none())
      expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(Option.none())
    }))

  test("a session has one unrevoked token at most: a second add is a RowsAffectedError that leaves the unit usable; after revoke a new one goes in", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const first = yield* repos.personalAccessTokens.add(session, "mpt_first", expiresIn(60))
      yield* repos.transaction(
        Effect.gen(function* () {
          const before = yield* dumpPersonal
          expect(
            yield* Effect.flip(repos.personalAccessTokens.add(session, "mpt_second", Option.none()))
          ).toMatchObject(noRowAffected)
          expect(yield* dumpPersonal).toEqual(before)
          // still usable: the conflict was ignored by the statement, not raised
          yield* TestClock.adjust(Duration.seconds(5))
          yield* repos.personalAccessTokens.revoke(first)
        })
      )
      expect(yield* repos.personalAccessTokens.findByToken("mpt_second")).toEqual(Option.none())
      expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(Option.none())

      const second = yield* repos.personalAccessTokens.add(session, "mpt_second", Option.none())
      expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(Option.some(second))
      // the revoked token stays findable, revoked
      const old = Option.getOrThrow(yield* repos.personalAccessTokens.findByToken("mpt_first"))
      expect(old.revokedAt).toEqual(Option.some(at(6)))
      expect(old.isValid(at(6))).toBe(false)
      // an expired but unrevoked token still counts as the active one
      yield* TestClock.adjust(Duration.hours(1))
      expect(yield* Effect.flip(repos.personalAccessTokens.add(session, "mpt_third", Option.none()))).toMatchObject(
        noRowAffected
      )
      expect(yield* (yield* Seed).count(PERSONAL_ACCESS_TOKENS)).toBe(2)
    }))

  test("a token text already stored, on any session, is a RowsAffectedError (its digest is unique)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const client = yield* seedClient
      const other = yield* addPersonalSession(yield* addUser("bob"), { owner: ownedByOAuth2Client(client) })
      const token = yield* repos.personalAccessTokens.add(session, "mpt_same", Option.none())
      expect(yield* Effect.flip(repos.personalAccessTokens.add(other, "mpt_same", Option.none()))).toMatchObject(
        noRowAffected
      )
      // revoked, the digest is still taken
      yield* repos.personalAccessTokens.revoke(token)
      expect(yield* Effect.flip(repos.personalAccessTokens.add(session, "mpt_same", Option.none()))).toMatchObject(
        noRowAffected
      )
      expect(yield* repos.personalAccessTokens.findActiveForSession(other)).toEqual(Option.none())
      yield* repos.personalAccessTokens.add(other, "mpt_different", Option.none())
      expect(yield* (yield* Seed).count(PERSONAL_ACCESS_TOKENS)).toBe(2)
    }))

  test("add to a session that is not stored is a DriverError (23503); a bad expiry or an unpaired surrogate an InvalidOperationError; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const ghost = yield* rolledBack(addPersonalSession(yield* addUser("ghost")))
      expect(yield* Effect.flip(repos.personalAccessTokens.add(ghost, "mpt_ghost", Option.none()))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503"),
        constraint: Option.some("personal_access_tokens_personal_session_id_fkey")
      })
      yield* expectEachToFailWithoutWriting(dumpPersonal, "InvalidOperationError", [
        ["infinite", repos.personalAccessTokens.add(session, "mpt_x", Option.some(Duration.infinity))],
        ["beyond Date", repos.personalAccessTokens.add(session, "mpt_x", Option.some(Duration.days(1e9)))],
        ["surrogate", repos.personalAccessTokens.add(session, "mpt_\uDBFF", Option.none())]
      ])
      expect(yield* (yield* Seed).count(PERSONAL_ACCESS_TOKENS)).toBe(0)
    }))

  test("lookup of an unknown id, findByToken of an unknown text and findActiveForSession of a session without a token are none; malformed ids are an InvalidOperationError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      expect(yield* repos.personalAccessTokens.findActiveForSession(session)).toEqual(Option.none())
      const token = yield* repos.personalAccessTokens.add(session, "mpt_known", Option.none())
      expect(yield* repos.personalAccessTokens.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* repos.personalAccessTokens.findByToken("mpt_unknown")).toEqual(Option.none())
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail("InvalidOperationError", [
            ...malformedIdsLike(token.id).map(
              (bad) => [`lookup ${JSON.stringify(bad)}`, repos.personalAccessTokens.lookup(bad)] as const
            ),
            ...malformedIdsLike(session.id).map(
              (bad) =>
                [
                  `findActiveForSession ${JSON.stringify(bad)}`,
                  repos.personalAccessTokens.findActiveForSession({ ...session, id: bad } as typeof session)
                ] as const
            )
          ])
          yield* repos.personalAccessTokens.revoke(token)
        })
      )
      expect((yield* lookupOrThrow(token.id)).revokedAt).toEqual(Option.some(at(1)))
    }))

  test("revoke stamps revokedAt at now; a revoked token is refused (InvalidTransition) and nothing is written", () =>
    Effect.gen(function* () {
      const { personalAccessTokens } = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* personalAccessTokens.add(session, "mpt_r", expiresIn(3600))
      yield* TestClock.adjust(Duration.seconds(30))
      const revoked = yield* personalAccessTokens.revoke(token)
      expect(revoked.revokedAt).toEqual(Option.some(at(31)))
      expect(revoked.isValid(at(31))).toBe(false)
      expect({ ...revoked, revokedAt: Option.none() }).toEqual({ ...token })
      expect(yield* lookupOrThrow(token.id)).toEqual(revoked)

      yield* TestClock.adjust(Duration.seconds(30))
      const refused = yield* Effect.flip(personalAccessTokens.revoke(revoked))
      expect(refused._tag).toBe("InvalidOperationError")
      expect(Option.getOrUndefined((refused as { cause: Option.Option<unknown> }).cause)).toBeInstanceOf(
        InvalidTransition
      )
      expect(Option.getOrUndefined((refused as { cause: Option.Option<unknown> }).cause)).toMatchObject({
        entity: "PersonalAccessToken",
        from: "Revoked"
      })
      expect(yield* lookupOrThrow(token.id)).toEqual(revoked)
    }))

  test("revoke of a stale token revoked meanwhile (by its session's revocation) or not stored is a RowsAffectedError; the first instant stays", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const session = yield* setup
      const token = yield* repos.personalAccessTokens.add(session, "mpt_stale", Option.none())
      yield* TestClock.adjust(Duration.seconds(10))
      yield* repos.personalSessions.revoke(session)
      yield* TestClock.adjust(Duration.seconds(10))
      // `token` still says unrevoked: the guard in the statement refuses it
      expect(yield* Effect.flip(repos.personalAccessTokens.revoke(token))).toMatchObject(noRowAffected)
      expect((yield* lookupOrThrow(token.id)).revokedAt).toEqual(Option.some(at(11)))

      const other = yield* addPersonalSession(yield* addUser("bob"))
      const ghost = yield* rolledBack(repos.personalAccessTokens.add(other, "mpt_ghost", Option.none()))
      expect(yield* Effect.flip(repos.personalAccessTokens.revoke(ghost))).toMatchObject(noRowAffected)
      expect(yield* repos.personalAccessTokens.lookup(ghost.id)).toEqual(Option.none())
    }))
})
