// Contract suite for CompatSsoLoginRepository: the pending → fulfilled → exchanged machine with its guarded writes, the unique token, the finders, list and count, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import { type CompatSsoLogin, CompatSsoLoginExchanged, CompatSsoLoginFulfilled } from "../../../src/model/compat.js"
import { InvalidTransition } from "../../../src/model/errors.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import type { Url } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { CompatSsoLoginFilter } from "../../../src/storage/compat/CompatSsoLoginRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addCompatSession,
  addUser,
  exchangedLoginColumns,
  REDIRECT_URI,
  rolledBack,
  seedCompatSession,
  seedCompatSsoLogin,
  seedCompatSsoLoginRow
} from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const url = (text: string) => text as Url

const LOGINS = "compat_sso_logins"

const dumpLogins = Effect.flatMap(Seed, (seed) => seed.dump(LOGINS, "compat_sso_login_id"))

const lookupOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { compatSsoLogins } = yield* RepositoryAccess
    return Option.getOrThrow(yield* compatSsoLogins.lookup(id))
  })

/** A user with a browser session and a compat session. */
const setup = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const web = yield* addBrowserSession(alice)
  const session = yield* seedCompatSession(alice, { browserSession: web })
  return { alice, web, session }
})

/** The token texts `list` returns in order; `count` must agree whenever the page holds every match. */
const tokensOf = (filter: CompatSsoLoginFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { compatSsoLogins } = yield* RepositoryAccess
    const page = yield* compatSsoLogins.list(filter, pagination)
    const tokens = page.edges.map((e) => e.node.loginToken)
    const whole =
      !page.hasNextPage && !page.hasPreviousPage && Option.isNone(pagination.after) && Option.isNone(pagination.before)
    if (whole) expect(yield* compatSsoLogins.count(filter)).toBe(tokens.length)
    for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.id)
    return tokens
  })

