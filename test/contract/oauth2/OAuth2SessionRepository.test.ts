// Contract suite for OAuth2SessionRepository: every method, filter criterion, pagination edge, batch and cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Finished, Valid } from "../../../src/model/common.js"
import { InvalidTransition } from "../../../src/model/errors.js"
import type { Row } from "../../../src/memory/Database.js"
import { Client } from "../../../src/model/oauth2/client.js"
import type { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { BrowserSession, User } from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { type ActivityRecord, Device, GRANT_TYPES, type IpAddress, type Scope } from "../../../src/model/values.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { OAuth2SessionFilter } from "../../../src/storage/oauth2/OAuth2SessionRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedOAuth2ClientRow, seedUpstreamProvider } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addUser,
  exchangedGrantColumns,
  newClient,
  rolledBack,
  scope,
  seedAccessToken,
  seedAuthorizationGrantRow,
  seedClient,
  seedDeviceCodeGrantRow,
  seedOAuth2Session,
  seedOAuth2SessionRow,
  seedRefreshTokenRow
} from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const ip = (text: string) => text as IpAddress

const STABLE = "urn:matrix:client:device:"
const UNSTABLE = "urn:matrix:org.matrix.msc2967.client:device:"

/** A static client (is_static set, every grant type), seeded as a row: the fixtures' clients are dynamic. */
const seedStaticClient = Effect.map(
  seedOAuth2ClientRow({ grant_type_client_credentials: true, grant_type_device_code: true, is_static: true }),
  (id) => new Client({ id, ...newClient({ grantTypes: GRANT_TYPES }), isStatic: true })
)

/** An oauth2_sessions row (for states and stored values the repository cannot produce directly), 10 ms before the next. */
const seedSessionRow = (clientId: Ulid, columns: Row = {}) =>
  Effect.tap(seedOAuth2SessionRow(clientId, columns), () => TestClock.adjust(Duration.millis(10)))

const lookupOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { oauth2Sessions } = yield* RepositoryAccess
    return Option.getOrThrow(yield* oauth2Sessions.lookup(id))
  })

/** Sessions one second apart (ids in creation order), each known by a label. */
const makeLabels = () => {
  const names = new Map<Ulid, string>()
  const add = (
    label: string,
    client: Client,
    options: { readonly browserSession?: BrowserSession; readonly user?: User; readonly scope?: Scope } = {}
  ) =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const session = yield* oauth2Sessions.add(
        client,
        Option.fromNullable(options.user ?? options.browserSession?.user),
        Option.fromNullable(options.browserSession),
        options.scope ?? scope("openid")
      )
      names.set(session.id, label)
      yield* TestClock.adjust(Duration.seconds(1))
      return session
    })
  /** The labels `list` returns in order; `count` must agree whenever the page holds every match (storage rule: Filters). */
  const of = (filter: OAuth2SessionFilter, pagination = first(100)) =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const page = yield* oauth2Sessions.list(filter, pagination)
      const labels = page.edges.map((e) => names.get(e.node.id) ?? "?")
      const whole =
        !page.hasNextPage &&
        !page.hasPreviousPage &&
        Option.isNone(pagination.after) &&
        Option.isNone(pagination.before)
      if (whole) expect(yield* oauth2Sessions.count(filter)).toBe(labels.length)
      return labels
    })
  return { add, of }
}

