// Contract suite for OAuth2DeviceCodeGrantRepository: add, the three lookups, the state machine, planted rows and cleanup, on both backends.
import { expect } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import type { Client } from "../../../src/model/oauth2/client.js"
import {
  type DeviceCodeGrant,
  DeviceCodeGrantExchanged,
  DeviceCodeGrantFulfilled,
  DeviceCodeGrantRejected
} from "../../../src/model/oauth2/deviceCodeGrant.js"
import type { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { BrowserSession } from "../../../src/model/user.js"
import { generateUlid, maxUlidAt, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import type { IpAddress, Scope } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { GRANT_CODE_MAX_BYTES } from "../../../src/storage/oauth2/OAuth2AuthorizationGrantRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addUser,
  newDeviceCodeGrant as request,
  rolledBack,
  seedClient,
  seedDeviceCodeGrantRow,
  seedOAuth2Session
} from "./fixtures.js"

const TABLE = "oauth2_device_code_grant"
const ID = "oauth2_device_code_grant_id"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const ip = (text: string) => text as IpAddress

/** Far beyond every row a test creates: cleanup up to here sees every grant. */
const END = maxUlidAt(new Date(EPOCH + 365 * 24 * 3600 * 1000))

const repos = Effect.map(RepositoryAccess, (r) => r.oauth2DeviceCodeGrants)

const lookupOrThrow = (id: Ulid) => Effect.flatMap(repos, (grants) => Effect.map(grants.lookup(id), Option.getOrThrow))

const dump = Effect.flatMap(Seed, (seed) => seed.dump(TABLE, ID))

/** A user, one of its browser sessions, a client and an OAuth2 session of both: what the transitions need. */
const world = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const browserSession = yield* addBrowserSession(alice)
  const client = yield* seedClient
  const session = yield* seedOAuth2Session(client, { browserSession })
  return { alice, browserSession, client, session }
})

/** Runs every attempt (each expected to fail with `tag`) and checks the stored grants did not change. */
const refusedWithoutWriting = (
  tag: DatabaseError["_tag"],
  attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, DatabaseError>, string?]>
) => expectEachToFailWithoutWriting(dump, tag, attempts)

