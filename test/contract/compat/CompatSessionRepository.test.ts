// Contract suite for CompatSessionRepository: every method, filter criterion, pagination edge, batch and cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import type { Row } from "../../../src/memory/Database.js"
import { Finished, Valid } from "../../../src/model/common.js"
import type { CompatSession } from "../../../src/model/compat.js"
import { InvalidTransition } from "../../../src/model/errors.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import type { ActivityRecord, IpAddress } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { CompatSessionFilter } from "../../../src/storage/compat/CompatSessionRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedUpstreamProvider } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addCompatSession,
  addUser,
  device,
  exchangedLoginColumns,
  fulfilledLoginColumns,
  rolledBack,
  seedCompatAccessTokenRow,
  seedCompatRefreshTokenRow,
  seedCompatSession,
  seedCompatSessionRow,
  seedCompatSsoLoginRow
} from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const ip = (text: string) => text as IpAddress

/** A compat_sessions row (for states and stored values the repository cannot produce directly), 10 ms before the next. */
const seedSessionRow = (userId: Ulid, columns: Row = {}) =>
  Effect.tap(seedCompatSessionRow(userId, columns), () => TestClock.adjust(Duration.millis(10)))

const lookupOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { compatSessions } = yield* RepositoryAccess
    return Option.getOrThrow(yield* compatSessions.lookup(id))
  })

/** Sessions one second apart (ids in creation order), each known by a label. */
const makeLabels = () => {
  const names = new Map<Ulid, string>()
  const add = (
    label: string,
    user: User,
    options: { readonly browserSession?: BrowserSession; readonly deviceId?: string } = {}
  ) =>
    Effect.gen(function* () {
      const session = yield* addCompatSession(user, {
        ...(options.browserSession === undefined ? {} : { browserSession: options.browserSession }),
        device: device(options.deviceId ?? label)
      })
      names.set(session.id, label)
      yield* TestClock.adjust(Duration.seconds(1))
      return session
    })
  /** The labels `list` returns in order; `count` must agree whenever the page holds every match (storage rule: Filters). */
  const of = (filter: CompatSessionFilter, pagination = first(100)) =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const page = yield* compatSessions.list(filter, pagination)
      const labels = page.edges.map((e) => names.get(e.node[0].id) ?? "?")
      const whole =
        !page.hasNextPage &&
        !page.hasPreviousPage &&
        Option.isNone(pagination.after) &&
        Option.isNone(pagination.before)
      if (whole) expect(yield* compatSessions.count(filter)).toBe(labels.length)
      return labels
    })
  return { add, of }
}