contract("OAuth2SessionRepository", (test) => {
  test("add creates a valid session with id and createdAt from Clock and Random; lookup reads it back", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const browser = yield* addBrowserSession(alice)
      const client = yield* seedClient
      const session = yield* oauth2Sessions.add(
        client,
        Option.some(alice),
        Option.some(browser),
        scope("openid", "urn:matrix:client:api:*", "email", "openid")
      )
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.createdAt).toEqual(new Date(EPOCH))
      expect(session.state).toEqual(new Valid())
      expect(session.userId).toEqual(Option.some(alice.id))
      expect(session.userSessionId).toEqual(Option.some(browser.id))
      expect(session.clientId).toBe(client.id)
      expect(session.scope).toEqual(["email", "openid", "urn:matrix:client:api:*"])
      for (const field of [session.userAgent, session.lastActiveAt, session.lastActiveIp, session.humanName])
        expect(field).toEqual(Option.none())
      expect(yield* oauth2Sessions.lookup(session.id)).toEqual(Option.some(session))

      const empty = yield* oauth2Sessions.add(client, Option.none(), Option.none(), scope())
      expect(empty.scope).toEqual([])
      expect(yield* oauth2Sessions.lookup(empty.id)).toEqual(Option.some(empty))
    }))

  test("addFromBrowserSession takes the browser session's user; addFromClientCredentials has neither", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const bob = yield* addUser("bob")
      const browser = yield* addBrowserSession(bob)
      const client = yield* seedClient
      const fromBrowser = yield* oauth2Sessions.addFromBrowserSession(client, browser, scope("openid"))
      expect([fromBrowser.userId, fromBrowser.userSessionId]).toEqual([Option.some(bob.id), Option.some(browser.id)])
      expect(yield* oauth2Sessions.lookup(fromBrowser.id)).toEqual(Option.some(fromBrowser))
      yield* TestClock.adjust(Duration.seconds(1))
      const credentials = yield* oauth2Sessions.addFromClientCredentials(client, scope("urn:synapse:admin:*"))
      expect([credentials.userId, credentials.userSessionId]).toEqual([Option.none(), Option.none()])
      expect(credentials.scope).toEqual(["urn:synapse:admin:*"])
      expect(credentials.createdAt).toEqual(at(1))
      expect(yield* oauth2Sessions.lookup(credentials.id)).toEqual(Option.some(credentials))
    }))

  test("lookup of an unknown id is none; a malformed id is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const session = yield* seedOAuth2Session(client)
      expect(yield* oauth2Sessions.lookup(yield* generateUlid)).toEqual(Option.none())
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(session.id).map((id) => [`lookup ${id}`, oauth2Sessions.lookup(id)] as const)
      )
    }))

  test("add with a client, user or browser session that is not stored is a DriverError (foreign key); nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const browser = yield* addBrowserSession(alice)
      const ghostClient = new Client({ ...client, id: yield* generateUlid })
      const [ghostUser, ghostBrowser] = yield* rolledBack(
        Effect.gen(function* () {
          const u = yield* repos.users.add("ghost")
          const b = yield* repos.browserSessions.add(u, Option.none())
          return [u, b] as const
        })
      )
      for (const attempt of [
        repos.oauth2Sessions.add(ghostClient, Option.some(alice), Option.some(browser), scope("openid")),
        repos.oauth2Sessions.add(client, Option.some(ghostUser), Option.none(), scope("openid")),
        repos.oauth2Sessions.add(client, Option.some(alice), Option.some(ghostBrowser), scope("openid"))
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      }
      expect(yield* repos.oauth2Sessions.count({})).toBe(0)
    }))

  test("add with a scope holding a token that is not a scope token is an InvalidOperationError; the unit of work goes on", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const client = yield* seedClient
      const bad = ["openid", "with space"] as unknown as Scope
      const nul = ["openid\u0000"] as unknown as Scope
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* expectEachToFail("InvalidOperationError", [
            ["space", repos.oauth2Sessions.add(client, Option.none(), Option.none(), bad)],
            ["NUL", repos.oauth2Sessions.addFromClientCredentials(client, nul)]
          ])
          yield* repos.oauth2Sessions.addFromClientCredentials(client, scope("openid"))
        })
      )
      expect(yield* repos.oauth2Sessions.count({})).toBe(1)
    }))

  test("a failed unit of work leaves no session behind", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const client = yield* seedClient
      const result = yield* repos
        .transaction(
          Effect.zipRight(
            repos.oauth2Sessions.addFromClientCredentials(client, scope()),
            Effect.fail("cancel" as const)
          )
        )
        .pipe(Effect.flip)
      expect(result).toBe("cancel")
      expect(yield* repos.oauth2Sessions.count({})).toBe(0)
    }))

  test("finish moves Valid to Finished at now; a finished session is refused (InvalidTransition) and nothing is written", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const session = yield* oauth2Sessions.addFromClientCredentials(client, scope("openid"))
      yield* TestClock.adjust(Duration.seconds(5))
      const finished = yield* oauth2Sessions.finish(session)
      expect(finished.state).toEqual(new Finished({ finishedAt: at(5) }))
      expect(finished.isFinished).toBe(true)
      expect(yield* lookupOrThrow(session.id)).toEqual(finished)

      yield* TestClock.adjust(Duration.seconds(5))
      const refused = yield* Effect.flip(oauth2Sessions.finish(finished))
      expect(refused._tag).toBe("InvalidOperationError")
      expect(Option.getOrUndefined((refused as { cause: Option.Option<unknown> }).cause)).toBeInstanceOf(
        InvalidTransition
      )
      expect(Option.getOrUndefined((refused as { cause: Option.Option<unknown> }).cause)).toMatchObject({
        entity: "OAuth2Session",
        from: "Finished"
      })
      expect((yield* lookupOrThrow(session.id)).state).toEqual(new Finished({ finishedAt: at(5) }))
    }))

  test("finish of a stale entity whose row was finished meanwhile, or of a row that is not stored, is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const client = yield* seedClient
      const session = yield* repos.oauth2Sessions.addFromClientCredentials(client, scope("openid"))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* repos.oauth2Sessions.finish(session)
      yield* TestClock.adjust(Duration.seconds(1))
      // `session` still says Valid: the guard in the statement refuses it, and the first finish stays.
      expect(yield* Effect.flip(repos.oauth2Sessions.finish(session))).toMatchObject(noRowAffected)
      expect((yield* lookupOrThrow(session.id)).state).toEqual(new Finished({ finishedAt: at(1) }))

      const ghost = yield* rolledBack(repos.oauth2Sessions.addFromClientCredentials(client, scope()))
      expect(yield* Effect.flip(repos.oauth2Sessions.finish(ghost))).toMatchObject(noRowAffected)
      expect(yield* repos.oauth2Sessions.lookup(ghost.id)).toEqual(Option.none())
    }))

  test("recordUserAgent and setHumanName overwrite the field, whatever the state; setHumanName(none) clears it", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const session = yield* oauth2Sessions.addFromClientCredentials(client, scope("openid"))
      const withAgent = yield* oauth2Sessions.recordUserAgent(session, "Element/1.0 — ünïcødé")
      expect(withAgent.userAgent).toEqual(Option.some("Element/1.0 — ünïcødé"))
      expect(yield* lookupOrThrow(session.id)).toEqual(withAgent)
      const again = yield* oauth2Sessions.recordUserAgent(withAgent, "Element/2.0")
      expect(yield* lookupOrThrow(session.id)).toEqual(again)
      expect(again.userAgent).toEqual(Option.some("Element/2.0"))

      const named = yield* oauth2Sessions.setHumanName(again, Option.some("Alice's phone"))
      expect(named.humanName).toEqual(Option.some("Alice's phone"))
      expect(yield* lookupOrThrow(session.id)).toEqual(named)
      const finished = yield* oauth2Sessions.finish(named)
      const renamed = yield* oauth2Sessions.setHumanName(finished, Option.some("old phone"))
      expect(yield* lookupOrThrow(session.id)).toEqual(renamed)
      expect(renamed.isFinished).toBe(true)
      const cleared = yield* oauth2Sessions.setHumanName(renamed, Option.none())
      expect(cleared.humanName).toEqual(Option.none())
      expect(yield* lookupOrThrow(session.id)).toEqual(cleared)
      const agentOnFinished = yield* oauth2Sessions.recordUserAgent(cleared, "curl/8")
      expect(yield* lookupOrThrow(session.id)).toEqual(agentOnFinished)
    }))

  test("recordUserAgent / setHumanName: NUL is a DriverError (22021), an unpaired surrogate an InvalidOperationError, a missing row a RowsAffectedError; nothing is written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const client = yield* seedClient
      const session = yield* repos.oauth2Sessions.recordUserAgent(
        yield* repos.oauth2Sessions.addFromClientCredentials(client, scope("openid")),
        "agent"
      )
      for (const attempt of [
        repos.oauth2Sessions.recordUserAgent(session, "bad\u0000agent"),
        repos.oauth2Sessions.setHumanName(session, Option.some("bad\u0000name"))
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      // NUL dooms a unit of work, as in PostgreSQL.
      expect(
        yield* Effect.flip(
          repos.transaction(
            Effect.zipRight(
              Effect.ignore(repos.oauth2Sessions.recordUserAgent(session, "\u0000")),
              repos.oauth2Sessions.setHumanName(session, Option.some("fine"))
            )
          )
        )
      ).toMatchObject({ _tag: "DriverError" })
      yield* expectEachToFail("InvalidOperationError", [
        ["agent surrogate", repos.oauth2Sessions.recordUserAgent(session, "bad\uD800")],
        ["name surrogate", repos.oauth2Sessions.setHumanName(session, Option.some("\uDC00bad"))]
      ])
      expect(yield* lookupOrThrow(session.id)).toEqual(session)

      const ghost = yield* rolledBack(repos.oauth2Sessions.addFromClientCredentials(client, scope()))
      yield* expectEachToFail("RowsAffectedError", [
        ["recordUserAgent", repos.oauth2Sessions.recordUserAgent(ghost, "x")],
        ["setHumanName", repos.oauth2Sessions.setHumanName(ghost, Option.none())]
      ])
    }))

  test("list pages forward and backward in id order, at the edges", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const labels = makeLabels()
      const empty = yield* oauth2Sessions.list({}, first(3))
      expect([empty.edges.length, empty.hasNextPage, empty.hasPreviousPage]).toEqual([0, false, false])
      const emptyBack = yield* oauth2Sessions.list({}, last(3))
      expect([emptyBack.edges.length, emptyBack.hasNextPage, emptyBack.hasPreviousPage]).toEqual([0, false, false])

      const all: Array<OAuth2Session> = []
      for (const name of ["s1", "s2", "s3", "s4", "s5"]) all.push(yield* labels.add(name, client))

      const p1 = yield* oauth2Sessions.list({}, first(2))
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect(p1.edges[0]!.node).toEqual(all[0])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      const p2 = yield* oauth2Sessions.list({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect(p2.edges.map((e) => e.node.id)).toEqual([all[2]!.id, all[3]!.id])
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      expect(yield* labels.of({}, first(2).pipe(Pagination.after(all[3]!.id)))).toEqual(["s5"])

      const exact = yield* oauth2Sessions.list({}, first(5))
      expect([exact.edges.length, exact.hasNextPage]).toEqual([5, false])
      const oneShort = yield* oauth2Sessions.list({}, first(4))
      expect([oneShort.edges.length, oneShort.hasNextPage]).toEqual([4, true])
      const zero = yield* oauth2Sessions.list({}, first(0))
      expect([zero.edges.length, zero.hasNextPage]).toEqual([0, true])

      const back = yield* oauth2Sessions.list({}, last(2))
      expect(back.edges.map((e) => e.node.id)).toEqual([all[3]!.id, all[4]!.id])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      expect(yield* labels.of({}, last(2).pipe(Pagination.before(all[3]!.id)))).toEqual(["s2", "s3"])
      const backExact = yield* oauth2Sessions.list({}, last(5))
      expect([backExact.edges.length, backExact.hasPreviousPage]).toEqual([5, false])
      const backAtStart = yield* oauth2Sessions.list({}, last(2).pipe(Pagination.before(all[0]!.id)))
      expect([backAtStart.edges.length, backAtStart.hasPreviousPage]).toEqual([0, false])
      const afterLast = yield* oauth2Sessions.list({}, first(2).pipe(Pagination.after(all[4]!.id)))
      expect([afterLast.edges.length, afterLast.hasNextPage]).toEqual([0, false])
      expect(yield* labels.of({}, first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id)))).toEqual(
        ["s2", "s3", "s4"]
      )
      const filtered = yield* oauth2Sessions.list({ client: client.id }, last(1).pipe(Pagination.before(all[2]!.id)))
      expect([filtered.edges.map((e) => e.node.id), filtered.hasPreviousPage]).toEqual([[all[1]!.id], true])
      yield* expectEachToFail("InvalidOperationError", [
        ["bad after", oauth2Sessions.list({}, first(2).pipe(Pagination.after("nope" as Ulid)))],
        ["bad before", oauth2Sessions.list({}, last(2).pipe(Pagination.before(`${all[0]!.id}0` as Ulid)))]
      ])
    }))

  test("user, anyUser, browserSession, client and clients criteria, alone and combined", () =>
    Effect.gen(function* () {
      const { browserSessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const aliceWeb = yield* addBrowserSession(alice)
      const aliceOther = yield* addBrowserSession(alice)
      const bobWeb = yield* addBrowserSession(bob)
      const c1 = yield* seedClient
      const c2 = yield* seedClient
      const c3 = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("a1", c1, { browserSession: aliceWeb })
      yield* labels.add("a2", c2, { browserSession: aliceOther })
      yield* labels.add("a3", c1, { user: alice })
      yield* labels.add("b1", c2, { browserSession: bobWeb })
      yield* labels.add("cc1", c1)
      yield* labels.add("cc3", c3)

      expect(yield* labels.of({})).toEqual(["a1", "a2", "a3", "b1", "cc1", "cc3"])
      expect(yield* labels.of(OAuth2SessionFilter.forUser(alice.id))).toEqual(["a1", "a2", "a3"])
      expect(yield* labels.of({ user: bob.id })).toEqual(["b1"])
      expect(yield* labels.of({ user: yield* generateUlid })).toEqual([])
      expect(yield* labels.of(OAuth2SessionFilter.forAnyUser)).toEqual(["a1", "a2", "a3", "b1"])
      expect(yield* labels.of(OAuth2SessionFilter.forNoUser)).toEqual(["cc1", "cc3"])
      expect(yield* labels.of(OAuth2SessionFilter.forBrowserSession(aliceWeb.id))).toEqual(["a1"])
      expect(yield* labels.of({ browserSession: bobWeb.id })).toEqual(["b1"])
      expect(yield* labels.of(OAuth2SessionFilter.forClient(c1.id))).toEqual(["a1", "a3", "cc1"])
      expect(yield* labels.of(OAuth2SessionFilter.forClients([c2.id, c3.id]))).toEqual(["a2", "b1", "cc3"])
      expect(yield* labels.of({ clients: [c3.id] })).toEqual(["cc3"])
      expect(yield* labels.of({ clients: [] })).toEqual([])
      // combined: every set criterion must hold
      expect(yield* labels.of({ user: alice.id, client: c1.id })).toEqual(["a1", "a3"])
      expect(yield* labels.of({ client: c1.id, anyUser: false })).toEqual(["cc1"])
      expect(yield* labels.of({ client: c1.id, clients: [c2.id] })).toEqual([])
      expect(yield* labels.of({ clients: [c1.id, c2.id], anyUser: true, user: alice.id })).toEqual(["a1", "a2", "a3"])
      expect(yield* labels.of({ browserSession: aliceWeb.id, user: bob.id })).toEqual([])
      expect(yield* labels.of({ anyUser: false, user: alice.id })).toEqual([])
      yield* browserSessions.finish(aliceWeb)
      expect(yield* labels.of({ browserSession: aliceWeb.id, client: c1.id, anyUser: true })).toEqual(["a1"])
    }))

  test("browserSessionFilter: the session's browser session is among those the nested filter selects", () =>
    Effect.gen(function* () {
      const { browserSessions } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const aliceWeb = yield* addBrowserSession(alice)
      yield* TestClock.adjust(Duration.seconds(10))
      const aliceLater = yield* addBrowserSession(alice)
      const bobWeb = yield* addBrowserSession(bob)
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("a-web", client, { browserSession: aliceWeb })
      yield* labels.add("a-later", client, { browserSession: aliceLater })
      yield* labels.add("a-none", client, { user: alice })
      yield* labels.add("b-web", client, { browserSession: bobWeb })
      yield* labels.add("cc", client)
      yield* browserSessions.finish(aliceLater)
      // aliceWeb consumed an upstream authorization session of this provider
      const provider = yield* seedUpstreamProvider()
      const upstreamId = yield* generateUlid
      const linkId = yield* generateUlid
      yield* seed.insert("upstream_oauth_links", {
        upstream_oauth_link_id: linkId,
        upstream_oauth_provider_id: provider,
        user_id: null,
        subject: "subject",
        human_account_name: null,
        created_at: new Date(EPOCH)
      })
      yield* seed.insert("upstream_oauth_authorization_sessions", {
        upstream_oauth_authorization_session_id: upstreamId,
        upstream_oauth_provider_id: provider,
        upstream_oauth_link_id: linkId,
        user_session_id: aliceWeb.id,
        state: "state",
        code_challenge_verifier: null,
        nonce: null,
        id_token: null,
        id_token_claims: { sub: "upstream-sub" },
        extra_callback_parameters: null,
        userinfo: null,
        created_at: new Date(EPOCH),
        completed_at: new Date(EPOCH),
        consumed_at: new Date(EPOCH),
        unlinked_at: null
      })

      // an empty nested filter selects every browser session: the sessions that have one
      expect(yield* labels.of(OAuth2SessionFilter.forBrowserSessions({}))).toEqual(["a-web", "a-later", "b-web"])
      expect(yield* labels.of({ browserSessionFilter: { user: alice.id } })).toEqual(["a-web", "a-later"])
      expect(yield* labels.of({ browserSessionFilter: { state: "active" } })).toEqual(["a-web", "b-web"])
      expect(yield* labels.of({ browserSessionFilter: { state: "finished" } })).toEqual(["a-later"])
      expect(yield* labels.of({ browserSessionFilter: { createdAfter: aliceWeb.createdAt } })).toEqual([
        "a-later",
        "b-web"
      ])
      expect(yield* labels.of({ browserSessionFilter: { linkedToUpstreamSessions: { provider } } })).toEqual(["a-web"])
      expect(
        yield* labels.of({ browserSessionFilter: { linkedToUpstreamSessions: { subClaim: "upstream-sub" } } })
      ).toEqual(["a-web"])
      expect(yield* labels.of({ browserSessionFilter: { user: alice.id, state: "active" } })).toEqual(["a-web"])
      // with the outer criteria too
      expect(yield* labels.of({ browserSessionFilter: { user: alice.id }, browserSession: aliceLater.id })).toEqual([
        "a-later"
      ])
      expect(yield* labels.of({ browserSessionFilter: { user: bob.id }, user: alice.id })).toEqual([])
      expect(yield* labels.of({ browserSessionFilter: { user: alice.id }, state: "active" })).toEqual([
        "a-web",
        "a-later"
      ])
    }))

  test("clientKind tests the client's isStatic", () =>
    Effect.gen(function* () {
      const alice = yield* addUser("alice")
      const dynamic = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("d1", dynamic, { user: alice })
      expect(yield* labels.of(OAuth2SessionFilter.onlyDynamicClients)).toEqual(["d1"])
      // no static client at all: NOT IN an empty set holds
      expect(yield* labels.of(OAuth2SessionFilter.onlyStaticClients)).toEqual([])
      const fixed = yield* seedStaticClient
      yield* labels.add("s1", fixed)
      yield* labels.add("d2", dynamic)
      yield* labels.add("s2", fixed, { user: alice })
      expect(yield* labels.of({ clientKind: "static" })).toEqual(["s1", "s2"])
      expect(yield* labels.of({ clientKind: "dynamic" })).toEqual(["d1", "d2"])
      expect(yield* labels.of({ clientKind: "static", anyUser: true })).toEqual(["s2"])
      expect(yield* labels.of({ clientKind: "dynamic", client: fixed.id })).toEqual([])
      expect(yield* labels.of({ clientKind: "static", clients: [dynamic.id, fixed.id], user: alice.id })).toEqual([
        "s2"
      ])
    }))

  test("scope criterion: the session's scope holds every given token", () =>
    Effect.gen(function* () {
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("openid", client, { scope: scope("openid") })
      yield* labels.add("openid+api", client, { scope: scope("openid", "urn:matrix:client:api:*") })
      yield* labels.add("api+admin", client, { scope: scope("urn:matrix:client:api:*", "urn:synapse:admin:*") })
      yield* labels.add("none", client, { scope: scope() })
      // array-literal punctuation inside tokens is data, not syntax
      const odd = yield* labels.add("odd", client, { scope: scope("a,b", "{c}", "'d'", "NULL") })
      expect((yield* lookupOrThrow(odd.id)).scope).toEqual(["'d'", "NULL", "a,b", "{c}"])
      expect(yield* labels.of({ scope: scope("a,b", "{c}") })).toEqual(["odd"])
      expect(yield* labels.of({ scope: scope("a") })).toEqual([])
      expect(yield* labels.of({ scope: scope("NULL") })).toEqual(["odd"])

      expect(yield* labels.of(OAuth2SessionFilter.withScope(scope("openid")))).toEqual(["openid", "openid+api"])
      expect(yield* labels.of({ scope: scope("urn:matrix:client:api:*") })).toEqual(["openid+api", "api+admin"])
      expect(yield* labels.of({ scope: scope("openid", "urn:matrix:client:api:*") })).toEqual(["openid+api"])
      expect(yield* labels.of({ scope: scope("openid", "urn:synapse:admin:*") })).toEqual([])
      expect(yield* labels.of({ scope: scope("email") })).toEqual([])
      // containment, not equality or prefix
      expect(yield* labels.of({ scope: scope("urn:matrix:client:api") })).toEqual([])
      expect(yield* labels.of({ scope: scope() })).toEqual(["openid", "openid+api", "api+admin", "none", "odd"])
    }))

  test("device criterion: the scope holds either device token; a device that cannot be encoded matches nothing", () =>
    Effect.gen(function* () {
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("stable", client, { scope: scope("openid", `${STABLE}ABCDEF`) })
      yield* labels.add("unstable", client, { scope: scope(`${UNSTABLE}ABCDEF`) })
      yield* labels.add("both", client, { scope: scope(`${STABLE}ABCDEF`, `${UNSTABLE}ABCDEF`) })
      yield* labels.add("other", client, { scope: scope(`${STABLE}GHIJKL`, `${UNSTABLE}ABCDEFG`) })
      yield* labels.add("plain", client, { scope: scope("openid", "ABCDEF") })

      expect(yield* labels.of(OAuth2SessionFilter.forDevice(new Device({ id: "ABCDEF" })))).toEqual([
        "stable",
        "unstable",
        "both"
      ])
      expect(yield* labels.of({ device: new Device({ id: "GHIJKL" }) })).toEqual(["other"])
      expect(yield* labels.of({ device: new Device({ id: "ABCDE" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "not encodable" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "nul\u0000" }) })).toEqual([])
      expect(yield* labels.of({ device: new Device({ id: "ABCDEF" }), scope: scope("openid") })).toEqual(["stable"])
      expect(yield* labels.of({ device: new Device({ id: "not encodable" }), state: "active" })).toEqual([])
    }))

  test("state criterion: active is unfinished, finished is finished", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const client = yield* seedClient
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", client, { user: alice })
      yield* labels.add("s2", client, { user: alice })
      const s3 = yield* labels.add("s3", client)
      yield* oauth2Sessions.finish(s1)
      yield* oauth2Sessions.finish(s3)
      expect(yield* labels.of(OAuth2SessionFilter.activeOnly)).toEqual(["s2"])
      expect(yield* labels.of(OAuth2SessionFilter.finishedOnly)).toEqual(["s1", "s3"])
      expect(yield* labels.of({ state: "finished", anyUser: true })).toEqual(["s1"])
      expect(yield* labels.of({ state: "active", user: alice.id, client: client.id })).toEqual(["s2"])
      expect(
        yield* oauth2Sessions.count({ ...OAuth2SessionFilter.forUser(alice.id), ...OAuth2SessionFilter.activeOnly })
      ).toBe(1)
    }))

  test("lastActiveBefore / lastActiveAfter are strict and never match a session without activity", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", client)
      const s2 = yield* labels.add("s2", client)
      yield* labels.add("never", client)
      const s4 = yield* labels.add("s4", client)
      yield* oauth2Sessions.recordBatchActivity([
        [s1.id, at(100), Option.none()],
        [s2.id, at(200), Option.none()],
        [s4.id, at(300), Option.none()]
      ])
      expect(yield* labels.of({ lastActiveBefore: at(200) })).toEqual(["s1"])
      expect(yield* labels.of({ lastActiveBefore: at(201) })).toEqual(["s1", "s2"])
      expect(yield* labels.of({ lastActiveAfter: at(200) })).toEqual(["s4"])
      expect(yield* labels.of({ lastActiveAfter: at(199) })).toEqual(["s2", "s4"])
      expect(yield* labels.of({ lastActiveAfter: at(100), lastActiveBefore: at(300) })).toEqual(["s2"])
      expect(yield* labels.of({ lastActiveBefore: at(1000) })).toEqual(["s1", "s2", "s4"])
      expect(yield* labels.of({ lastActiveAfter: at(-1000) })).toEqual(["s1", "s2", "s4"])
      yield* oauth2Sessions.finish(s2)
      expect(yield* labels.of({ lastActiveBefore: at(1000), state: "active" })).toEqual(["s1", "s4"])
    }))

  test("createdBefore / createdAfter compare the id with the instant's ULID bounds (strict at the millisecond)", () =>
    Effect.gen(function* () {
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("s1", client)
      const s2 = yield* labels.add("s2", client)
      yield* labels.add("s3", client, { scope: scope("email") })
      const t2 = s2.createdAt
      expect(yield* labels.of({ createdBefore: t2 })).toEqual(["s1"])
      expect(yield* labels.of({ createdAfter: t2 })).toEqual(["s3"])
      expect(yield* labels.of({ createdAfter: at(0), createdBefore: at(2) })).toEqual(["s2"])
      expect(yield* labels.of({ createdAfter: at(0), createdBefore: at(1) })).toEqual([])
      expect(
        yield* labels.of({ createdAfter: new Date(EPOCH - 1), createdBefore: new Date(t2.getTime() + 1) })
      ).toEqual(["s1", "s2"])
      expect(yield* labels.of({ createdAfter: at(0), scope: scope("email"), client: client.id })).toEqual(["s3"])
    }))

  test("finishBulk stamps every matching session with now and counts them; without state it re-stamps finished ones", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const client = yield* seedClient
      const labels = makeLabels()
      const a1 = yield* labels.add("a1", client, { user: alice })
      const a2 = yield* labels.add("a2", client, { user: alice })
      yield* labels.add("a3", client, { user: alice })
      const b1 = yield* labels.add("b1", client, { user: bob })
      yield* labels.add("b2", client, { user: bob })
      yield* oauth2Sessions.finish(a1) // at(5)
      yield* TestClock.adjust(Duration.seconds(10)) // now at(15)

      expect(yield* oauth2Sessions.finishBulk({ user: alice.id, state: "active" })).toBe(2)
      expect((yield* lookupOrThrow(a1.id)).state).toEqual(new Finished({ finishedAt: at(5) }))
      expect((yield* lookupOrThrow(a2.id)).state).toEqual(new Finished({ finishedAt: at(15) }))
      expect(yield* labels.of({ state: "active" })).toEqual(["b1", "b2"])
      expect(yield* oauth2Sessions.finishBulk({ user: alice.id, state: "active" })).toBe(0)

      yield* TestClock.adjust(Duration.seconds(10)) // now at(25)
      expect(yield* oauth2Sessions.finishBulk({ user: alice.id })).toBe(3)
      expect((yield* lookupOrThrow(a1.id)).state).toEqual(new Finished({ finishedAt: at(25) }))
      expect(yield* oauth2Sessions.finishBulk({ createdBefore: b1.createdAt, user: bob.id })).toBe(0)
      expect(yield* oauth2Sessions.finishBulk({ clients: [] })).toBe(0)
      expect(yield* oauth2Sessions.finishBulk({})).toBe(5)
      expect(yield* oauth2Sessions.count({ state: "finished" })).toBe(5)
    }))

  test("finishBulk with nested, scope, device, kind and activity criteria selects the same rows as list", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const dynamic = yield* seedClient
      const fixed = yield* seedStaticClient
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", dynamic, { browserSession: web, scope: scope("openid", `${STABLE}DEV1`) })
      const s2 = yield* labels.add("s2", fixed, { browserSession: web, scope: scope("openid", `${UNSTABLE}DEV1`) })
      yield* labels.add("s3", fixed, { scope: scope("openid", `${STABLE}DEV1`) })
      const s4 = yield* labels.add("s4", dynamic, { browserSession: web, scope: scope("openid", `${STABLE}DEV2`) })
      yield* oauth2Sessions.recordBatchActivity([
        [s1.id, at(50), Option.none()],
        [s2.id, at(60), Option.none()],
        [s4.id, at(70), Option.none()]
      ])
      const filters: ReadonlyArray<readonly [OAuth2SessionFilter, ReadonlyArray<string>]> = [
        [{ browserSessionFilter: { user: alice.id }, device: new Device({ id: "DEV1" }) }, ["s1", "s2"]],
        [{ clientKind: "static", scope: scope(`${STABLE}DEV1`) }, ["s3"]],
        [{ lastActiveAfter: at(55), clientKind: "dynamic" }, ["s4"]]
      ]
      for (const [filter, expected] of filters) {
        expect(yield* labels.of({ ...filter, state: "active" })).toEqual(expected)
        expect(yield* oauth2Sessions.finishBulk({ ...filter, state: "active" })).toBe(expected.length)
      }
      expect(yield* labels.of({ state: "finished" })).toEqual(["s1", "s2", "s3", "s4"])
    }))

  test("a malformed id or scope token in the filter is an InvalidOperationError from list, count and finishBulk; nothing is stamped", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const client = yield* seedClient
      const labels = makeLabels()
      yield* labels.add("s1", client, { browserSession: web })
      yield* labels.add("s2", client)
      const bad = (id: Ulid) => malformedIdsLike(id)
      const filters: ReadonlyArray<OAuth2SessionFilter> = [
        ...bad(alice.id).map((user) => ({ user })),
        ...bad(web.id).map((browserSession) => ({ browserSession })),
        ...bad(client.id).map((c) => ({ client: c })),
        ...bad(client.id).map((c) => ({ clients: [client.id, c] })),
        ...bad(alice.id).map((user) => ({ browserSessionFilter: { user } })),
        ...bad(client.id).map((provider) => ({ browserSessionFilter: { linkedToUpstreamSessions: { provider } } })),
        { scope: ["openid", "two words"] as unknown as Scope },
        { scope: ["nul\u0000"] as unknown as Scope, user: alice.id }
      ]
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const filter of filters) {
            yield* expectEachToFail("InvalidOperationError", [
              [`list ${JSON.stringify(filter)}`, repos.oauth2Sessions.list(filter, first(10))],
              [`count ${JSON.stringify(filter)}`, repos.oauth2Sessions.count(filter)],
              [`finishBulk ${JSON.stringify(filter)}`, repos.oauth2Sessions.finishBulk(filter)]
            ])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* labels.add("s3", client)
        })
      )
      expect(yield* labels.of({ state: "active" })).toEqual(["s1", "s2", "s3"])
    }))

  test("recordBatchActivity keeps the later instant and replaces the IP only when one is given", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", client)
      const s2 = yield* labels.add("s2", client)
      const s3 = yield* labels.add("s3", client)
      const activityOf = (id: Ulid) => Effect.map(lookupOrThrow(id), (s) => [s.lastActiveAt, s.lastActiveIp] as const)
      // Entries in any order: the repository sorts them by id.
      yield* oauth2Sessions.recordBatchActivity([
        [s3.id, at(30), Option.none()],
        [s1.id, at(10), Option.some(ip("192.0.2.1"))],
        [s2.id, at(20), Option.some(ip("2001:db8::1"))]
      ])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      expect(yield* activityOf(s2.id)).toEqual([Option.some(at(20)), Option.some("2001:db8::1")])
      expect(yield* activityOf(s3.id)).toEqual([Option.some(at(30)), Option.none()])

      yield* oauth2Sessions.recordBatchActivity([
        [s1.id, at(5), Option.none()], // older: the instant stays, and so does the IP
        [s2.id, at(25), Option.some(ip("198.51.100.7"))]
      ])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      expect(yield* activityOf(s2.id)).toEqual([Option.some(at(25)), Option.some("198.51.100.7")])
      // an older instant with an IP: the IP is replaced, the instant stays
      yield* oauth2Sessions.recordBatchActivity([[s1.id, at(1), Option.some(ip("203.0.113.9"))]])
      expect(yield* activityOf(s1.id)).toEqual([Option.some(at(10)), Option.some("203.0.113.9")])
      // a finished session records activity too
      const finished = yield* oauth2Sessions.finish(yield* lookupOrThrow(s3.id))
      yield* oauth2Sessions.recordBatchActivity([[finished.id, at(40), Option.none()]])
      expect(yield* activityOf(s3.id)).toEqual([Option.some(at(40)), Option.none()])
      yield* oauth2Sessions.recordBatchActivity([])
    }))

  test("recordBatchActivity: an unknown or repeated id is a RowsAffectedError; a malformed entry an InvalidOperationError with nothing written", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const labels = makeLabels()
      const s1 = yield* labels.add("s1", client)
      const s2 = yield* labels.add("s2", client)
      const unknown: ReadonlyArray<ActivityRecord> = [
        [s1.id, at(10), Option.none()],
        [yield* generateUlid, at(10), Option.none()]
      ]
      expect(yield* Effect.flip(oauth2Sessions.recordBatchActivity(unknown))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
      const repeated: ReadonlyArray<ActivityRecord> = [
        [s2.id, at(20), Option.none()],
        [s2.id, at(20), Option.none()]
      ]
      expect(yield* Effect.flip(oauth2Sessions.recordBatchActivity(repeated))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })

      const s3 = yield* labels.add("s3", client)
      const good: ActivityRecord = [s3.id, at(99), Option.some(ip("192.0.2.9"))]
      yield* expectEachToFail("InvalidOperationError", [
        ...malformedIdsLike(s3.id).map(
          (id) =>
            [
              `id ${JSON.stringify(id)}`,
              oauth2Sessions.recordBatchActivity([good, [id, at(1), Option.none()]])
            ] as const
        ),
        [
          "network instead of an address",
          oauth2Sessions.recordBatchActivity([good, [s1.id, at(1), Option.some(ip("10.0.0.0/8"))]])
        ],
        [
          "address not in canonical form",
          oauth2Sessions.recordBatchActivity([good, [s1.id, at(1), Option.some(ip("2001:DB8::1"))]])
        ],
        ["invalid Date", oauth2Sessions.recordBatchActivity([good, [s1.id, new Date(Number.NaN), Option.none()]])]
      ])
      const untouched = yield* lookupOrThrow(s3.id)
      expect([untouched.lastActiveAt, untouched.lastActiveIp]).toEqual([Option.none(), Option.none()])
    }))

  test("cleanupFinished deletes finished sessions in batches by finishedAt, with their tokens and the grants exchanged into them", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const web = yield* addBrowserSession(alice)
      const client = yield* seedClient
      // finishedAt: two at 100 (a tie across a batch boundary), 110, 120, 130 (at the cut-off), and one active.
      const f100a = yield* seedSessionRow(client.id, { user_id: alice.id, finished_at: at(100) })
      const f100b = yield* seedSessionRow(client.id, { finished_at: at(100) })
      const f110 = yield* seedSessionRow(client.id, { finished_at: at(110) })
      const f120 = yield* seedSessionRow(client.id, { finished_at: at(120) })
      const f130 = yield* seedSessionRow(client.id, { finished_at: at(130) })
      const active = yield* seedSessionRow(client.id)
      // f100a has an access token, a refresh token pointing at it, a rotated pair, and both kinds of grant
      const doomed = yield* lookupOrThrow(f100a)
      const access = yield* seedAccessToken(doomed, "doomed-access")
      const nextRefresh = yield* seedRefreshTokenRow(f100a, null, "doomed-refresh-2")
      const refresh = yield* seedRefreshTokenRow(f100a, access.id, "doomed-refresh-1")
      yield* seedAccessToken(yield* lookupOrThrow(f110), "doomed-access-2")
      const authorizationGrant = yield* seedAuthorizationGrantRow(client.id, {
        response_type_code: true,
        authorization_code: "doomed-code",
        ...exchangedGrantColumns(web.id, f100a, new Date(EPOCH))
      })
      const deviceGrant = yield* seedDeviceCodeGrantRow(
        client.id,
        exchangedGrantColumns(web.id, f100a, new Date(EPOCH))
      )
      // the survivors' tokens stay
      const kept = yield* lookupOrThrow(active)
      const keptAccess = yield* seedAccessToken(kept, "kept-access")
      yield* seedRefreshTokenRow(active, keptAccess.id, "kept-refresh")
      yield* seedAccessToken(yield* lookupOrThrow(f130), "kept-access-2")
      expect(refresh).not.toBe(nextRefresh)

      const until = at(130)
      const batches: Array<readonly [number, Option.Option<Date>]> = []
      let since = Option.none<Date>()
      for (;;) {
        const [count, lastKey] = yield* oauth2Sessions.cleanupFinished(since, until, 2)
        batches.push([count, lastKey])
        if (count < 2) break
        since = lastKey
      }
      // since is inclusive: the second batch starts again at 100, where nothing is left.
      expect(batches).toEqual([
        [2, Option.some(at(100))],
        [2, Option.some(at(120))],
        [0, Option.none()]
      ])
      for (const id of [f100a, f100b, f110, f120]) expect(yield* oauth2Sessions.lookup(id)).toEqual(Option.none())
      for (const id of [f130, active]) expect(Option.isSome(yield* oauth2Sessions.lookup(id))).toBe(true)
      expect(yield* seed.count("oauth2_access_tokens")).toBe(2)
      expect(yield* seed.count("oauth2_refresh_tokens")).toBe(1)
      expect(yield* seed.count("oauth2_authorization_grants")).toBe(0)
      expect(yield* seed.count("oauth2_device_code_grant")).toBe(0)
      expect([authorizationGrant, deviceGrant].length).toBe(2)
      expect(yield* oauth2Sessions.cleanupFinished(Option.none(), until, 10)).toEqual([0, Option.none()])
      expect(yield* oauth2Sessions.count({})).toBe(2)
    }))

  test("cleanupFinished: since is inclusive, until exclusive, limit 0 deletes nothing, a bad limit is refused", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const a = yield* seedSessionRow(client.id, { finished_at: at(100) })
      const b = yield* seedSessionRow(client.id, { finished_at: at(100) })
      const c = yield* seedSessionRow(client.id, { finished_at: at(200) })
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(100)), at(200), 0)).toEqual([0, Option.none()])
      yield* expectEachToFail("InvalidOperationError", [
        ["negative", oauth2Sessions.cleanupFinished(Option.none(), at(200), -1)],
        ["fractional", oauth2Sessions.cleanupFinished(Option.none(), at(200), 1.5)],
        ["unsafe", oauth2Sessions.cleanupFinished(Option.none(), at(200), 2 ** 53)]
      ])
      expect(yield* oauth2Sessions.count({})).toBe(3)
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(101)), at(200), 10)).toEqual([0, Option.none()])
      // The first of the two rows sharing 100 goes (id order breaks the tie); the rerun from 100 takes the other.
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([1, Option.some(at(100))])
      expect(yield* oauth2Sessions.lookup(a)).toEqual(Option.none())
      expect(Option.isSome(yield* oauth2Sessions.lookup(b))).toBe(true)
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([1, Option.some(at(100))])
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([0, Option.none()])
      expect(yield* oauth2Sessions.cleanupFinished(Option.some(at(100)), new Date(at(200).getTime() + 1), 5)).toEqual([
        1,
        Option.some(at(200))
      ])
      expect(yield* oauth2Sessions.lookup(c)).toEqual(Option.none())
    }))

  test("cleanupInactiveIps clears the IP of sessions last active before the threshold, in batches by lastActiveAt", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const seedActive = (lastActiveAt: Date | null, lastActiveIp: string | null, finishedAt: Date | null = null) =>
        seedSessionRow(client.id, {
          last_active_at: lastActiveAt,
          last_active_ip: lastActiveIp,
          finished_at: finishedAt
        })
      const a = yield* seedActive(at(10), "192.0.2.1")
      const b = yield* seedActive(at(10), "192.0.2.2")
      const c = yield* seedActive(at(20), "2001:db8::2")
      const noIp = yield* seedActive(at(15), null)
      const recent = yield* seedActive(at(40), "192.0.2.4", at(41))
      const never = yield* seedActive(null, null)
      const atThreshold = yield* seedActive(at(30), "192.0.2.5")

      const threshold = at(30)
      const batch1 = yield* oauth2Sessions.cleanupInactiveIps(Option.none(), threshold, 2)
      expect(batch1).toEqual([2, Option.some(at(10))])
      expect(yield* oauth2Sessions.cleanupInactiveIps(batch1[1], threshold, 2)).toEqual([1, Option.some(at(20))])
      expect(yield* oauth2Sessions.cleanupInactiveIps(Option.none(), threshold, 2)).toEqual([0, Option.none()])

      for (const id of [a, b, c]) {
        const s = yield* lookupOrThrow(id)
        expect(s.lastActiveIp).toEqual(Option.none())
        expect(Option.isSome(s.lastActiveAt)).toBe(true)
      }
      expect((yield* lookupOrThrow(noIp)).lastActiveIp).toEqual(Option.none())
      expect((yield* lookupOrThrow(recent)).lastActiveIp).toEqual(Option.some("192.0.2.4"))
      expect((yield* lookupOrThrow(atThreshold)).lastActiveIp).toEqual(Option.some("192.0.2.5"))
      expect((yield* lookupOrThrow(never)).lastActiveAt).toEqual(Option.none())
      expect(yield* oauth2Sessions.cleanupInactiveIps(Option.some(at(30)), at(50), 10)).toEqual([
        2,
        Option.some(at(40))
      ])
      expect(yield* oauth2Sessions.cleanupInactiveIps(Option.some(at(30)), at(50), 0)).toEqual([0, Option.none()])
      expect(yield* Effect.flip(oauth2Sessions.cleanupInactiveIps(Option.none(), threshold, 1.5))).toMatchObject({
        _tag: "InvalidOperationError"
      })
    }))

  test("a stored scope token that is not a scope token, or a network instead of an address, is an InconsistencyError naming the column; count still counts", () =>
    Effect.gen(function* () {
      const { oauth2Sessions } = yield* RepositoryAccess
      const client = yield* seedClient
      const good = yield* seedSessionRow(client.id)
      const badScope = yield* seedSessionRow(client.id, { scope_list: ["openid", "two words"] })
      const badIp = yield* seedSessionRow(client.id, { last_active_at: at(5), last_active_ip: "10.0.0.0/8" })
      const expected = (row: Ulid, column: string) => ({
        _tag: "InconsistencyError",
        table: "oauth2_sessions",
        column: Option.some(column),
        row: Option.some(row)
      })
      expect(yield* Effect.flip(oauth2Sessions.lookup(badScope))).toMatchObject(expected(badScope, "scope_list"))
      const error = yield* Effect.flip(oauth2Sessions.lookup(badIp))
      expect(error).toMatchObject(expected(badIp, "last_active_ip"))
      expect(error.message).toBe(`Database inconsistency on table oauth2_sessions column last_active_ip row ${badIp}`)
      expect(yield* Effect.flip(oauth2Sessions.list({}, first(10)))).toMatchObject(expected(badScope, "scope_list"))
      expect(yield* Effect.flip(oauth2Sessions.list({ scope: scope() }, last(1)))).toMatchObject(
        expected(badIp, "last_active_ip")
      )
      // A page that does not reach the bad rows still reads; counting decodes nothing.
      expect((yield* oauth2Sessions.list({}, first(1))).edges.map((e) => e.node.id)).toEqual([good])
      expect(yield* oauth2Sessions.count({})).toBe(3)
      expect(yield* oauth2Sessions.count({ scope: scope("openid") })).toBe(3)
      // finishBulk writes without reading the rows back
      expect(yield* oauth2Sessions.finishBulk({ state: "active" })).toBe(3)
    }))
})
