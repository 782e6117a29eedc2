// Contract suite for AppSessionRepository: compat and OAuth2 sessions as one list (one keyset across both kinds, forward and backward over the boundary), the same filter semantics for both kinds, count, refused input, rows decoded by their own kind, and finishSessionsToReplaceDevice, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { type AppSession, AppSessionCompat, AppSessionOAuth2 } from "../../../src/model/appSession.js"
import type { CompatSession } from "../../../src/model/compat.js"
import type { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { User } from "../../../src/model/user.js"
import type { Ulid } from "../../../src/model/Ulid.js"
import { DEVICE_SCOPE_PREFIX, DEVICE_SCOPE_PREFIX_UNSTABLE, Device } from "../../../src/model/values.js"
import type { AppSessionFilter } from "../../../src/storage/appSession/AppSessionRepository.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { seedCompatSession, seedCompatSessionRow } from "../compat/fixtures.js"
import {
  addBrowserSession,
  addUser,
  scope,
  seedClient,
  seedOAuth2Session,
  seedOAuth2SessionRow
} from "../oauth2/fixtures.js"
import { expectEachToFailWithoutWriting, malformedIdsLike } from "../refusals.js"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))

const stable = (id: string) => `${DEVICE_SCOPE_PREFIX}${id}`
const unstable = (id: string) => `${DEVICE_SCOPE_PREFIX_UNSTABLE}${id}`

const compat = (session: CompatSession): AppSession => new AppSessionCompat({ session })
const oauth2 = (session: OAuth2Session): AppSession => new AppSessionOAuth2({ session })

/** What both kinds' tables hold: compared before and after a refused call. */
const dumpSessions = Effect.gen(function* () {
  const seed = yield* Seed
  return {
    compat: yield* seed.dump("compat_sessions", "compat_session_id"),
    oauth2: yield* seed.dump("oauth2_sessions", "oauth2_session_id")
  }
})

/** A session's id, whatever its kind. */
const idOf = (s: AppSession): Ulid => s.session.id

/** The sessions of a page with its flags, and the count of the same filter. */
const listed = (filter: AppSessionFilter, pagination: Pagination = first(100)) =>
  Effect.gen(function* () {
    const { appSessions } = yield* RepositoryAccess
    const page = yield* appSessions.list(filter, pagination)
    for (const edge of page.edges) expect(edge.cursor).toBe(idOf(edge.node))
    return {
      nodes: page.edges.map((e) => e.node),
      next: page.hasNextPage,
      previous: page.hasPreviousPage
    }
  })

/** The ids `filter` selects, checked to be what count says. */
const selected = (filter: AppSessionFilter) =>
  Effect.gen(function* () {
    const { appSessions } = yield* RepositoryAccess
    const { nodes } = yield* listed(filter)
    expect(yield* appSessions.count(filter)).toBe(nodes.length)
    return nodes.map(idOf)
  })

/**
 * Alice's six sessions, alternating kinds one second apart (so the list interleaves them): compat c1, OAuth2 o1,
 * compat c2, OAuth2 o2 and o3, compat c3; then a session of each kind of Bob and an OAuth2 session without a user.
 */
const interleaved = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const bob = yield* addUser("bob")
  const client = yield* seedClient
  const tick = TestClock.adjust(Duration.seconds(1))
  const c1 = yield* seedCompatSession(alice)
  yield* tick
  const o1 = yield* seedOAuth2Session(client, { user: alice })
  yield* tick
  const c2 = yield* seedCompatSession(alice)
  yield* tick
  const o2 = yield* seedOAuth2Session(client, { user: alice })
  yield* tick
  const o3 = yield* seedOAuth2Session(client, { user: alice })
  yield* tick
  const c3 = yield* seedCompatSession(alice)
  yield* tick
  const bobCompat = yield* seedCompatSession(bob)
  const bobOAuth2 = yield* seedOAuth2Session(client, { user: bob })
  const noUser = yield* seedOAuth2Session(client)
  return {
    alice,
    bob,
    client,
    aliceSessions: [compat(c1), oauth2(o1), compat(c2), oauth2(o2), oauth2(o3), compat(c3)],
    others: [compat(bobCompat), oauth2(bobOAuth2), oauth2(noUser)]
  }
})