contract("CompatSessionRepository", (test) => {
  test("add creates a valid session with id and createdAt from Clock and Random; lookup reads it back", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const browser = yield* addBrowserSession(alice)
      const session = yield* compatSessions.add(
        alice,
        device("ABCDEF"),
        Option.some(browser),
        true,
        Option.some("Alice's phone")
      )
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.createdAt).toEqual(new Date(EPOCH))
      expect(session.state).toEqual(new Valid())
      expect(session.userId).toBe(alice.id)
      expect(session.device).toEqual(Option.some(device("ABCDEF")))
      expect(session.userSessionId).toEqual(Option.some(browser.id))
      expect(session.isSynapseAdmin).toBe(true)
      expect(session.humanName).toEqual(Option.some("Alice's phone"))
      for (const field of [session.userAgent, session.lastActiveAt, session.lastActiveIp])
        expect(field).toEqual(Option.none())
      expect(yield* compatSessions.lookup(session.id)).toEqual(Option.some(session))

      const plain = yield* compatSessions.add(alice, device("GHIJKL"), Option.none(), false, Option.none())
      expect([plain.userSessionId, plain.humanName, plain.isSynapseAdmin]).toEqual([
        Option.none(),
        Option.none(),
        false
      ])
      expect(yield* compatSessions.lookup(plain.id)).toEqual(Option.some(plain))
    }))

  test("device ids are not unique: another session, live or finished, of any user may hold the same one", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const one = yield* addCompatSession(alice, { device: device("SAME") })
      yield* compatSessions.finish(one)
      const two = yield* addCompatSession(alice, { device: device("SAME") })
      const three = yield* addCompatSession(alice, { device: device("SAME") })
      yield* addCompatSession(bob, { device: device("SAME") })
      expect(yield* compatSessions.count({ device: device("SAME") })).toBe(4)
      expect(yield* compatSessions.count({ user: alice.id, device: device("SAME"), state: "active" })).toBe(2)
      expect(new Set([one.id, two.id, three.id]).size).toBe(3)
    }))

  test("lookup of an unknown id is none; a malformed id is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* seedCompatSession(alice)
      expect(yield* compatSessions.lookup(yield* generateUlid)).toEqual(Option.none())
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(session.id).map((id) => [`lookup ${id}`, compatSessions.lookup(id)] as const)
      )
    }))

  test("add with a user or browser session that is not stored is a DriverError (foreign key); nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const [ghostUser, ghostBrowser] = yield* rolledBack(
        Effect.gen(function* () {
          const u = yield* repos.users.add("ghost")
          const b = yield* repos.browserSessions.add(u, Option.none())
          return [u, b] as const
        })
      )
      for (const attempt of [
        repos.compatSessions.add(ghostUser, device("D"), Option.none(), false, Option.none()),
        repos.compatSessions.add(alice, device("D"), Option.some(ghostBrowser), false, Option.none())
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      }
      expect(yield* repos.compatSessions.count({})).toBe(0)
    }))

  test("add: an unpaired surrogate in the device id or human name is an InvalidOperationError (the unit of work goes on); NUL a DriverError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail("InvalidOperationError", [
            ["device", repos.compatSessions.add(alice, device("bad\uD800"), Option.none(), false, Option.none())],
            ["name", repos.compatSessions.add(alice, device("D"), Option.none(), false, Option.some("\uDC00"))]
          ])
          yield* addCompatSession(alice)
        })
      )
      expect(yield* repos.compatSessions.count({})).toBe(1)
      for (const attempt of [
        repos.compatSessions.add(alice, device("bad\u0000"), Option.none(), false, Option.none()),
        repos.compatSessions.add(alice, device("D"), Option.none(), false, Option.some("a\u0000b"))
      ]) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("22021")
        })
      }
      expect(yield* repos.compatSessions.count({})).toBe(1)
    }))

  test("finish moves a valid session to Finished at now; a finished one passed in is an InvalidOperationError, a stale one a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* addCompatSession(alice)
      yield* TestClock.adjust(Duration.seconds(5))
      const finished = yield* compatSessions.finish(session)
      expect(finished.state).toEqual(new Finished({ finishedAt: at(5) }))
      expect(finished.isFinished).toBe(true)
      expect(yield* compatSessions.lookup(session.id)).toEqual(Option.some(finished))

      yield* TestClock.adjust(Duration.seconds(5))
      const refused = yield* Effect.flip(compatSessions.finish(finished))
      expect(refused).toMatchObject({ _tag: "InvalidOperationError" })
      expect(refused._tag === "InvalidOperationError" && Option.getOrThrow(refused.cause)).toBeInstanceOf(
        InvalidTransition
      )
      expect(yield* lookupOrThrow(session.id)).toEqual(finished)
      // the entity read before the finish is stale: the guarded statement touches no row
      expect(yield* Effect.flip(compatSessions.finish(session))).toMatchObject(noRowAffected)
      expect(yield* lookupOrThrow(session.id)).toEqual(finished)
      const ghost = yield* rolledBack(addCompatSession(alice))
      expect(yield* Effect.flip(compatSessions.finish(ghost))).toMatchObject(noRowAffected)
    }))

  test("finishBulk stamps now on every matching session (finished ones too unless the filter says active) and returns how many", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const a1 = yield* addCompatSession(alice)
      const a2 = yield* addCompatSession(alice)
      const b1 = yield* addCompatSession(bob)
      yield* compatSessions.finish(a2)
      yield* TestClock.adjust(Duration.seconds(10))
      expect(yield* compatSessions.finishBulk({ user: alice.id, state: "active" })).toBe(1)
      expect((yield* lookupOrThrow(a1.id)).state).toEqual(new Finished({ finishedAt: at(10) }))
      expect((yield* lookupOrThrow(a2.id)).state).toEqual(new Finished({ finishedAt: at(0) }))
      expect((yield* lookupOrThrow(b1.id)).state).toEqual(new Valid())
      yield* TestClock.adjust(Duration.seconds(10))
      expect(yield* compatSessions.finishBulk(CompatSessionFilter.forUser(alice.id))).toBe(2)
      expect((yield* lookupOrThrow(a2.id)).state).toEqual(new Finished({ finishedAt: at(20) }))
      expect(yield* compatSessions.finishBulk({ user: yield* generateUlid })).toBe(0)
      expect(yield* compatSessions.finishBulk({})).toBe(3)
    }))

  test("list pairs each session with the SSO login exchanged into it; pending and fulfilled logins are not paired", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const withLogin = yield* seedCompatSession(alice, { browserSession: web })
      yield* TestClock.adjust(Duration.seconds(1))
      const without = yield* seedCompatSession(alice)
      yield* TestClock.adjust(Duration.seconds(1))
      const login = yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, withLogin.id, at(2), at(3)))
      yield* seedCompatSsoLoginRow()
      yield* seedCompatSsoLoginRow(fulfilledLoginColumns(web.id, at(2)))

      const page = yield* compatSessions.list({}, first(10))
      expect(page.edges.map((e) => e.cursor)).toEqual([withLogin.id, without.id])
      const [[session, paired], [other, none]] = page.edges.map((e) => e.node)
      expect(session).toEqual(withLogin)
      expect(other).toEqual(without)
      expect(none).toEqual(Option.none())
      const found = Option.getOrThrow(paired!)
      expect(found.id).toBe(login)
      expect(found.loginToken).toBe(`login-token-${login}`)
      expect(found.state).toMatchObject({
        _tag: "Exchanged",
        fulfilledAt: at(2),
        exchangedAt: at(3),
        compatSessionId: withLogin.id
      })
    }))

  test("list: a session two logins were exchanged into is one edge, paired with the lower login id", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const session = yield* seedCompatSession(alice, { browserSession: web })
      const lower = yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, session.id, at(1)))
      yield* TestClock.adjust(Duration.millis(5))
      yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, session.id, at(1)))
      const page = yield* compatSessions.list({}, first(10))
      expect(page.edges.length).toBe(1)
      expect(Option.map(page.edges[0]!.node[1], (l) => l.id)).toEqual(Option.some(lower))
      expect(yield* compatSessions.count({ authType: "sso_login" })).toBe(1)
    }))

  test("list pages forward and backward in id order, at the edges", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const labels = makeLabels()
      const empty = yield* compatSessions.list({}, first(3))
      expect([empty.edges.length, empty.hasNextPage, empty.hasPreviousPage]).toEqual([0, false, false])
      const all: Array<CompatSession> = []
      for (const name of ["s1", "s2", "s3", "s4", "s5"]) all.push(yield* labels.add(name, alice))

      const p1 = yield* compatSessions.list({}, first(2))
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(yield* labels.of({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))).toEqual(["s3", "s4"])
      expect(yield* labels.of({}, first(2).pipe(Pagination.after(all[3]!.id)))).toEqual(["s5"])
      const exact = yield* compatSessions.list({}, first(5))
      expect([exact.edges.length, exact.hasNextPage]).toEqual([5, false])
      const back = yield* compatSessions.list({}, last(2))
      expect(back.edges.map((e) => e.node[0].id)).toEqual([all[3]!.id, all[4]!.id])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      expect(yield* labels.of({}, last(2).pipe(Pagination.before(all[3]!.id)))).toEqual(["s2", "s3"])
      expect(yield* labels.of({}, first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id)))).toEqual(
        ["s2", "s3", "s4"]
      )
      yield* expectEachToFail("InvalidOperationError", [
        ["after", compatSessions.list({}, first(2).pipe(Pagination.after("not-a-ulid" as Ulid)))],
        ["before", compatSessions.list({}, last(2).pipe(Pagination.before(`${all[0]!.id}0` as Ulid)))]
      ])
    }))

  test("filters by user, browser session, state, device and the created and last-active bounds; count agrees", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const web = yield* addBrowserSession(alice)
      const labels = makeLabels()
      const a1 = yield* labels.add("a1", alice, { browserSession: web, deviceId: "PHONE" })
      const a2 = yield* labels.add("a2", alice, { deviceId: "LAPTOP" })
      const b1 = yield* labels.add("b1", bob, { deviceId: "PHONE" })
      yield* labels.add("b2", bob, { deviceId: "TABLET" })
      yield* compatSessions.finish(a2)
      yield* compatSessions.recordBatchActivity([
        [a1.id, at(100), Option.none()],
        [b1.id, at(200), Option.none()]
      ])

      expect(yield* labels.of({})).toEqual(["a1", "a2", "b1", "b2"])
      expect(yield* labels.of({ user: alice.id })).toEqual(["a1", "a2"])
      expect(yield* labels.of({ browserSession: web.id })).toEqual(["a1"])
      expect(yield* labels.of(CompatSessionFilter.activeOnly)).toEqual(["a1", "b1", "b2"])
      expect(yield* labels.of(CompatSessionFilter.finishedOnly)).toEqual(["a2"])
      expect(yield* labels.of(CompatSessionFilter.forDevice(device("PHONE")))).toEqual(["a1", "b1"])
      expect(yield* labels.of({ device: device("phone") })).toEqual([])
      expect(yield* labels.of({ lastActiveBefore: at(200) })).toEqual(["a1"])
      expect(yield* labels.of({ lastActiveAfter: at(100) })).toEqual(["b1"])
      expect(yield* labels.of({ lastActiveAfter: at(99), lastActiveBefore: at(201) })).toEqual(["a1", "b1"])
      // created bounds are strict at millisecond resolution: the sessions were made at 0, 1, 2 and 3 seconds
      expect(yield* labels.of({ createdBefore: at(1) })).toEqual(["a1"])
      expect(yield* labels.of({ createdAfter: at(1) })).toEqual(["b1", "b2"])
      expect(yield* labels.of({ createdAfter: at(0), createdBefore: at(3) })).toEqual(["a2", "b1"])
      expect(yield* labels.of({ user: bob.id, device: device("PHONE"), state: "active" })).toEqual(["b1"])
      expect(yield* labels.of({ user: alice.id, state: "active", browserSession: web.id })).toEqual(["a1"])
    }))

  test("authType: sso_login when a login was exchanged into the session, unknown otherwise (pending logins do not hide every session)", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const labels = makeLabels()
      const sso = yield* labels.add("sso", alice)
      const fulfilled = yield* labels.add("fulfilledOnly", alice)
      yield* labels.add("password", alice)
      yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, sso.id, at(10)))
      yield* seedCompatSsoLoginRow(fulfilledLoginColumns(web.id, at(10)))
      yield* seedCompatSsoLoginRow()
      expect(fulfilled.id).toBeDefined()
      expect(yield* labels.of(CompatSessionFilter.ssoLoginOnly)).toEqual(["sso"])
      expect(yield* labels.of(CompatSessionFilter.unknownOnly)).toEqual(["fulfilledOnly", "password"])
      expect(yield* compatSessions.finishBulk({ authType: "unknown" })).toBe(2)
      expect(yield* labels.of({ authType: "sso_login", state: "active" })).toEqual(["sso"])
    }))

  test("browserSessionFilter selects the sessions started from the browser sessions it selects, nested filters included", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const aliceWeb = yield* addBrowserSession(alice)
      const aliceOld = yield* addBrowserSession(alice)
      const bobWeb = yield* addBrowserSession(bob)
      yield* repos.browserSessions.finish(aliceOld)
      const labels = makeLabels()
      yield* labels.add("aliceWeb", alice, { browserSession: aliceWeb })
      yield* labels.add("aliceOld", alice, { browserSession: aliceOld })
      yield* labels.add("bobWeb", bob, { browserSession: bobWeb })
      yield* labels.add("none", alice)
      expect(yield* labels.of({ browserSessionFilter: { user: alice.id } })).toEqual(["aliceWeb", "aliceOld"])
      expect(yield* labels.of({ browserSessionFilter: { state: "active" } })).toEqual(["aliceWeb", "bobWeb"])
      expect(yield* labels.of(CompatSessionFilter.forBrowserSessions({}))).toEqual(["aliceWeb", "aliceOld", "bobWeb"])
      // linked through an upstream authorization session with a sub claim
      const provider = yield* seedUpstreamProvider()
      yield* seed.insert("upstream_oauth_authorization_sessions", {
        upstream_oauth_authorization_session_id: yield* generateUlid,
        upstream_oauth_provider_id: provider,
        upstream_oauth_link_id: null,
        user_session_id: bobWeb.id,
        state: "state",
        code_challenge_verifier: null,
        nonce: null,
        id_token: null,
        id_token_claims: { sub: "bob-sub" },
        extra_callback_parameters: null,
        userinfo: null,
        created_at: at(0),
        completed_at: at(0),
        consumed_at: at(0),
        unlinked_at: null
      })
      expect(yield* labels.of({ browserSessionFilter: { linkedToUpstreamSessions: { subClaim: "bob-sub" } } })).toEqual(
        ["bobWeb"]
      )
    }))

  test("a bad filter is refused before anything is read or written: malformed ids and surrogates an InvalidOperationError, NUL in the device a DriverError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* addCompatSession(alice)
      const bad = malformedIdsLike(session.id)[0]!
      const filters: ReadonlyArray<readonly [string, CompatSessionFilter]> = [
        ["user", { user: bad }],
        ["browserSession", { browserSession: bad }],
        ["nested user", { browserSessionFilter: { user: bad } }],
        ["nested provider", { browserSessionFilter: { linkedToUpstreamSessions: { provider: bad } } }],
        ["device surrogate", { device: device("\uD800") }]
      ]
      yield* expectEachToFailWithoutWriting(
        repos.compatSessions.lookup(session.id),
        "InvalidOperationError",
        filters.flatMap(([name, filter]) => [
          [`list ${name}`, repos.compatSessions.list(filter, first(5))] as const,
          [`count ${name}`, repos.compatSessions.count(filter)] as const,
          [`finishBulk ${name}`, repos.compatSessions.finishBulk(filter)] as const
        ])
      )
      const nul: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
        repos.compatSessions.list({ device: device("a\u0000") }, first(5)),
        repos.compatSessions.count({ device: device("a\u0000") }),
        repos.compatSessions.finishBulk({ device: device("a\u0000") })
      ]
      for (const attempt of nul) {
        const result = yield* Effect.either(repos.transaction(attempt))
        expect(Either.isLeft(result) && result.left).toMatchObject({
          _tag: "DriverError",
          sqlState: Option.some("22021")
        })
      }
      expect((yield* lookupOrThrow(session.id)).state).toEqual(new Valid())
    }))

  test("recordUserAgent and setHumanName overwrite their column whatever the state; a missing row is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* addCompatSession(alice, { humanName: Option.some("old") })
      const agent = yield* repos.compatSessions.recordUserAgent(session, "Element/1.0")
      expect(agent.userAgent).toEqual(Option.some("Element/1.0"))
      expect(yield* lookupOrThrow(session.id)).toEqual(agent)
      const named = yield* repos.compatSessions.setHumanName(agent, Option.some("new"))
      expect(named.humanName).toEqual(Option.some("new"))
      expect(yield* lookupOrThrow(session.id)).toEqual(named)
      const finished = yield* repos.compatSessions.finish(named)
      const cleared = yield* repos.compatSessions.setHumanName(finished, Option.none())
      expect(cleared.humanName).toEqual(Option.none())
      const again = yield* repos.compatSessions.recordUserAgent(cleared, "Element/2.0")
      expect(yield* lookupOrThrow(session.id)).toEqual(again)

      yield* expectEachToFail("InvalidOperationError", [
        ["agent surrogate", repos.compatSessions.recordUserAgent(again, "bad\uD800")],
        ["name surrogate", repos.compatSessions.setHumanName(again, Option.some("\uDC00bad"))]
      ])
      expect(yield* lookupOrThrow(session.id)).toEqual(again)
      const nul = yield* Effect.either(repos.transaction(repos.compatSessions.recordUserAgent(again, "a\u0000")))
      expect(Either.isLeft(nul) && nul.left).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })

      const ghost = yield* rolledBack(addCompatSession(alice))
      yield* expectEachToFail("RowsAffectedError", [
        ["recordUserAgent", repos.compatSessions.recordUserAgent(ghost, "x")],
        ["setHumanName", repos.compatSessions.setHumanName(ghost, Option.none())]
      ])
    }))

  test("recordBatchActivity keeps the later instant and replaces the IP only when one is given", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const s1 = yield* addCompatSession(alice)
      const s2 = yield* addCompatSession(alice)
      const finished = yield* compatSessions.finish(yield* addCompatSession(alice))
      yield* compatSessions.recordBatchActivity([
        [s2.id, at(20), Option.none()],
        [s1.id, at(10), Option.some(ip("192.0.2.1"))]
      ])
      expect([(yield* lookupOrThrow(s1.id)).lastActiveAt, (yield* lookupOrThrow(s1.id)).lastActiveIp]).toEqual([
        Option.some(at(10)),
        Option.some("192.0.2.1")
      ])
      expect((yield* lookupOrThrow(s2.id)).lastActiveIp).toEqual(Option.none())
      yield* compatSessions.recordBatchActivity([[s1.id, at(5), Option.none()]])
      expect([(yield* lookupOrThrow(s1.id)).lastActiveAt, (yield* lookupOrThrow(s1.id)).lastActiveIp]).toEqual([
        Option.some(at(10)),
        Option.some("192.0.2.1")
      ])
      yield* compatSessions.recordBatchActivity([[s1.id, at(1), Option.some(ip("2001:db8::1"))]])
      expect((yield* lookupOrThrow(s1.id)).lastActiveIp).toEqual(Option.some("2001:db8::1"))
      yield* compatSessions.recordBatchActivity([[finished.id, at(40), Option.none()]])
      expect((yield* lookupOrThrow(finished.id)).lastActiveAt).toEqual(Option.some(at(40)))
      yield* compatSessions.recordBatchActivity([])
    }))

  test("recordBatchActivity: an unknown or repeated id is a RowsAffectedError; a malformed entry an InvalidOperationError with nothing written", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const s1 = yield* addCompatSession(alice)
      const unknown: ReadonlyArray<ActivityRecord> = [
        [s1.id, at(1), Option.none()],
        [yield* generateUlid, at(1), Option.none()]
      ]
      expect(yield* Effect.flip(compatSessions.recordBatchActivity(unknown))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
      const repeated: ReadonlyArray<ActivityRecord> = [
        [s1.id, at(2), Option.none()],
        [s1.id, at(3), Option.none()]
      ]
      expect(yield* Effect.flip(compatSessions.recordBatchActivity(repeated))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
      const before = yield* lookupOrThrow(s1.id)
      const good: ActivityRecord = [s1.id, at(50), Option.none()]
      yield* expectEachToFailWithoutWriting(lookupOrThrow(s1.id), "InvalidOperationError", [
        ["malformed id", compatSessions.recordBatchActivity([good, ["nope" as Ulid, at(1), Option.none()]])],
        ["network", compatSessions.recordBatchActivity([good, [s1.id, at(1), Option.some(ip("10.0.0.0/8"))]])],
        ["invalid Date", compatSessions.recordBatchActivity([good, [s1.id, new Date(Number.NaN), Option.none()]])]
      ])
      expect(yield* lookupOrThrow(s1.id)).toEqual(before)
    }))

  test("recordBatchActivity: an id given twice is updated once, from its first entry, before the RowsAffectedError", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const s1 = yield* addCompatSession(alice)
      // the second entry is the later one with another IP: PostgreSQL's UPDATE … FROM would pick either
      const repeated: ReadonlyArray<ActivityRecord> = [
        [s1.id, at(2), Option.some(ip("192.0.2.1"))],
        [s1.id, at(3), Option.some(ip("192.0.2.2"))]
      ]
      expect(yield* Effect.flip(compatSessions.recordBatchActivity(repeated))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
      const after = yield* lookupOrThrow(s1.id)
      expect([after.lastActiveAt, after.lastActiveIp]).toEqual([Option.some(at(2)), Option.some("192.0.2.1")])
    }))

  test("cleanupFinished deletes finished sessions in batches by finishedAt, with their refresh tokens, access tokens and SSO logins", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      // finishedAt: two at 100 (a tie across a batch boundary), 110, 120, 130 (at the cut-off), and one active.
      const f100a = yield* seedSessionRow(alice.id, { finished_at: at(100) })
      const f100b = yield* seedSessionRow(alice.id, { finished_at: at(100) })
      const f110 = yield* seedSessionRow(alice.id, { finished_at: at(110) })
      const f120 = yield* seedSessionRow(alice.id, { finished_at: at(120) })
      const f130 = yield* seedSessionRow(alice.id, { finished_at: at(130) })
      const active = yield* seedSessionRow(alice.id)
      const access = yield* seedCompatAccessTokenRow(f100a)
      yield* seedCompatRefreshTokenRow(f100a, access)
      yield* seedCompatAccessTokenRow(f110)
      yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, f100b, at(50)))
      // the survivors' rows stay, and so do logins not exchanged into a doomed session
      const keptAccess = yield* seedCompatAccessTokenRow(active)
      yield* seedCompatRefreshTokenRow(active, keptAccess)
      yield* seedCompatAccessTokenRow(f130)
      yield* seedCompatSsoLoginRow(exchangedLoginColumns(web.id, active, at(50)))
      yield* seedCompatSsoLoginRow(fulfilledLoginColumns(web.id, at(50)))

      const until = at(130)
      const batches: Array<readonly [number, Option.Option<Date>]> = []
      let since = Option.none<Date>()
      for (;;) {
        const [count, lastKey] = yield* compatSessions.cleanupFinished(since, until, 2)
        batches.push([count, lastKey])
        if (count < 2) break
        since = lastKey
      }
      expect(batches).toEqual([
        [2, Option.some(at(100))],
        [2, Option.some(at(120))],
        [0, Option.none()]
      ])
      for (const id of [f100a, f100b, f110, f120]) expect(yield* compatSessions.lookup(id)).toEqual(Option.none())
      for (const id of [f130, active]) expect(Option.isSome(yield* compatSessions.lookup(id))).toBe(true)
      expect(yield* seed.count("compat_access_tokens")).toBe(2)
      expect(yield* seed.count("compat_refresh_tokens")).toBe(1)
      expect(yield* seed.count("compat_sso_logins")).toBe(2)
      expect(yield* compatSessions.count({})).toBe(2)
    }))

  test("cleanupFinished: since is inclusive, until exclusive, ties in id order, limit 0 deletes nothing, a bad limit is refused", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const a = yield* seedSessionRow(alice.id, { finished_at: at(100) })
      const b = yield* seedSessionRow(alice.id, { finished_at: at(100) })
      const c = yield* seedSessionRow(alice.id, { finished_at: at(200) })
      expect(yield* compatSessions.cleanupFinished(Option.some(at(100)), at(200), 0)).toEqual([0, Option.none()])
      yield* expectEachToFail("InvalidOperationError", [
        ["negative", compatSessions.cleanupFinished(Option.none(), at(200), -1)],
        ["fractional", compatSessions.cleanupFinished(Option.none(), at(200), 1.5)],
        ["unsafe", compatSessions.cleanupFinished(Option.none(), at(200), 2 ** 53)]
      ])
      expect(yield* compatSessions.count({})).toBe(3)
      expect(yield* compatSessions.cleanupFinished(Option.some(at(101)), at(200), 10)).toEqual([0, Option.none()])
      expect(yield* compatSessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([1, Option.some(at(100))])
      expect(yield* compatSessions.lookup(a)).toEqual(Option.none())
      expect(Option.isSome(yield* compatSessions.lookup(b))).toBe(true)
      expect(yield* compatSessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([1, Option.some(at(100))])
      expect(yield* compatSessions.cleanupFinished(Option.some(at(100)), new Date(at(200).getTime() + 1), 5)).toEqual([
        1,
        Option.some(at(200))
      ])
      expect(yield* compatSessions.lookup(c)).toEqual(Option.none())
    }))

  test("cleanupInactiveIps clears the IP of sessions last active before the threshold, in batches by lastActiveAt", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const seedActive = (lastActiveAt: Date | null, lastActiveIp: string | null, finishedAt: Date | null = null) =>
        seedSessionRow(alice.id, {
          last_active_at: lastActiveAt,
          last_active_ip: lastActiveIp,
          finished_at: finishedAt
        })
      const a = yield* seedActive(at(10), "192.0.2.1")
      const b = yield* seedActive(at(10), "192.0.2.2")
      const c = yield* seedActive(at(20), "2001:db8::2")
      const noIp = yield* seedActive(at(15), null)
      const recent = yield* seedActive(at(40), "192.0.2.4", at(41))
      const atThreshold = yield* seedActive(at(30), "192.0.2.5")

      const threshold = at(30)
      const batch1 = yield* compatSessions.cleanupInactiveIps(Option.none(), threshold, 2)
      expect(batch1).toEqual([2, Option.some(at(10))])
      expect(yield* compatSessions.cleanupInactiveIps(batch1[1], threshold, 2)).toEqual([1, Option.some(at(20))])
      expect(yield* compatSessions.cleanupInactiveIps(Option.none(), threshold, 2)).toEqual([0, Option.none()])
      for (const id of [a, b, c]) {
        const s = yield* lookupOrThrow(id)
        expect(s.lastActiveIp).toEqual(Option.none())
        expect(Option.isSome(s.lastActiveAt)).toBe(true)
      }
      expect((yield* lookupOrThrow(noIp)).lastActiveIp).toEqual(Option.none())
      expect((yield* lookupOrThrow(recent)).lastActiveIp).toEqual(Option.some("192.0.2.4"))
      expect((yield* lookupOrThrow(atThreshold)).lastActiveIp).toEqual(Option.some("192.0.2.5"))
      expect(yield* compatSessions.cleanupInactiveIps(Option.some(at(30)), at(50), 10)).toEqual([
        2,
        Option.some(at(40))
      ])
      expect(yield* Effect.flip(compatSessions.cleanupInactiveIps(Option.none(), threshold, 1.5))).toMatchObject({
        _tag: "InvalidOperationError"
      })
    }))

  test("a stored network instead of an address, or a paired login in an impossible state, is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { compatSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const good = yield* seedSessionRow(alice.id)
      const badIp = yield* seedSessionRow(alice.id, { last_active_at: at(5), last_active_ip: "10.0.0.0/8" })
      const error = yield* Effect.flip(compatSessions.lookup(badIp))
      expect(error).toMatchObject({
        _tag: "InconsistencyError",
        table: "compat_sessions",
        column: Option.some("last_active_ip"),
        row: Option.some(badIp)
      })
      expect(yield* Effect.flip(compatSessions.list({}, first(10)))).toMatchObject({ row: Option.some(badIp) })
      expect((yield* compatSessions.list({}, first(1))).edges.map((e) => e.node[0].id)).toEqual([good])

      // a login naming the session that was fulfilled but never exchanged: an impossible tuple (listed past badIp)
      const pastBadIp = { createdAfter: new Date(ulidTimestamp(badIp)) }
      const paired = yield* seedSessionRow(alice.id)
      const login = yield* seedCompatSsoLoginRow({ ...fulfilledLoginColumns(web.id, at(1)), compat_session_id: paired })
      expect(yield* Effect.flip(compatSessions.list(pastBadIp, first(10)))).toMatchObject({
        _tag: "InconsistencyError",
        table: "compat_sso_logins",
        column: Option.some("state"),
        row: Option.some(login)
      })
      // a login with a redirect URI that is not an absolute URL
      const other = yield* seedSessionRow(alice.id)
      const badUri = yield* seedCompatSsoLoginRow({
        ...exchangedLoginColumns(web.id, other, at(1)),
        redirect_uri: "not a url"
      })
      expect(yield* Effect.flip(compatSessions.list(pastBadIp, last(1)))).toMatchObject({
        _tag: "InconsistencyError",
        table: "compat_sso_logins",
        column: Option.some("redirect_uri"),
        row: Option.some(badUri)
      })
      // counting decodes nothing; finishBulk writes without reading the rows back
      expect(yield* compatSessions.count({})).toBe(4)
      expect(yield* compatSessions.finishBulk({ state: "active" })).toBe(4)
    }))
})