contract("OAuth2DeviceCodeGrantRepository", (test) => {
  test("add creates a pending grant expiring at createdAt + expiresIn; the three lookups find it", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const grant = yield* grants.add(
        request(client, 1, {
          expiresIn: Duration.seconds(900),
          ipAddress: Option.some(ip("2001:db8::1")),
          userAgent: Option.some("TV — ünïcødé")
        })
      )
      expect(grant.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(grant.id)).toBe(EPOCH)
      expect(grant.expiresAt).toEqual(at(900))
      expect(grant.state).toEqual(new Pending())
      expect(grant.clientId).toBe(client.id)
      expect(grant.scope).toEqual(["openid", "urn:matrix:client:api:*"])
      expect([grant.deviceCode, grant.userCode]).toEqual(["device-1", "USER-1"])
      expect(grant.ipAddress).toEqual(Option.some("2001:db8::1"))
      expect(grant.userAgent).toEqual(Option.some("TV — ünïcødé"))
      expect(grant.locale).toEqual(Option.none())
      expect(yield* grants.lookup(grant.id)).toEqual(Option.some(grant))
      expect(yield* grants.findByDeviceCode("device-1")).toEqual(Option.some(grant))
      expect(yield* grants.findByUserCode("USER-1")).toEqual(Option.some(grant))
      // exact matches on the right column
      expect(yield* grants.findByUserCode("user-1")).toEqual(Option.none())
      expect(yield* grants.findByUserCode("device-1")).toEqual(Option.none())
      expect(yield* grants.findByDeviceCode("USER-1")).toEqual(Option.none())

      const bare = yield* grants.add(request(client, 2, { expiresIn: Duration.zero }))
      expect(bare.expiresAt).toEqual(bare.createdAt)
      expect([bare.ipAddress, bare.userAgent]).toEqual([Option.none(), Option.none()])
      expect(yield* grants.lookup(bare.id)).toEqual(Option.some(bare))
    }))

  test("a taken device code or user code is a RowsAffectedError that leaves the unit of work usable; it commits", () =>
    Effect.gen(function* () {
      const { oauth2DeviceCodeGrants: grants, transaction } = yield* RepositoryAccess
      const client = yield* seedClient
      const [first, other] = yield* transaction(
        Effect.gen(function* () {
          const first = yield* grants.add(request(client, 1))
          for (const taken of [
            request(client, 2, { deviceCode: "device-1" }),
            request(client, 3, { userCode: "USER-1" }),
            request(client, 1)
          ]) {
            expect(yield* Effect.flip(grants.add(taken))).toMatchObject(noRowAffected)
          }
          // a device code may equal another grant's user code: the columns are unique each on its own
          const other = yield* grants.add(request(client, 4, { deviceCode: "USER-1", userCode: "device-1" }))
          return [first, other]
        })
      )
      expect((yield* dump).length).toBe(2)
      expect(yield* grants.findByUserCode("USER-1")).toEqual(Option.some(first))
      expect(yield* grants.findByDeviceCode("USER-1")).toEqual(Option.some(other))
    }))

  test("bad arguments to add are an InvalidOperationError and nothing is written", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      yield* grants.add(request(client, "é".repeat(GRANT_CODE_MAX_BYTES / 2 - 4)))
      const long = "x".repeat(GRANT_CODE_MAX_BYTES + 1)
      yield* refusedWithoutWriting("InvalidOperationError", [
        ...malformedIdsLike(client.id).map(
          (id) => [`client id ${id}`, grants.add(request({ ...client, id } as Client, `id-${id}`))] as const
        ),
        ["device code too long", grants.add(request(client, 2, { deviceCode: long })), "device code is"],
        ["user code too long", grants.add(request(client, 3, { userCode: long })), "user code is"],
        ["lone surrogate in device code", grants.add(request(client, 4, { deviceCode: "\uD800" })), "deviceCode"],
        ["lone surrogate in user code", grants.add(request(client, 5, { userCode: "\uDC00x" })), "userCode"],
        ["lone surrogate in user agent", grants.add(request(client, 6, { userAgent: Option.some("\uD800") }))],
        ["bad scope token", grants.add(request(client, 7, { scope: ["a b"] as unknown as Scope })), "scope token"],
        ["a network", grants.add(request(client, 8, { ipAddress: Option.some(ip("10.0.0.0/8")) })), "ipAddress"],
        ["not canonical", grants.add(request(client, 9, { ipAddress: Option.some(ip("2001:DB8:0::1")) }))],
        ["not an address", grants.add(request(client, 10, { ipAddress: Option.some(ip("localhost")) }))],
        ["infinite expiry", grants.add(request(client, 11, { expiresIn: Duration.infinity })), "valid expiry"],
        [
          "expiry beyond Date's range",
          grants.add(request(client, 12, { expiresIn: Duration.millis(8.64e15) })),
          "valid expiry"
        ]
      ])
    }))

  test("NUL in text is a DriverError (22021) and nothing is written; a client that is not stored is one too (23503)", () =>
    Effect.gen(function* () {
      const { oauth2DeviceCodeGrants: grants, transaction } = yield* RepositoryAccess
      const client = yield* seedClient
      for (const [name, params] of [
        ["device code", request(client, 1, { deviceCode: "a\u0000" })],
        ["user code", request(client, 2, { userCode: "\u0000" })],
        ["user agent", request(client, 3, { userAgent: Option.some("UA\u0000") })]
      ] as const) {
        const error = yield* Effect.flip(grants.add(params))
        expect([name, error]).toMatchObject([name, { _tag: "DriverError", sqlState: Option.some("22021") }])
      }
      const ghost = yield* rolledBack(seedClient)
      expect(yield* Effect.flip(grants.add(request(ghost, 4)))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      // a driver error dooms the unit of work that caught it
      const doomed = yield* transaction(
        Effect.gen(function* () {
          yield* grants.add(request(client, 5))
          yield* Effect.ignore(grants.add(request(client, 6, { userCode: "\u0000" })))
        })
      ).pipe(Effect.flip)
      expect(doomed).toMatchObject({ _tag: "DriverError", sqlState: Option.some("25P02") })
      expect(yield* dump).toEqual([])
    }))

  test("lookups: unknown is none; malformed ids and unpaired surrogates are refused; NUL is a DriverError", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const grant = yield* grants.add(request(client))
      expect(yield* grants.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* grants.findByDeviceCode("nope")).toEqual(Option.none())
      expect(yield* grants.findByUserCode("nope")).toEqual(Option.none())
      yield* expectEachToFail("InvalidOperationError", [
        ...malformedIdsLike(grant.id).map((id) => [`lookup ${id}`, grants.lookup(id)] as const),
        ["device code surrogate", grants.findByDeviceCode("\uD800")],
        ["user code surrogate", grants.findByUserCode("\uDC00")]
      ])
      yield* expectEachToFail("DriverError", [
        ["device code NUL", grants.findByDeviceCode("device-1\u0000"), "22021"],
        ["user code NUL", grants.findByUserCode("\u0000"), "22021"]
      ])
    }))

  test("fulfill stores the browser session, now and the locale; exchange keeps them and records the session", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client, session } = yield* world
      const grant = yield* grants.add(request(client))
      yield* TestClock.adjust(Duration.seconds(5))
      const fulfilled = yield* grants.fulfill(grant, browserSession, Option.some("fr-FR"))
      expect(fulfilled.state).toEqual(
        new DeviceCodeGrantFulfilled({ browserSessionId: browserSession.id, fulfilledAt: at(5) })
      )
      expect(fulfilled.locale).toEqual(Option.some("fr-FR"))
      expect(yield* lookupOrThrow(grant.id)).toEqual(fulfilled)
      yield* TestClock.adjust(Duration.seconds(5))
      const exchanged = yield* grants.exchange(fulfilled, session)
      expect(exchanged.state).toEqual(
        new DeviceCodeGrantExchanged({
          browserSessionId: browserSession.id,
          fulfilledAt: at(5),
          exchangedAt: at(10),
          sessionId: session.id
        })
      )
      expect(exchanged.locale).toEqual(Option.some("fr-FR"))
      expect(yield* lookupOrThrow(grant.id)).toEqual(exchanged)
      expect(yield* grants.findByDeviceCode("device-1")).toEqual(Option.some(exchanged))

      // no locale: stored as none
      const other = yield* grants.fulfill(yield* grants.add(request(client, 2)), browserSession, Option.none())
      expect(other.locale).toEqual(Option.none())
      expect(yield* lookupOrThrow(other.id)).toEqual(other)
    }))

  test("reject moves a pending grant to Rejected by the browser session, now", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const grant = yield* grants.add(request(client))
      yield* TestClock.adjust(Duration.seconds(7))
      const rejected = yield* grants.reject(grant, browserSession)
      expect(rejected.state).toEqual(
        new DeviceCodeGrantRejected({ browserSessionId: browserSession.id, rejectedAt: at(7) })
      )
      expect(rejected.locale).toEqual(Option.none())
      expect(yield* lookupOrThrow(grant.id)).toEqual(rejected)
      expect(yield* grants.findByUserCode("USER-1")).toEqual(Option.some(rejected))
    }))

  test("transitions the state machine does not allow are an InvalidOperationError and write nothing", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client, session } = yield* world
      const pending = yield* grants.add(request(client, 1))
      const fulfilled = yield* grants.fulfill(yield* grants.add(request(client, 2)), browserSession, Option.none())
      const rejected = yield* grants.reject(yield* grants.add(request(client, 3)), browserSession)
      const exchanged = yield* grants.exchange(
        yield* grants.fulfill(yield* grants.add(request(client, 4)), browserSession, Option.some("en")),
        session
      )
      yield* refusedWithoutWriting("InvalidOperationError", [
        ["exchange pending", grants.exchange(pending, session), 'Invalid transition "exchange"'],
        ["exchange rejected", grants.exchange(rejected, session)],
        ["exchange exchanged", grants.exchange(exchanged, session)],
        ...[fulfilled, rejected, exchanged].flatMap((grant) => [
          [`fulfill ${grant.state._tag}`, grants.fulfill(grant, browserSession, Option.some("de"))] as const,
          [`reject ${grant.state._tag}`, grants.reject(grant, browserSession)] as const
        ])
      ])
    }))

  test("a stale entity whose row has moved on is a RowsAffectedError and the stored grant stays as it is", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { alice, browserSession, client, session } = yield* world
      const other = yield* addBrowserSession(alice)
      const later = yield* seedOAuth2Session(client, { browserSession })
      const pending = yield* grants.add(request(client, 1))
      const fulfilled = yield* grants.fulfill(pending, browserSession, Option.some("en"))
      yield* TestClock.adjust(Duration.seconds(1))
      const exchanged = yield* grants.exchange(fulfilled, session)
      const rejectedPending = yield* grants.add(request(client, 2))
      const rejected = yield* grants.reject(rejectedPending, browserSession)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* refusedWithoutWriting("RowsAffectedError", [
        ["fulfill a stale pending entity", grants.fulfill(pending, other, Option.some("de"))],
        ["reject a stale pending entity", grants.reject(pending, other)],
        ["exchange a stale fulfilled entity", grants.exchange(fulfilled, later)],
        ["fulfill a rejected grant read as pending", grants.fulfill(rejectedPending, other, Option.none())],
        ["reject a rejected grant read as pending", grants.reject(rejectedPending, other)]
      ])
      expect(yield* lookupOrThrow(pending.id)).toEqual(exchanged)
      expect(yield* lookupOrThrow(rejected.id)).toEqual(rejected)
      const ghost = yield* rolledBack(Effect.flatMap(repos, (g) => g.add(request(client, "ghost"))))
      expect(yield* Effect.flip(grants.reject(ghost, browserSession))).toMatchObject(noRowAffected)
    }))

  test("a browser session or session that is not stored, or NUL in the locale, is a DriverError; nothing is written", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { alice, browserSession, client } = yield* world
      const goneBrowserSession = yield* rolledBack<BrowserSession>(addBrowserSession(alice))
      const goneSession = yield* rolledBack<OAuth2Session>(seedOAuth2Session(client, { browserSession }))
      const pending = yield* grants.add(request(client, 1))
      const fulfilled = yield* grants.fulfill(yield* grants.add(request(client, 2)), browserSession, Option.none())
      const stale = yield* grants.add(request(client, 3))
      yield* grants.reject(stale, browserSession)
      yield* refusedWithoutWriting("DriverError", [
        ["fulfill with a gone browser session", grants.fulfill(pending, goneBrowserSession, Option.none()), "23503"],
        ["reject with a gone browser session", grants.reject(pending, goneBrowserSession), "23503"],
        ["exchange for a gone session", grants.exchange(fulfilled, goneSession), "23503"],
        ["NUL in the locale", grants.fulfill(pending, browserSession, Option.some("fr\u0000")), "22021"],
        // the parameter is refused before the guard is evaluated
        ["NUL in the locale of a stale entity", grants.fulfill(stale, browserSession, Option.some("\u0000")), "22021"]
      ])
      yield* expectEachToFail("InvalidOperationError", [
        ["lone surrogate in the locale", grants.fulfill(pending, browserSession, Option.some("\uD800"))]
      ])
    }))

  test("malformed ids of the grant or of what it is fulfilled, rejected or exchanged with are an InvalidOperationError", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client, session } = yield* world
      const pending = yield* grants.add(request(client, 1))
      const fulfilled = yield* grants.fulfill(yield* grants.add(request(client, 2)), browserSession, Option.none())
      const withId = <A extends object>(entity: A, id: Ulid): A =>
        Object.assign(Object.create(Object.getPrototypeOf(entity) as object) as object, entity, { id }) as A
      yield* refusedWithoutWriting("InvalidOperationError", [
        ...malformedIdsLike(pending.id).flatMap((id) => [
          [`fulfill ${id}`, grants.fulfill(withId(pending, id), browserSession, Option.none())] as const,
          [`reject ${id}`, grants.reject(withId(pending, id), browserSession)] as const,
          [`exchange ${id}`, grants.exchange(withId(fulfilled, id), session)] as const
        ]),
        ...malformedIdsLike(browserSession.id).flatMap((id) => [
          [`fulfill by ${id}`, grants.fulfill(pending, withId(browserSession, id), Option.none())] as const,
          [`reject by ${id}`, grants.reject(pending, withId(browserSession, id))] as const
        ]),
        ...malformedIdsLike(session.id).map(
          (id) => [`exchange for ${id}`, grants.exchange(fulfilled, withId(session, id))] as const
        )
      ])
    }))

  test("impossible stored rows are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client, session } = yield* world
      const bs = browserSession.id
      const s = session.id
      const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        ["state", { user_session_id: bs }],
        ["state", { oauth2_session_id: s }],
        ["state", { fulfilled_at: at(1) }],
        ["state", { rejected_at: at(1) }],
        ["state", { exchanged_at: at(1), user_session_id: bs, oauth2_session_id: s }],
        ["state", { fulfilled_at: at(1), rejected_at: at(2), user_session_id: bs }],
        ["state", { fulfilled_at: at(1), user_session_id: bs, oauth2_session_id: s }],
        ["state", { fulfilled_at: at(1), exchanged_at: at(2), user_session_id: bs }],
        ["state", { fulfilled_at: at(1), exchanged_at: at(2), oauth2_session_id: s }],
        ["state", { rejected_at: at(1), exchanged_at: at(2), user_session_id: bs, oauth2_session_id: s }],
        ["state", { rejected_at: at(1), user_session_id: bs, oauth2_session_id: s }],
        ["ip_address", { ip_address: "10.0.0.0/8" }],
        ["scope_list", { scope_list: ["openid", "bad token"] }]
      ]
      for (const [column, columns] of cases) {
        const id = yield* seedDeviceCodeGrantRow(client.id, columns)
        const error = yield* Effect.flip(grants.lookup(id))
        expect([column, columns, error]).toMatchObject([
          column,
          columns,
          { _tag: "InconsistencyError", table: TABLE, column: Option.some(column), row: Option.some(id) }
        ])
        expect(error.message).toBe(`Database inconsistency on table ${TABLE} column ${column} row ${id}`)
        const expected = { _tag: "InconsistencyError", column: Option.some(column), row: Option.some(id) }
        expect(yield* Effect.flip(grants.findByDeviceCode(`device-${id}`))).toMatchObject(expected)
        expect(yield* Effect.flip(grants.findByUserCode(`user-${id}`))).toMatchObject(expected)
      }
      // the four states a planted row may hold read as such
      const states = [
        yield* seedDeviceCodeGrantRow(client.id),
        yield* seedDeviceCodeGrantRow(client.id, { fulfilled_at: at(1), user_session_id: bs }),
        yield* seedDeviceCodeGrantRow(client.id, { rejected_at: at(1), user_session_id: bs }),
        yield* seedDeviceCodeGrantRow(client.id, {
          fulfilled_at: at(1),
          exchanged_at: at(2),
          user_session_id: bs,
          oauth2_session_id: s
        })
      ]
      const tags: Array<string> = []
      for (const id of states) tags.push((yield* lookupOrThrow(id)).state._tag)
      expect(tags).toEqual(["Pending", "Fulfilled", "Rejected", "Exchanged"])
    }))

  test("cleanup deletes grants of every state in id order, in batches resumed from the returned key", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client, session } = yield* world
      const made: Array<DeviceCodeGrant> = []
      for (let i = 0; i < 5; i++) {
        made.push(yield* grants.add(request(client, i)))
        yield* TestClock.adjust(Duration.seconds(1))
      }
      yield* grants.exchange(yield* grants.fulfill(made[1]!, browserSession, Option.none()), session)
      yield* grants.fulfill(made[2]!, browserSession, Option.some("en"))
      yield* grants.reject(made[3]!, browserSession)
      const until = made[4]!.id
      yield* TestClock.adjust(Duration.seconds(1))
      const newer = yield* grants.add(request(client, "newer"))

      const seen: Array<readonly [number, Option.Option<Ulid>]> = []
      let since = Option.none<Ulid>()
      for (;;) {
        const result = yield* grants.cleanup(since, until, 2)
        seen.push(result)
        if (Option.isNone(result[1])) break
        since = result[1]
      }
      expect(seen).toEqual([
        [2, Option.some(made[1]!.id)],
        [2, Option.some(made[3]!.id)],
        [1, Option.some(made[4]!.id)],
        [0, Option.none()]
      ])
      expect((yield* dump).map((r) => r[ID])).toEqual([newer.id])
      // a deleted grant is gone from the lookups too
      expect(yield* grants.findByUserCode("USER-1")).toEqual(Option.none())
    }))

  test("cleanup bounds: since exclusive, until inclusive, limit 0 deletes nothing; bad limits and ids are refused", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const made: Array<DeviceCodeGrant> = []
      for (let i = 0; i < 4; i++) {
        made.push(yield* grants.add(request(client, i)))
        yield* TestClock.adjust(Duration.seconds(1))
      }
      const [a, , c, d] = made.map((g) => g.id) as [Ulid, Ulid, Ulid, Ulid]
      expect(yield* grants.cleanup(Option.some(a), c, 0)).toEqual([0, Option.none()])
      yield* refusedWithoutWriting("InvalidOperationError", [
        ["negative limit", grants.cleanup(Option.none(), END, -1)],
        ["fractional limit", grants.cleanup(Option.none(), END, 0.5)],
        ["infinite limit", grants.cleanup(Option.none(), END, Number.POSITIVE_INFINITY)],
        ...malformedIdsLike(a).map((id) => [`since ${id}`, grants.cleanup(Option.some(id), END, 10)] as const),
        ...malformedIdsLike(a).map((id) => [`until ${id}`, grants.cleanup(Option.none(), id, 10)] as const)
      ])
      expect(yield* grants.cleanup(Option.some(a), c, 10)).toEqual([2, Option.some(c)])
      expect((yield* dump).map((r) => r[ID])).toEqual([a, d])
      expect(yield* grants.cleanup(Option.none(), END, 10)).toEqual([2, Option.some(d)])
      expect(yield* dump).toEqual([])
    }))
})
