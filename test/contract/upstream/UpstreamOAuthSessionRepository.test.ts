// Contract suite for UpstreamOAuthSessionRepository: pending → completed → consumed with guarded writes, the unique state, the callback documents, list/count by provider and claims, the orphan cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import type { Row } from "../../../src/memory/Database.js"
import { Pending } from "../../../src/model/common.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import {
  type UpstreamOAuthAuthorizationSession,
  UpstreamOAuthLink,
  type UpstreamOAuthProvider,
  UpstreamSessionUnlinked
} from "../../../src/model/upstream.js"
import type { Json } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { UpstreamOAuthSessionFilter } from "../../../src/storage/upstream/UpstreamOAuthSessionRepository.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { addBrowserSession, addUser, rolledBack } from "../oauth2/fixtures.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addProvider } from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)

const SESSIONS = "upstream_oauth_authorization_sessions"
const dumpSessions = Effect.flatMap(Seed, (seed) => seed.dump(SESSIONS, "upstream_oauth_authorization_session_id"))

const step = TestClock.adjust(Duration.millis(10))

/** A link of `provider` for `subject`, planted as a row (the link repository is built elsewhere). */
const seedLink = (provider: UpstreamOAuthProvider, subject = "subject") =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = new Date(EPOCH)
    yield* seed.insert("upstream_oauth_links", {
      upstream_oauth_link_id: id,
      upstream_oauth_provider_id: provider.id,
      user_id: null,
      subject,
      human_account_name: null,
      created_at: createdAt
    })
    return new UpstreamOAuthLink({
      id,
      providerId: provider.id,
      userId: Option.none(),
      subject,
      humanAccountName: Option.none(),
      createdAt
    })
  })

/** A session row planted with `columns` over a pending one of `providerId`. */
const seedSessionRow = (providerId: Ulid, columns: Row = {}) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert(SESSIONS, {
      upstream_oauth_authorization_session_id: id,
      upstream_oauth_provider_id: providerId,
      upstream_oauth_link_id: null,
      user_session_id: null,
      state: `planted-${id}`,
      code_challenge_verifier: null,
      nonce: null,
      id_token: null,
      id_token_claims: null,
      extra_callback_parameters: null,
      userinfo: null,
      created_at: new Date(EPOCH),
      completed_at: null,
      consumed_at: null,
      unlinked_at: null,
      ...columns
    })
    return id
  })

const none = Option.none()

/** A provider, a link of it, and a session completed with `claims`. */
const completedWith = (
  provider: UpstreamOAuthProvider,
  link: UpstreamOAuthLink,
  state: string,
  claims: Option.Option<Json> = none
) =>
  Effect.gen(function* () {
    const { upstreamOAuthSessions } = yield* RepositoryAccess
    const pending = yield* upstreamOAuthSessions.add(provider, state, none, none)
    return yield* upstreamOAuthSessions.completeWithLink(pending, link, Option.some("id.token"), claims, none, none)
  })

/** The states `list` returns in order; `count` must agree whenever the page holds every match. */
const statesOf = (filter: UpstreamOAuthSessionFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { upstreamOAuthSessions } = yield* RepositoryAccess
    const page = yield* upstreamOAuthSessions.list(filter, pagination)
    const states = page.edges.map((e) => e.node.stateStr)
    const whole =
      !page.hasNextPage && !page.hasPreviousPage && Option.isNone(pagination.after) && Option.isNone(pagination.before)
    if (whole) expect(yield* upstreamOAuthSessions.count(filter)).toBe(states.length)
    for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.id)
    return states
  })

const lookupOrThrow = (id: Ulid) =>
  Effect.flatMap(RepositoryAccess, ({ upstreamOAuthSessions }) =>
    Effect.map(upstreamOAuthSessions.lookup(id), Option.getOrThrow)
  )

const withId = <A extends { readonly id: Ulid }>(entity: A, id: string): A => ({ ...entity, id: id as Ulid })