contract("AppSessionRepository", (test) => {
  test("list gives compat and OAuth2 sessions as one list in session-id order, each as its own repository reads it; count counts both", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      expect(yield* listed({})).toEqual({ nodes: [], next: false, previous: false })
      expect(yield* repos.appSessions.count({})).toBe(0)
      const { aliceSessions, alice, others } = yield* interleaved
      const all = (yield* listed({})).nodes
      expect(all).toEqual([...aliceSessions, ...others].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1)))
      expect(yield* repos.appSessions.count({})).toBe(9)
      expect((yield* listed({ user: alice.id })).nodes).toEqual(aliceSessions)
      for (const s of all) {
        const read =
          s._tag === "Compat"
            ? Option.map(yield* repos.compatSessions.lookup(s.session.id), compat)
            : Option.map(yield* repos.oauth2Sessions.lookup(s.session.id), oauth2)
        expect(read).toEqual(Option.some(s))
      }
    }))

  test("forward pages cross from one kind to the other with one cursor order; the cursor may be a session of either kind", () =>
    Effect.gen(function* () {
      const { alice, aliceSessions } = yield* interleaved
      const [c1, o1, c2, o2, o3, c3] = aliceSessions.map(idOf) as [Ulid, Ulid, Ulid, Ulid, Ulid, Ulid]
      const mine = { user: alice.id }
      const page1 = yield* listed(mine, first(2))
      expect(page1).toEqual({ nodes: aliceSessions.slice(0, 2), next: true, previous: false })
      // after an OAuth2 cursor: a compat session, then an OAuth2 one
      const page2 = yield* listed(mine, first(2).pipe(Pagination.after(o1)))
      expect(page2).toEqual({ nodes: aliceSessions.slice(2, 4), next: true, previous: false })
      const page3 = yield* listed(mine, first(2).pipe(Pagination.after(o2)))
      expect(page3).toEqual({ nodes: aliceSessions.slice(4, 6), next: false, previous: false })
      // after a compat cursor
      expect(yield* listed(mine, first(3).pipe(Pagination.after(c2)))).toEqual({
        nodes: aliceSessions.slice(3, 6),
        next: false,
        previous: false
      })
      expect(yield* listed(mine, first(2).pipe(Pagination.after(c3)))).toEqual({
        nodes: [],
        next: false,
        previous: false
      })
      // both cursors
      expect(
        (yield* listed(mine, first(10).pipe(Pagination.after(c1), Pagination.before(c3)))).nodes.map(idOf)
      ).toEqual([o1, c2, o2, o3])
      expect(yield* listed(mine, first(0))).toEqual({ nodes: [], next: true, previous: false })
    }))

  test("backward pages cross the boundary the same way, in ascending order within the page", () =>
    Effect.gen(function* () {
      const { alice, aliceSessions } = yield* interleaved
      const [c1, o1, c2, , o3] = aliceSessions.map(idOf) as [Ulid, Ulid, Ulid, Ulid, Ulid, Ulid]
      const mine = { user: alice.id }
      expect(yield* listed(mine, last(2))).toEqual({ nodes: aliceSessions.slice(4, 6), next: false, previous: true })
      // before an OAuth2 cursor: a compat session, then an OAuth2 one
      expect(yield* listed(mine, last(2).pipe(Pagination.before(o3)))).toEqual({
        nodes: aliceSessions.slice(2, 4),
        next: false,
        previous: true
      })
      // before a compat cursor: the rest, no previous page
      expect(yield* listed(mine, last(2).pipe(Pagination.before(c2)))).toEqual({
        nodes: aliceSessions.slice(0, 2),
        next: false,
        previous: false
      })
      expect(yield* listed(mine, last(3).pipe(Pagination.before(o1)))).toEqual({
        nodes: aliceSessions.slice(0, 1),
        next: false,
        previous: false
      })
      expect(yield* listed(mine, last(1).pipe(Pagination.before(c1)))).toEqual({
        nodes: [],
        next: false,
        previous: false
      })
    }))

  test("user, browserSession and state select sessions of both kinds alike; with no user criterion OAuth2 sessions without a user are listed too", () =>
    Effect.gen(function* () {
      const { appSessions, compatSessions, oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const browserSession = yield* addBrowserSession(alice)
      const client = yield* seedClient
      const fromBrowser = yield* seedCompatSession(alice, { browserSession })
      yield* TestClock.adjust(Duration.millis(1))
      const oauth2FromBrowser = yield* seedOAuth2Session(client, { browserSession })
      yield* TestClock.adjust(Duration.millis(1))
      const plainCompat = yield* seedCompatSession(alice)
      yield* TestClock.adjust(Duration.millis(1))
      const plainOAuth2 = yield* seedOAuth2Session(client, { user: alice })
      yield* TestClock.adjust(Duration.millis(1))
      const noUser = yield* seedOAuth2Session(client)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* compatSessions.finish(plainCompat)
      yield* oauth2Sessions.finish(oauth2FromBrowser)

      const ids = (...sessions: ReadonlyArray<{ readonly id: Ulid }>) => sessions.map((s) => s.id)
      expect(yield* selected({})).toEqual(ids(fromBrowser, oauth2FromBrowser, plainCompat, plainOAuth2, noUser))
      expect(yield* selected({ user: alice.id })).toEqual(ids(fromBrowser, oauth2FromBrowser, plainCompat, plainOAuth2))
      expect(yield* selected({ browserSession: browserSession.id })).toEqual(ids(fromBrowser, oauth2FromBrowser))
      expect(yield* selected({ state: "active" })).toEqual(ids(fromBrowser, plainOAuth2, noUser))
      expect(yield* selected({ state: "finished" })).toEqual(ids(oauth2FromBrowser, plainCompat))
      expect(yield* selected({ user: alice.id, state: "finished", browserSession: browserSession.id })).toEqual(
        ids(oauth2FromBrowser)
      )
      const finished = (yield* listed({ state: "finished" })).nodes
      expect(finished.map((s) => s.session.state)).toEqual([
        { _tag: "Finished", finishedAt: new Date(EPOCH + 5004) },
        { _tag: "Finished", finishedAt: new Date(EPOCH + 5004) }
      ])
      expect(yield* appSessions.count({ user: (yield* addUser("nobody")).id })).toBe(0)
    }))

  test("device: the stored device id for compat sessions, either scope token for OAuth2 sessions; a device that cannot be encoded matches compat sessions only", () =>
    Effect.gen(function* () {
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const dev = (id: string) => Option.some(new Device({ id }))
      const compatD = yield* seedCompatSession(alice, { device: dev("DDD") })
      const compatOther = yield* seedCompatSession(alice, { device: dev("EEE") })
      const compatNone = yield* seedCompatSession(alice, { device: Option.none() })
      const stableD = yield* seedOAuth2Session(client, { user: alice, scope: scope("openid", stable("DDD")) })
      const unstableD = yield* seedOAuth2Session(client, { user: alice, scope: scope(unstable("DDD")) })
      const oauth2Other = yield* seedOAuth2Session(client, { user: alice, scope: scope(stable("EEE")) })
      // the device id as a bare scope token is no device token
      yield* seedOAuth2Session(client, { user: alice, scope: scope("DDD") })
      const spaced = yield* seedCompatSession(alice, { device: dev("has space") })
      const sorted = (...sessions: ReadonlyArray<{ readonly id: Ulid }>) => sessions.map((s) => s.id).sort()

      expect((yield* selected({ device: new Device({ id: "DDD" }) })).sort()).toEqual(
        sorted(compatD, stableD, unstableD)
      )
      expect((yield* selected({ device: new Device({ id: "EEE" }) })).sort()).toEqual(sorted(compatOther, oauth2Other))
      expect(yield* selected({ device: new Device({ id: "has space" }) })).toEqual([spaced.id])
      expect(yield* selected({ device: new Device({ id: "ddd" }) })).toEqual([])
      expect(compatNone.device).toEqual(Option.none())
    }))

  test("lastActiveBefore/After are strict on both kinds and never match a session never active; createdBefore/After compare ids with the instant's ULID bounds", () =>
    Effect.gen(function* () {
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const active = (seconds: number) => ({ last_active_at: at(seconds), last_active_ip: "192.0.2.1" })
      const tick = TestClock.adjust(Duration.millis(1))
      const c10 = yield* seedCompatSessionRow(alice.id, active(10))
      yield* tick
      const o20 = yield* seedOAuth2SessionRow(client.id, { user_id: alice.id, ...active(20) })
      yield* tick
      const c30 = yield* seedCompatSessionRow(alice.id, active(30))
      yield* tick
      const oNever = yield* seedOAuth2SessionRow(client.id, { user_id: alice.id })
      yield* tick
      const cNever = yield* seedCompatSessionRow(alice.id)
      expect(yield* selected({ lastActiveBefore: at(20) })).toEqual([c10])
      expect(yield* selected({ lastActiveBefore: at(21) })).toEqual([c10, o20])
      expect(yield* selected({ lastActiveAfter: at(10) })).toEqual([o20, c30])
      expect(yield* selected({ lastActiveAfter: at(10), lastActiveBefore: at(30) })).toEqual([o20])
      expect(yield* selected({})).toEqual([c10, o20, c30, oNever, cNever])

      // created one second apart, alternating kinds: the bounds are strict at the millisecond
      yield* TestClock.setTime(at(100).getTime())
      const c100 = yield* seedCompatSessionRow(alice.id)
      yield* TestClock.setTime(at(101).getTime())
      const o101 = yield* seedOAuth2SessionRow(client.id, { user_id: alice.id })
      yield* TestClock.setTime(at(102).getTime())
      const c102 = yield* seedCompatSessionRow(alice.id)
      const late = { createdAfter: new Date(EPOCH + 99_999) }
      expect(yield* selected(late)).toEqual([c100, o101, c102])
      expect(yield* selected({ createdAfter: at(100) })).toEqual([o101, c102])
      expect(yield* selected({ ...late, createdBefore: at(102) })).toEqual([c100, o101])
      expect(yield* selected({ createdAfter: at(100), createdBefore: at(102) })).toEqual([o101])
      expect(yield* selected({ createdAfter: at(101), createdBefore: at(102) })).toEqual([])
    }))

  test("refused filters and cursors: malformed ids, a device id with an unpaired surrogate or a malformed cursor are InvalidOperationErrors; NUL in the device id a DriverError (22021)", () =>
    Effect.gen(function* () {
      const { appSessions } = yield* RepositoryAccess
      const { alice } = yield* interleaved
      const bad = malformedIdsLike(alice.id)
      const surrogate = new Device({ id: "dev\uD800" })
      yield* expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
        // a lower-case cursor is the same ULID, as in PostgreSQL; as a filter id it is refused
        ...bad.flatMap((id) => [
          [`list user ${JSON.stringify(id)}`, Effect.asVoid(appSessions.list({ user: id }, first(10)))] as const,
          [
            `count browserSession ${JSON.stringify(id)}`,
            Effect.asVoid(appSessions.count({ browserSession: id }))
          ] as const,
          ...(id === alice.id.toLowerCase()
            ? []
            : [
                [
                  `cursor ${JSON.stringify(id)}`,
                  Effect.asVoid(appSessions.list({}, first(10).pipe(Pagination.after(id))))
                ] as const
              ])
        ]),
        ["list surrogate device", Effect.asVoid(appSessions.list({ device: surrogate }, first(10))), "surrogate"],
        ["count surrogate device", Effect.asVoid(appSessions.count({ device: surrogate })), "surrogate"]
      ])
      for (const attempt of [
        Effect.asVoid(appSessions.list({ device: new Device({ id: "a\u0000b" }) }, first(10))),
        Effect.asVoid(appSessions.count({ device: new Device({ id: "\u0000" }) }))
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
    }))

  test("each kind's rows decode with their own schema: an impossible row is an InconsistencyError naming its table, column and row, and only a page holding it fails", () =>
    Effect.gen(function* () {
      const { appSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const good = yield* seedCompatSessionRow(alice.id)
      yield* TestClock.adjust(Duration.seconds(1))
      const badCompat = yield* seedCompatSessionRow(alice.id, { last_active_ip: "10.0.0.0/8" })
      yield* TestClock.adjust(Duration.seconds(1))
      const badOAuth2 = yield* seedOAuth2SessionRow(client.id, { scope_list: ["openid", "bad token"] })
      expect((yield* listed({}, first(1))).nodes.map(idOf)).toEqual([good])
      expect(yield* appSessions.count({})).toBe(3)
      expect(yield* Effect.flip(appSessions.list({}, first(2)))).toMatchObject({
        _tag: "InconsistencyError",
        table: "compat_sessions",
        column: Option.some("last_active_ip"),
        row: Option.some(badCompat)
      })
      expect(yield* Effect.flip(appSessions.list({}, last(1)))).toMatchObject({
        _tag: "InconsistencyError",
        table: "oauth2_sessions",
        column: Option.some("scope_list"),
        row: Option.some(badOAuth2)
      })
    }))

  test("finishSessionsToReplaceDevice finishes the user's unfinished compat sessions on the device and OAuth2 sessions holding either device token, at now; nothing else", () =>
    Effect.gen(function* () {
      const { appSessions, compatSessions, oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const client = yield* seedClient
      const dev = (id: string) => ({ device: Option.some(new Device({ id })) })
      const d = new Device({ id: "DDD" })
      const compatD1 = yield* seedCompatSession(alice, dev("DDD"))
      const compatD2 = yield* seedCompatSession(alice, dev("DDD"))
      const compatE = yield* seedCompatSession(alice, dev("EEE"))
      const bobCompatD = yield* seedCompatSession(bob, dev("DDD"))
      const stableD = yield* seedOAuth2Session(client, { user: alice, scope: scope("openid", stable("DDD")) })
      const unstableD = yield* seedOAuth2Session(client, { user: alice, scope: scope(unstable("DDD")) })
      const oauth2E = yield* seedOAuth2Session(client, { user: alice, scope: scope(stable("EEE")) })
      const bobOAuth2D = yield* seedOAuth2Session(client, { user: bob, scope: scope(stable("DDD")) })
      const finishedD = yield* compatSessions.finish(yield* seedCompatSession(alice, dev("DDD")))
      const finishedOAuth2D = yield* oauth2Sessions.finish(
        yield* seedOAuth2Session(client, { user: alice, scope: scope(stable("DDD")) })
      )
      yield* TestClock.setTime(at(60).getTime())

      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, d)).toBe(true)
      const stateOf = (s: { readonly id: Ulid }) =>
        Effect.gen(function* () {
          const found = yield* compatSessions.lookup(s.id)
          const session = Option.isSome(found) ? found.value : Option.getOrThrow(yield* oauth2Sessions.lookup(s.id))
          return session.state
        })
      for (const s of [compatD1, compatD2, stableD, unstableD]) {
        expect(yield* stateOf(s)).toEqual({ _tag: "Finished", finishedAt: at(60) })
      }
      for (const s of [compatE, bobCompatD, oauth2E, bobOAuth2D]) expect((yield* stateOf(s))._tag).toBe("Valid")
      // already finished sessions keep their instant
      expect(yield* stateOf(finishedD)).toEqual(finishedD.state)
      expect(yield* stateOf(finishedOAuth2D)).toEqual(finishedOAuth2D.state)

      // nothing left on that device
      yield* TestClock.adjust(Duration.seconds(1))
      const before = yield* dumpSessions
      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, d)).toBe(false)
      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "unknown" }))).toBe(false)
      expect(yield* dumpSessions).toEqual(before)
    }))

  test("finishSessionsToReplaceDevice is true when only one kind had a session to finish; a device that cannot be encoded finishes compat sessions only", () =>
    Effect.gen(function* () {
      const { appSessions, compatSessions, oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const onlyOAuth2 = yield* seedOAuth2Session(client, { user: alice, scope: scope(unstable("OOO")) })
      const onlyCompat = yield* seedCompatSession(alice, { device: Option.some(new Device({ id: "CCC" })) })
      const spaced = yield* seedCompatSession(alice, { device: Option.some(new Device({ id: "has space" })) })
      yield* TestClock.setTime(at(5).getTime())
      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "OOO" }))).toBe(true)
      expect(Option.map(yield* oauth2Sessions.lookup(onlyOAuth2.id), (s) => s.state._tag)).toEqual(
        Option.some("Finished")
      )
      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "CCC" }))).toBe(true)
      expect(Option.map(yield* compatSessions.lookup(onlyCompat.id), (s) => s.state._tag)).toEqual(
        Option.some("Finished")
      )
      expect(yield* appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "has space" }))).toBe(true)
      expect(Option.map(yield* compatSessions.lookup(spaced.id), (s) => s.state._tag)).toEqual(Option.some("Finished"))
      expect(yield* appSessions.count({ state: "active" })).toBe(0)
    }))

  test("finishSessionsToReplaceDevice refuses a malformed user id or a device id with an unpaired surrogate (InvalidOperationError), NUL (DriverError 22021); nothing is written", () =>
    Effect.gen(function* () {
      const { appSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      yield* seedCompatSession(alice, { device: Option.some(new Device({ id: "DDD" })) })
      yield* seedOAuth2Session(client, { user: alice, scope: scope(stable("DDD")) })
      const d = new Device({ id: "DDD" })
      yield* TestClock.adjust(Duration.seconds(1))
      yield* expectEachToFailWithoutWriting(dumpSessions, "InvalidOperationError", [
        ...malformedIdsLike(alice.id).map(
          (id) =>
            [
              `user ${JSON.stringify(id)}`,
              appSessions.finishSessionsToReplaceDevice({ ...alice, id } as User, d)
            ] as const
        ),
        ["surrogate", appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "DDD\uDC00" })), "surrogate"]
      ])
      const before = yield* dumpSessions
      const error = yield* Effect.flip(appSessions.finishSessionsToReplaceDevice(alice, new Device({ id: "D\u0000" })))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      expect(yield* dumpSessions).toEqual(before)
    }))
})