contract("CompatSsoLoginRepository", (test) => {
  test("add creates a pending login with id and createdAt from Clock and Random; lookup and findByToken read it back", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const login = yield* compatSsoLogins.add("login-token", REDIRECT_URI)
      expect(ulidTimestamp(login.id)).toBe(EPOCH)
      expect(login.createdAt).toEqual(new Date(EPOCH))
      expect(login.state).toEqual(new Pending())
      expect([login.loginToken, login.redirectUri]).toEqual(["login-token", REDIRECT_URI])
      expect(yield* compatSsoLogins.lookup(login.id)).toEqual(Option.some(login))
      expect(yield* compatSsoLogins.findByToken("login-token")).toEqual(Option.some(login))
      expect(yield* compatSsoLogins.findByToken("LOGIN-TOKEN")).toEqual(Option.none())
      expect(yield* compatSsoLogins.findByToken("login-toke")).toEqual(Option.none())
      expect(yield* compatSsoLogins.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("add stores the redirect URI in its WHATWG serialisation; text that is not an absolute URL is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const login = yield* compatSsoLogins.add("t1", url("HTTPS://Client.Example.COM:443/a/../cb"))
      expect(login.redirectUri).toBe("https://client.example.com/cb")
      expect((yield* lookupOrThrow(login.id)).redirectUri).toBe("https://client.example.com/cb")
      yield* expectEachToFailWithoutWriting(dumpLogins, "InvalidOperationError", [
        ["relative", compatSsoLogins.add("t2", url("/callback"))],
        ["garbage", compatSsoLogins.add("t3", url("not a url"))]
      ])
    }))

  test("a login token already stored is a RowsAffectedError that leaves the unit of work usable; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const login = yield* repos.compatSsoLogins.add("taken", REDIRECT_URI)
      yield* repos.transaction(
        Effect.gen(function* () {
          expect(
            yield* Effect.flip(repos.compatSsoLogins.add("taken", url("https://other.example.com/")))
          ).toMatchObject(noRowAffected)
          yield* repos.compatSsoLogins.add("fresh", REDIRECT_URI)
        })
      )
      expect(yield* repos.compatSsoLogins.findByToken("taken")).toEqual(Option.some(login))
      expect(yield* repos.compatSsoLogins.count({})).toBe(2)
    }))

  test("token text: an unpaired surrogate is an InvalidOperationError (the unit of work goes on), NUL a DriverError; malformed ids are refused", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const login = yield* repos.compatSsoLogins.add("t", REDIRECT_URI)
      yield* repos.transaction(
        expectEachToFailWithoutWriting(dumpLogins, "InvalidOperationError", [
          ["add", repos.compatSsoLogins.add("bad\uD800", REDIRECT_URI)],
          ["findByToken", repos.compatSsoLogins.findByToken("\uDC00")],
          ...malformedIdsLike(login.id).map((id) => [`lookup ${id}`, repos.compatSsoLogins.lookup(id)] as const)
        ])
      )
      const nul: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
        repos.compatSsoLogins.add("a\u0000b", REDIRECT_URI),
        repos.compatSsoLogins.findByToken("a\u0000")
      ]
      for (const attempt of nul) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("22021")
        })
      }
      expect(yield* repos.compatSsoLogins.count({})).toBe(1)
    }))

  test("fulfill then exchange move a login through its states at now; the browser session stays recorded", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const { alice, session, web } = yield* setup
      const login = yield* compatSsoLogins.add("t", REDIRECT_URI)
      yield* TestClock.adjust(Duration.seconds(5))
      const fulfilled = yield* compatSsoLogins.fulfill(login, web)
      expect(fulfilled.state).toEqual(new CompatSsoLoginFulfilled({ fulfilledAt: at(5), browserSessionId: web.id }))
      expect(yield* lookupOrThrow(login.id)).toEqual(fulfilled)
      yield* TestClock.adjust(Duration.seconds(5))
      const exchanged = yield* compatSsoLogins.exchange(fulfilled, session)
      expect(exchanged.state).toEqual(
        new CompatSsoLoginExchanged({ fulfilledAt: at(5), exchangedAt: at(10), compatSessionId: session.id })
      )
      expect(yield* lookupOrThrow(login.id)).toEqual(exchanged)
      expect(yield* compatSsoLogins.findForSession(session)).toEqual(Option.some(exchanged))
      // the fulfilling browser session is still the one the user filter follows
      expect(yield* compatSsoLogins.count({ user: alice.id })).toBe(1)
      const [row] = yield* dumpLogins
      expect(row).toMatchObject({ user_session_id: web.id, compat_session_id: session.id })
    }))

  test("a transition the state machine does not allow is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const { session, web } = yield* setup
      const pending = yield* compatSsoLogins.add("p", REDIRECT_URI)
      const fulfilled = yield* compatSsoLogins.fulfill(yield* compatSsoLogins.add("f", REDIRECT_URI), web)
      const exchanged = yield* compatSsoLogins.exchange(
        yield* compatSsoLogins.fulfill(yield* compatSsoLogins.add("e", REDIRECT_URI), web),
        session
      )
      const before = yield* dumpLogins
      for (const attempt of [
        compatSsoLogins.exchange(pending, session),
        compatSsoLogins.fulfill(fulfilled, web),
        compatSsoLogins.fulfill(exchanged, web),
        compatSsoLogins.exchange(exchanged, session)
      ]) {
        const error = yield* Effect.flip(attempt)
        expect(error).toMatchObject({ _tag: "InvalidOperationError" })
        expect(error._tag === "InvalidOperationError" && Option.getOrThrow(error.cause)).toBeInstanceOf(
          InvalidTransition
        )
      }
      expect(yield* dumpLogins).toEqual(before)
    }))

  test("the writes are guarded: a stale login whose row moved on is a RowsAffectedError, and a login is used once", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const { alice, session, web } = yield* setup
      const other = yield* addBrowserSession(alice)
      const login = yield* compatSsoLogins.add("t", REDIRECT_URI)
      const fulfilled = yield* compatSsoLogins.fulfill(login, web)
      // the pending entity is stale: the row is fulfilled already
      expect(yield* Effect.flip(compatSsoLogins.fulfill(login, other))).toMatchObject(noRowAffected)
      expect(yield* lookupOrThrow(login.id)).toEqual(fulfilled)
      const exchanged = yield* compatSsoLogins.exchange(fulfilled, session)
      const second = yield* addCompatSession(alice)
      // the fulfilled entity is stale: the row is exchanged already
      expect(yield* Effect.flip(compatSsoLogins.exchange(fulfilled, second))).toMatchObject(noRowAffected)
      expect(yield* lookupOrThrow(login.id)).toEqual(exchanged)
      // a login that is not stored
      const ghost = yield* rolledBack(compatSsoLogins.add("ghost", REDIRECT_URI))
      expect(yield* Effect.flip(compatSsoLogins.fulfill(ghost, web))).toMatchObject(noRowAffected)
    }))

  test("fulfill with a browser session, or exchange into a session, that is not stored is a DriverError; malformed argument ids an InvalidOperationError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice, session, web } = yield* setup
      const [ghostWeb, ghostSession] = yield* rolledBack(
        Effect.gen(function* () {
          const b = yield* repos.browserSessions.add(alice, Option.none())
          return [b, yield* addCompatSession(alice)] as const
        })
      )
      const pending = yield* repos.compatSsoLogins.add("p", REDIRECT_URI)
      const fulfilled = yield* repos.compatSsoLogins.fulfill(yield* repos.compatSsoLogins.add("f", REDIRECT_URI), web)
      yield* expectEachToFailWithoutWriting(dumpLogins, "InvalidOperationError", [
        ["fulfill browser id", repos.compatSsoLogins.fulfill(pending, { ...web, id: "bad" as Ulid } as typeof web)],
        [
          "exchange session id",
          repos.compatSsoLogins.exchange(fulfilled, { ...session, id: "bad" as Ulid } as typeof session)
        ],
        ["findForSession id", repos.compatSsoLogins.findForSession({ ...session, id: "bad" as Ulid } as typeof session)]
      ])
      for (const attempt of [
        repos.compatSsoLogins.fulfill(pending, ghostWeb),
        repos.compatSsoLogins.exchange(fulfilled, ghostSession)
      ]) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("23503")
        })
      }
      expect((yield* lookupOrThrow(pending.id)).state).toEqual(new Pending())
      expect((yield* lookupOrThrow(fulfilled.id)).state._tag).toBe("Fulfilled")
    }))

  test("findForSession returns the login exchanged into the session (the lowest id of several), none for other sessions", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const { alice, session, web } = yield* setup
      const other = yield* seedCompatSession(alice)
      expect(yield* compatSsoLogins.findForSession(session)).toEqual(Option.none())
      yield* seedCompatSsoLogin({ browserSession: web })
      expect(yield* compatSsoLogins.findForSession(session)).toEqual(Option.none())
      const lower = yield* seedCompatSsoLogin({ browserSession: web, session })
      yield* TestClock.adjust(Duration.millis(5))
      yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, session.id, at(1)))
      expect(yield* compatSsoLogins.findForSession(session)).toEqual(Option.some(lower))
      expect(yield* compatSsoLogins.findForSession(other)).toEqual(Option.none())
    }))

  test("list and count filter by state (fulfilled excludes exchanged) and by the user whose browser session fulfilled the login", () =>
    Effect.gen(function* () {
      const { session, web } = yield* setup
      const bob = yield* addUser("bob")
      const bobWeb = yield* addBrowserSession(bob)
      yield* seedCompatSsoLogin({ loginToken: "pending" })
      yield* TestClock.adjust(Duration.seconds(1))
      yield* seedCompatSsoLogin({ loginToken: "alice-fulfilled", browserSession: web })
      yield* TestClock.adjust(Duration.seconds(1))
      yield* seedCompatSsoLogin({ loginToken: "alice-exchanged", browserSession: web, session })
      yield* TestClock.adjust(Duration.seconds(1))
      yield* seedCompatSsoLogin({ loginToken: "bob-fulfilled", browserSession: bobWeb })
      const alice = web.user

      expect(yield* tokensOf({})).toEqual(["pending", "alice-fulfilled", "alice-exchanged", "bob-fulfilled"])
      expect(yield* tokensOf(CompatSsoLoginFilter.pendingOnly)).toEqual(["pending"])
      expect(yield* tokensOf(CompatSsoLoginFilter.fulfilledOnly)).toEqual(["alice-fulfilled", "bob-fulfilled"])
      expect(yield* tokensOf(CompatSsoLoginFilter.exchangedOnly)).toEqual(["alice-exchanged"])
      expect(yield* tokensOf(CompatSsoLoginFilter.forUser(alice.id))).toEqual(["alice-fulfilled", "alice-exchanged"])
      expect(yield* tokensOf({ user: bob.id, state: "fulfilled" })).toEqual(["bob-fulfilled"])
      expect(yield* tokensOf({ user: bob.id, state: "pending" })).toEqual([])
      expect(yield* tokensOf({ user: yield* generateUlid })).toEqual([])
    }))

  test("list pages forward and backward in id order; a malformed filter id or cursor is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const all: Array<CompatSsoLogin> = []
      for (const token of ["l1", "l2", "l3", "l4"]) {
        all.push(yield* compatSsoLogins.add(token, REDIRECT_URI))
        yield* TestClock.adjust(Duration.seconds(1))
      }
      const p1 = yield* compatSsoLogins.list({}, first(2))
      expect(p1.edges.map((e) => e.node)).toEqual([all[0], all[1]])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(yield* tokensOf({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))).toEqual(["l3", "l4"])
      const back = yield* compatSsoLogins.list({}, last(3))
      expect(back.edges.map((e) => e.node.loginToken)).toEqual(["l2", "l3", "l4"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      expect(yield* tokensOf({}, last(5).pipe(Pagination.before(all[2]!.id)))).toEqual(["l1", "l2"])
      expect(yield* tokensOf({}, first(5).pipe(Pagination.after(all[0]!.id), Pagination.before(all[3]!.id)))).toEqual([
        "l2",
        "l3"
      ])
      yield* expectEachToFail("InvalidOperationError", [
        ...malformedIdsLike(all[0]!.id).flatMap((id) => [
          [`list user ${id}`, compatSsoLogins.list({ user: id }, first(2))] as const,
          [`count user ${id}`, compatSsoLogins.count({ user: id })] as const
        ]),
        ["after", compatSsoLogins.list({}, first(2).pipe(Pagination.after("nope" as Ulid)))]
      ])
    }))

  test("a stored impossible state tuple or a redirect URI that is not a URL is an InconsistencyError naming the column; count still counts", () =>
    Effect.gen(function* () {
      const { compatSsoLogins } = yield* RepositoryAccess
      const { session, web } = yield* setup
      const good = yield* seedCompatSsoLoginRow()
      yield* TestClock.adjust(Duration.millis(10))
      // exchanged without ever being fulfilled
      const badState = yield* seedCompatSsoLoginRow({ compat_session_id: session.id, exchanged_at: at(1) })
      yield* TestClock.adjust(Duration.millis(10))
      const badUri = yield* seedCompatSsoLoginRow({ redirect_uri: "relative/path", login_token: "bad-uri" })
      yield* TestClock.adjust(Duration.millis(10))
      // fulfilled without a browser session
      const noBrowser = yield* seedCompatSsoLoginRow({ fulfilled_at: at(1) })
      const expected = (row: Ulid, column: string) => ({
        _tag: "InconsistencyError",
        table: "compat_sso_logins",
        column: Option.some(column),
        row: Option.some(row)
      })
      expect(yield* Effect.flip(compatSsoLogins.lookup(badState))).toMatchObject(expected(badState, "state"))
      expect(yield* Effect.flip(compatSsoLogins.findByToken("bad-uri"))).toMatchObject(expected(badUri, "redirect_uri"))
      expect(yield* Effect.flip(compatSsoLogins.lookup(noBrowser))).toMatchObject(expected(noBrowser, "state"))
      expect(yield* Effect.flip(compatSsoLogins.findForSession(session))).toMatchObject(expected(badState, "state"))
      expect(yield* Effect.flip(compatSsoLogins.list({}, first(10)))).toMatchObject(expected(badState, "state"))
      expect((yield* compatSsoLogins.list({}, first(1))).edges.map((e) => e.node.id)).toEqual([good])
      expect(yield* compatSsoLogins.count({})).toBe(4)
      expect(web.id).toBeDefined()
    }))
})