contract("UpstreamOAuthSessionRepository", (test) => {
  test("add creates a pending session with id and createdAt from Clock and Random; lookup reads it back", () =>
    Effect.gen(function* () {
      const { upstreamOAuthSessions } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const session = yield* upstreamOAuthSessions.add(provider, "state-1", Option.some("verifier"), Option.some("n"))
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.createdAt).toEqual(new Date(EPOCH))
      expect(session.state).toEqual(new Pending())
      expect([session.providerId, session.stateStr, session.codeChallengeVerifier, session.nonce]).toEqual([
        provider.id,
        "state-1",
        Option.some("verifier"),
        Option.some("n")
      ])
      expect(yield* upstreamOAuthSessions.lookup(session.id)).toEqual(Option.some(session))
      const bare = yield* upstreamOAuthSessions.add(provider, "state-2", none, none)
      expect(yield* upstreamOAuthSessions.lookup(bare.id)).toEqual(Option.some(bare))
      expect([bare.codeChallengeVerifier, bare.nonce]).toEqual([none, none])
      expect(yield* upstreamOAuthSessions.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("a state already stored is a RowsAffectedError that leaves the unit of work usable; a provider not stored a DriverError (23503)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const provider = yield* addProvider()
      const other = yield* addProvider({ clientId: "other" })
      const session = yield* repos.upstreamOAuthSessions.add(provider, "taken", none, none)
      yield* repos.transaction(
        Effect.gen(function* () {
          expect(yield* Effect.flip(repos.upstreamOAuthSessions.add(other, "taken", none, none))).toMatchObject(
            noRowAffected
          )
          yield* repos.upstreamOAuthSessions.add(provider, "fresh", none, none)
        })
      )
      expect(yield* repos.upstreamOAuthSessions.lookup(session.id)).toEqual(Option.some(session))
      expect(yield* repos.upstreamOAuthSessions.count({})).toBe(2)
      const ghost = yield* rolledBack(addProvider({ clientId: "ghost" }))
      const result = yield* Effect.either(repos.transaction(repos.upstreamOAuthSessions.add(ghost, "g", none, none)))
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(yield* repos.upstreamOAuthSessions.count({})).toBe(2)
    }))

  test("add and lookup refusals: malformed ids, unpaired surrogates and an over-long state are InvalidOperationErrors, NUL a DriverError; nothing written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const provider = yield* addProvider()
      const s = repos.upstreamOAuthSessions
      yield* repos.transaction(
        expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
          ["state surrogate", s.add(provider, "bad\uD800", none, none)],
          ["verifier surrogate", s.add(provider, "ok", Option.some("\uDC00"), none)],
          ["nonce surrogate", s.add(provider, "ok", none, Option.some("x\uD800"))],
          ["state too long", s.add(provider, "é".repeat(513), none, none)],
          ...malformedIdsLike(provider.id).map(
            (id) => [`provider ${id}`, s.add(withId(provider, id), "ok", none, none)] as const
          ),
          ...malformedIdsLike(provider.id).map((id) => [`lookup ${id}`, s.lookup(id)] as const)
        ])
      )
      // exactly at the limit is accepted
      yield* s.add(provider, "é".repeat(512), none, none)
      const nul: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
        s.add(provider, "a\u0000b", none, none),
        s.add(provider, "ok", Option.some("\u0000"), none),
        s.add(provider, "ok", none, Option.some("\u0000"))
      ]
      const before = yield* dumpSessions
      for (const attempt of nul) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("22021")
        })
      }
      expect(yield* dumpSessions).toEqual(before)
    }))

  test("completeWithLink: pending → completed at now with the link and callback data; JSON documents round-trip; a JSON null document reads as none", () =>
    Effect.gen(function* () {
      const { upstreamOAuthSessions } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const pending = yield* upstreamOAuthSessions.add(provider, "s", none, Option.some("nonce"))
      yield* step
      const claims: Json = {
        sub: "ünïcødé 🦀",
        sid: "session",
        nested: { deep: [1, 2.5, { "k€y": null }], empty: {}, list: [] },
        flag: true,
        nothing: null
      }
      const extra: Json = { code: "c", state: "s", 日本: ["a", "b", null] }
      const userinfo: Json = [{ email: "a@example.com" }, "text", 3, null, false]
      const completed = yield* upstreamOAuthSessions.completeWithLink(
        pending,
        link,
        Option.some("eyJ.token"),
        Option.some(claims),
        Option.some(extra),
        Option.some(userinfo)
      )
      expect(completed.state).toMatchObject({
        _tag: "Completed",
        completedAt: new Date(EPOCH + 10),
        linkId: link.id,
        idToken: Option.some("eyJ.token"),
        idTokenClaims: Option.some(claims),
        extraCallbackParameters: Option.some(extra),
        userinfo: Option.some(userinfo)
      })
      expect(yield* lookupOrThrow(pending.id)).toEqual(completed)

      const other = yield* upstreamOAuthSessions.add(provider, "s2", none, none)
      const withNulls = yield* upstreamOAuthSessions.completeWithLink(
        other,
        link,
        none,
        Option.some(null),
        Option.some("a string document"),
        none
      )
      expect(withNulls.state).toMatchObject({
        idToken: none,
        idTokenClaims: none,
        extraCallbackParameters: Option.some("a string document"),
        userinfo: none
      })
      expect(yield* lookupOrThrow(other.id)).toEqual(withNulls)
    }))

  test("consume: completed → consumed at now, recording the browser session (the browser-session filter sees it)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const completed = yield* completedWith(provider, link, "s", Option.some({ sub: "u1" }))
      yield* step
      const consumed = yield* repos.upstreamOAuthSessions.consume(completed, web)
      expect(consumed.state).toMatchObject({
        _tag: "Consumed",
        consumedAt: new Date(EPOCH + 10),
        completedAt: (completed.state as { completedAt: Date }).completedAt,
        linkId: link.id,
        idTokenClaims: Option.some({ sub: "u1" })
      })
      expect(yield* lookupOrThrow(completed.id)).toEqual(consumed)
      const [row] = yield* dumpSessions
      expect(row!.user_session_id).toBe(web.id)
      const linked = yield* repos.browserSessions.list({ linkedToUpstreamSessions: { subClaim: "u1" } }, first(10))
      expect(linked.edges.map((e) => e.node.id)).toEqual([web.id])
    }))

  test("invalid transitions are InvalidOperationErrors that write nothing; a stale entity is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const s = repos.upstreamOAuthSessions
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const pending = yield* s.add(provider, "p", none, none)
      const completed = yield* completedWith(provider, link, "c")
      const consumed = yield* s.consume(yield* completedWith(provider, link, "k"), web)
      const unlinkedId = yield* seedSessionRow(provider.id, { completed_at: at(1), unlinked_at: at(2) })
      const unlinked = yield* lookupOrThrow(unlinkedId)
      const complete = (session: UpstreamOAuthAuthorizationSession) =>
        s.completeWithLink(session, link, none, none, none, none)
      yield* repos.transaction(
        expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
          ["consume pending", s.consume(pending, web)],
          ["complete completed", complete(completed)],
          ["complete consumed", complete(consumed)],
          ["consume consumed", s.consume(consumed, web)],
          ["complete unlinked", complete(unlinked)],
          ["consume unlinked", s.consume(unlinked, web)]
        ])
      )
      // the entities passed in are stale: the rows moved on since
      const stalePending = pending
      yield* complete(pending)
      const staleCompleted = completed
      yield* s.consume(completed, web)
      const before = yield* dumpSessions
      expect(yield* Effect.flip(complete(stalePending))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(s.consume(staleCompleted, web))).toMatchObject(noRowAffected)
      // a session that is not stored
      const ghost = yield* rolledBack(s.add(provider, "ghost", none, none))
      expect(yield* Effect.flip(complete(ghost))).toMatchObject(noRowAffected)
      expect(yield* dumpSessions).toEqual(before)
    }))

  test("completeWithLink and consume refusals: bad documents and malformed ids are InvalidOperationErrors, NUL and missing rows DriverErrors; nothing written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const s = repos.upstreamOAuthSessions
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const pending = yield* s.add(provider, "p", none, none)
      const completed = yield* completedWith(provider, link, "c")
      const doc = (value: unknown) => Option.some(value as Json)
      yield* repos.transaction(
        expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
          ["id token surrogate", s.completeWithLink(pending, link, Option.some("\uD800"), none, none, none)],
          ["claims surrogate", s.completeWithLink(pending, link, none, doc({ sub: "\uDC00" }), none, none)],
          ["extra key surrogate", s.completeWithLink(pending, link, none, none, doc({ "\uD800": 1 }), none)],
          ["userinfo undefined member", s.completeWithLink(pending, link, none, none, none, doc({ a: undefined }))],
          ["claims not finite", s.completeWithLink(pending, link, none, doc([Number.NaN]), none, none)],
          [
            "claims function",
            s.completeWithLink(
              pending,
              link,
              none,
              doc(() => 1),
              none,
              none
            )
          ],
          ...malformedIdsLike(pending.id).map(
            (id) => [`session ${id}`, s.completeWithLink(withId(pending, id), link, none, none, none, none)] as const
          ),
          ["link id", s.completeWithLink(pending, withId(link, "bad"), none, none, none, none)],
          ["consume session id", s.consume(withId(completed, "bad"), web)],
          ["consume browser session id", s.consume(completed, withId(web, "bad"))]
        ])
      )
      const before = yield* dumpSessions
      const ghostLink = yield* rolledBack(seedLink(provider, "ghost"))
      const ghostWeb = yield* rolledBack(addBrowserSession(alice))
      const driverErrors: ReadonlyArray<readonly [Effect.Effect<unknown, DatabaseError>, string]> = [
        [s.completeWithLink(pending, link, Option.some("a\u0000"), none, none, none), "22021"],
        [s.completeWithLink(pending, link, none, doc({ sub: "a\u0000" }), none, none), "22P05"],
        [s.completeWithLink(pending, link, none, none, doc({ "k\u0000": 1 }), none), "22P05"],
        [s.completeWithLink(pending, link, none, none, none, doc(["\u0000"])), "22P05"],
        [s.completeWithLink(pending, ghostLink, none, none, none, none), "23503"],
        [s.consume(completed, ghostWeb), "23503"]
      ]
      for (const [attempt, sqlState] of driverErrors) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some(sqlState)
        })
      }
      expect(yield* dumpSessions).toEqual(before)
    }))

  test("planted rows: an unlinked session decodes as Unlinked (with or without a consumption); an impossible tuple is an InconsistencyError naming the column", () =>
    Effect.gen(function* () {
      const { upstreamOAuthSessions } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const unlinked = yield* seedSessionRow(provider.id, {
        completed_at: at(1),
        unlinked_at: at(3),
        id_token: "tok",
        id_token_claims: { sub: "u" },
        extra_callback_parameters: { kept: true },
        userinfo: { also: "kept" }
      })
      yield* step
      const consumedThenUnlinked = yield* seedSessionRow(provider.id, {
        completed_at: at(1),
        consumed_at: at(2),
        unlinked_at: at(3)
      })
      expect((yield* lookupOrThrow(unlinked)).state).toEqual(
        new UpstreamSessionUnlinked({
          completedAt: at(1),
          consumedAt: none,
          unlinkedAt: at(3),
          idToken: Option.some("tok"),
          idTokenClaims: Option.some({ sub: "u" })
        })
      )
      expect((yield* lookupOrThrow(consumedThenUnlinked)).state).toEqual(
        new UpstreamSessionUnlinked({
          completedAt: at(1),
          consumedAt: Option.some(at(2)),
          unlinkedAt: at(3),
          idToken: none,
          idTokenClaims: none
        })
      )
      expect(yield* statesOf({ subClaim: "u" })).toEqual([`planted-${unlinked}`])
      yield* step
      const completedWithoutLink = yield* seedSessionRow(provider.id, { completed_at: at(1) })
      yield* step
      const linkWithoutCompletion = yield* seedSessionRow(provider.id, { upstream_oauth_link_id: link.id })
      const expected = (row: Ulid) => ({
        _tag: "InconsistencyError",
        table: SESSIONS,
        column: Option.some("state"),
        row: Option.some(row)
      })
      expect(yield* Effect.flip(upstreamOAuthSessions.lookup(completedWithoutLink))).toMatchObject(
        expected(completedWithoutLink)
      )
      expect(yield* Effect.flip(upstreamOAuthSessions.lookup(linkWithoutCompletion))).toMatchObject(
        expected(linkWithoutCompletion)
      )
      expect(yield* Effect.flip(upstreamOAuthSessions.list({}, first(10)))).toMatchObject(
        expected(completedWithoutLink)
      )
      expect((yield* upstreamOAuthSessions.list({}, first(2))).edges.length).toBe(2)
      expect(yield* upstreamOAuthSessions.count({})).toBe(4)
    }))

  test("list and count by provider, sub and sid claims (as text), every criterion at once; keyset pages by id both ways", () =>
    Effect.gen(function* () {
      const provider = yield* addProvider()
      const other = yield* addProvider({ clientId: "other" })
      const link = yield* seedLink(provider)
      const otherLink = yield* seedLink(other)
      const { upstreamOAuthSessions } = yield* RepositoryAccess
      yield* completedWith(provider, link, "a", Option.some({ sub: "u1", sid: "s1" }))
      yield* step
      yield* completedWith(provider, link, "b", Option.some({ sub: "u1", sid: "s2" }))
      yield* step
      yield* completedWith(other, otherLink, "c", Option.some({ sub: "u1", sid: "s1" }))
      yield* step
      yield* completedWith(provider, link, "d", Option.some({ sub: 42, sid: ["s1"] }))
      yield* step
      yield* upstreamOAuthSessions.add(provider, "e", none, none)
      yield* step
      yield* completedWith(provider, link, "f", Option.some(["sub", "u1"]))
      expect(yield* statesOf(UpstreamOAuthSessionFilter.all)).toEqual(["a", "b", "c", "d", "e", "f"])
      expect(yield* statesOf(UpstreamOAuthSessionFilter.forProvider(provider.id))).toEqual(["a", "b", "d", "e", "f"])
      expect(yield* statesOf(UpstreamOAuthSessionFilter.forProvider(other.id))).toEqual(["c"])
      expect(yield* statesOf(UpstreamOAuthSessionFilter.withSubClaim("u1"))).toEqual(["a", "b", "c"])
      expect(yield* statesOf(UpstreamOAuthSessionFilter.withSidClaim("s1"))).toEqual(["a", "c"])
      expect(yield* statesOf({ subClaim: "42" })).toEqual(["d"])
      expect(yield* statesOf({ sidClaim: '["s1"]' })).toEqual(["d"])
      expect(yield* statesOf({ subClaim: "U1" })).toEqual([])
      expect(
        yield* statesOf(
          UpstreamOAuthSessionFilter.forProvider(
            provider.id,
            UpstreamOAuthSessionFilter.withSubClaim("u1", UpstreamOAuthSessionFilter.withSidClaim("s1"))
          )
        )
      ).toEqual(["a"])
      expect(yield* statesOf({ provider: yield* generateUlid })).toEqual([])

      const all = (yield* upstreamOAuthSessions.list({}, first(10))).edges.map((e) => e.node.id)
      const page1 = yield* upstreamOAuthSessions.list({}, first(2))
      expect([page1.edges.map((e) => e.node.stateStr), page1.hasNextPage]).toEqual([["a", "b"], true])
      const after = Either.getOrThrow(Pagination.first(2).pipe(Either.map((p) => p.withAfter(all[1]!))))
      const page2 = yield* upstreamOAuthSessions.list({}, after)
      expect([page2.edges.map((e) => e.node.stateStr), page2.hasNextPage]).toEqual([["c", "d"], true])
      const tail = yield* upstreamOAuthSessions.list({}, last(2))
      expect([tail.edges.map((e) => e.node.stateStr), tail.hasPreviousPage]).toEqual([["e", "f"], true])
      const before = Either.getOrThrow(Pagination.last(10).pipe(Either.map((p) => p.withBefore(all[2]!))))
      expect(yield* statesOf({ provider: provider.id }, before)).toEqual(["a", "b"])
    }))

  test("list and count refusals: a malformed provider id, an unpaired surrogate in a claim or a malformed cursor are InvalidOperationErrors, NUL a DriverError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const s = repos.upstreamOAuthSessions
      const provider = yield* addProvider()
      yield* s.add(provider, "a", none, none)
      const badCursor = Either.getOrThrow(Pagination.first(2).pipe(Either.map((p) => p.withAfter("nope" as Ulid))))
      yield* repos.transaction(
        expectEachToFail("InvalidOperationError", [
          ...malformedIdsLike(provider.id).flatMap((id) => [
            [`list provider ${id}`, s.list({ provider: id }, first(10))] as const,
            [`count provider ${id}`, s.count({ provider: id })] as const
          ]),
          ["list sub", s.list({ subClaim: "\uD800" }, first(10))],
          ["count sid", s.count({ sidClaim: "x\uDC00" })],
          ["cursor", s.list({}, badCursor)]
        ])
      )
      for (const attempt of [s.list({ subClaim: "a\u0000" }, first(10)), s.count({ sidClaim: "\u0000" })]) {
        const result = yield* Effect.either(repos.transaction(attempt as Effect.Effect<unknown, DatabaseError>))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("22021")
        })
      }
    }))

  test("cleanupOrphaned deletes the sessions tied to no browser session, in id order within (since, until], and keeps those an authentication or a registration names", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const seed = yield* Seed
      const s = repos.upstreamOAuthSessions
      const provider = yield* addProvider()
      const link = yield* seedLink(provider)
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const doomedWeb = yield* addBrowserSession(alice)
      const other = yield* addBrowserSession(alice)

      const pending = yield* s.add(provider, "pending", none, none)
      yield* step
      const completed = yield* completedWith(provider, link, "completed")
      yield* step
      const consumed = yield* s.consume(yield* completedWith(provider, link, "consumed"), web)
      yield* step
      // consumed by a browser session that is then deleted: no longer tied to one
      const lost = yield* s.consume(yield* completedWith(provider, link, "lost"), doomedWeb)
      yield* step
      // consumed by a browser session that goes, but another session's authentication names it
      const named = yield* s.consume(yield* completedWith(provider, link, "named"), doomedWeb)
      yield* repos.browserSessions.authenticateWithUpstream(other, named)
      yield* step
      // used only by an authentication (which ties it to that browser session, as MAS's trigger does)
      const authenticated = yield* completedWith(provider, link, "authenticated")
      yield* repos.browserSessions.authenticateWithUpstream(web, authenticated)
      yield* step
      // named by a registration in progress
      const registering = yield* completedWith(provider, link, "registering")
      const registration = yield* repos.userRegistrations.add("bob", none, none, none)
      yield* repos.userRegistrations.setUpstreamOAuthAuthorizationSession(registration, registering)
      yield* step
      const later = yield* s.add(provider, "later", none, none)
      yield* seed.delete("user_sessions", "user_session_id", doomedWeb.id)

      yield* expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
        ["negative limit", s.cleanupOrphaned(none, later.id, -1)],
        ["fractional limit", s.cleanupOrphaned(none, later.id, 1.5)],
        ...malformedIdsLike(later.id).flatMap((id) => [
          [`until ${id}`, s.cleanupOrphaned(none, id, 10)] as const,
          [`since ${id}`, s.cleanupOrphaned(Option.some(id), later.id, 10)] as const
        ])
      ])
      expect(yield* s.cleanupOrphaned(none, later.id, 0)).toEqual([0, none])
      expect(yield* s.cleanupOrphaned(none, registering.id, 1)).toEqual([1, Option.some(pending.id)])
      expect(yield* s.cleanupOrphaned(Option.some(pending.id), registering.id, 10)).toEqual([2, Option.some(lost.id)])
      expect(yield* s.cleanupOrphaned(Option.some(lost.id), registering.id, 10)).toEqual([0, none])
      const left = (yield* statesOf({})).sort()
      expect(left).toEqual(["authenticated", "consumed", "later", "named", "registering"])
      expect(completed.id < lost.id).toBe(true)
      expect(yield* s.cleanupOrphaned(Option.some(registering.id), later.id, 10)).toEqual([1, Option.some(later.id)])
      expect(yield* s.count({})).toBe(4)
      expect(Option.isSome(yield* s.lookup(consumed.id))).toBe(true)
    }))
})
