// Contract suite for OAuth2AuthorizationGrantRepository: add, lookups, the stage machine, planted rows and cleanup, on both backends.
import { expect } from "@effect/vitest"
import { Duration, Effect, HashMap, Logger, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import {
  AuthorizationCode,
  type AuthorizationGrant,
  AuthorizationGrantCancelled,
  AuthorizationGrantExchanged,
  AuthorizationGrantFulfilled,
  type NewAuthorizationGrant
} from "../../../src/model/oauth2/authorizationGrant.js"
import type { Client } from "../../../src/model/oauth2/client.js"
import type { OAuth2Session } from "../../../src/model/oauth2/session.js"
import type { BrowserSession } from "../../../src/model/user.js"
import { generateUlid, maxUlidAt, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { Pkce, type ResponseMode, type Scope, type Url } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { GRANT_CODE_MAX_BYTES } from "../../../src/storage/oauth2/OAuth2AuthorizationGrantRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addUser,
  newAuthorizationGrant as request,
  rolledBack,
  scope,
  seedAuthorizationGrantRow,
  seedClient,
  seedOAuth2Session
} from "./fixtures.js"

const TABLE = "oauth2_authorization_grants"
const ID = "oauth2_authorization_grant_id"

const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const url = (text: string) => text as Url

/** Far beyond every row a test creates: cleanup up to here sees every grant. */
const END = maxUlidAt(new Date(EPOCH + 365 * 24 * 3600 * 1000))

const code = (text: string, pkce?: Pkce) =>
  Option.some(new AuthorizationCode({ code: text, pkce: Option.fromNullable(pkce) }))

const repos = Effect.map(RepositoryAccess, (r) => r.oauth2AuthorizationGrants)

const lookupOrThrow = (id: Ulid) => Effect.flatMap(repos, (grants) => Effect.map(grants.lookup(id), Option.getOrThrow))

const dump = Effect.flatMap(Seed, (seed) => seed.dump(TABLE, ID))

/** A user, one of its browser sessions and a client: what every fulfilment needs. */
const world = Effect.gen(function* () {
  const alice = yield* addUser("alice")
  const browserSession = yield* addBrowserSession(alice)
  const client = yield* seedClient
  return { alice, browserSession, client }
})

interface Logged {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs `effect` with a logger that records every line (the test runtime has none), and returns the lines too. */
const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const lines: Array<Logged> = []
    const recorder = Logger.make(({ annotations, logLevel, message }) => {
      lines.push({
        level: logLevel.label,
        message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    const result = yield* Effect.provide(effect, Logger.add(recorder))
    return [result, lines] as const
  })

/** Runs every attempt (each expected to fail with `tag`) and checks the stored grants did not change. */
const refusedWithoutWriting = (
  tag: DatabaseError["_tag"],
  attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, DatabaseError>, string?]>
) => expectEachToFailWithoutWriting(dump, tag, attempts)

contract("OAuth2AuthorizationGrantRepository", (test, backend) => {
  test("add creates a pending grant with every requested field; id and createdAt from Clock and Random", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const params = request(client, {
        code: code(
          "abc123",
          new Pkce({ challengeMethod: "S256", challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" })
        ),
        scope: scope("openid", "urn:matrix:client:api:*", "email"),
        state: Option.some("state — ünïcødé"),
        nonce: Option.some("nonce-1"),
        responseMode: "form_post",
        responseTypeIdToken: true,
        loginHint: Option.some("mxid:@alice:example.com"),
        locale: Option.some("fr-FR"),
        rawParameters: new Map([
          ["scope", "openid email"],
          ["client_id", client.id],
          ["é", "ü 🎉"],
          ["a", ""]
        ])
      })
      const grant = yield* grants.add(params)
      expect(grant.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(grant.id)).toBe(EPOCH)
      expect(grant.stage).toEqual(new Pending())
      expect(grant.clientId).toBe(client.id)
      expect(grant.code).toEqual(params.code)
      expect(grant.redirectUri).toBe("https://client.example.com/callback")
      expect(grant.scope).toEqual(["email", "openid", "urn:matrix:client:api:*"])
      expect(grant.state).toEqual(Option.some("state — ünïcødé"))
      expect(grant.nonce).toEqual(Option.some("nonce-1"))
      expect(grant.responseMode).toBe("form_post")
      expect(grant.responseTypeIdToken).toBe(true)
      expect(grant.loginHint).toEqual(Option.some("mxid:@alice:example.com"))
      expect(grant.locale).toEqual(Option.some("fr-FR"))
      // read back in key order whatever order the stored document keeps (jsonb sorts by length first)
      expect([...grant.rawParameters]).toEqual([
        ["a", ""],
        ["client_id", client.id],
        ["scope", "openid email"],
        ["é", "ü 🎉"]
      ])
      expect(yield* grants.lookup(grant.id)).toEqual(Option.some(grant))
      expect(yield* grants.findByCode("abc123")).toEqual(Option.some(grant))
      const [row] = yield* dump
      expect(row).toMatchObject({
        response_type_code: true,
        authorization_code: "abc123",
        code_challenge_method: "S256",
        raw_parameters: { scope: "openid email", client_id: client.id, é: "ü 🎉", a: "" }
      })
    }))

  test("a grant without a code stores response_type_code false and is found by no code; a code may have no PKCE", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const implicit = yield* grants.add(request(client, { code: Option.none(), responseTypeIdToken: true }))
      expect(implicit.code).toEqual(Option.none())
      expect(yield* grants.lookup(implicit.id)).toEqual(Option.some(implicit))
      expect((yield* dump)[0]).toMatchObject({ response_type_code: false, authorization_code: null })
      expect(yield* grants.findByCode("")).toEqual(Option.none())

      const plain = yield* grants.add(request(client, { code: code("plain-code") }))
      expect(plain.code).toEqual(Option.some(new AuthorizationCode({ code: "plain-code", pkce: Option.none() })))
      expect(yield* grants.findByCode("plain-code")).toEqual(Option.some(plain))
      const withPlainPkce = yield* grants.add(
        request(client, { code: code("pkce-plain", new Pkce({ challengeMethod: "plain", challenge: "verifier" })) })
      )
      expect(yield* grants.findByCode("pkce-plain")).toEqual(Option.some(withPlainPkce))
      // exact, case-sensitive match
      expect(yield* grants.findByCode("PLAIN-CODE")).toEqual(Option.none())
    }))

  test("the redirect URI is stored in its WHATWG form; text that is no absolute URL is refused and nothing is written", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const grant = yield* grants.add(request(client, { redirectUri: url("HTTPS://Client.Example.COM:443/a/../cb") }))
      expect(grant.redirectUri).toBe("https://client.example.com/cb")
      expect((yield* lookupOrThrow(grant.id)).redirectUri).toBe("https://client.example.com/cb")
      yield* refusedWithoutWriting(
        "InvalidOperationError",
        [
          "/relative",
          "client.example.com/cb",
          "",
          "https://exa mple.com/",
          "https://example.com/\u0000",
          "https://example.com/\ncb"
        ].map(
          (text, i) =>
            [`redirect ${i}`, grants.add(request(client, { code: code(`c${i}`), redirectUri: url(text) }))] as const
        )
      )
    }))

  test("a taken authorization code is a RowsAffectedError that leaves the unit of work usable; it commits", () =>
    Effect.gen(function* () {
      const { oauth2AuthorizationGrants: grants, transaction } = yield* RepositoryAccess
      const client = yield* seedClient
      const kept = yield* transaction(
        Effect.gen(function* () {
          const first = yield* grants.add(request(client, { code: code("same") }))
          const duplicate = yield* Effect.flip(
            grants.add(request(client, { code: code("same"), state: Option.some("2") }))
          )
          expect(duplicate).toMatchObject(noRowAffected)
          const other = yield* grants.add(request(client, { code: code("other") }))
          // grants without a code never collide
          yield* grants.add(request(client, { code: Option.none() }))
          yield* grants.add(request(client, { code: Option.none() }))
          return [first, other]
        })
      )
      expect((yield* dump).length).toBe(4)
      expect(yield* grants.findByCode("same")).toEqual(Option.some(kept[0]))
      expect(yield* grants.findByCode("other")).toEqual(Option.some(kept[1]))
    }))

  test("bad arguments to add are an InvalidOperationError and nothing is written", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const long = "x".repeat(GRANT_CODE_MAX_BYTES + 1)
      yield* grants.add(request(client, { code: code("é".repeat(GRANT_CODE_MAX_BYTES / 2)) }))
      yield* refusedWithoutWriting("InvalidOperationError", [
        ...malformedIdsLike(client.id).map(
          (id) =>
            [`client id ${id}`, grants.add(request({ ...client, id } as Client, { code: code(`id-${id}`) }))] as const
        ),
        ["code too long", grants.add(request(client, { code: code(long) })), "authorization code is"],
        [
          "code too long in bytes",
          grants.add(request(client, { code: code("é".repeat(GRANT_CODE_MAX_BYTES / 2 + 1)) }))
        ],
        ["lone surrogate in code", grants.add(request(client, { code: code("a\uD800") })), "code holds an unpaired"],
        [
          "lone surrogate in challenge",
          grants.add(request(client, { code: code("c", new Pkce({ challengeMethod: "S256", challenge: "\uDC00" })) }))
        ],
        ["lone surrogate in state", grants.add(request(client, { state: Option.some("\uD800") })), "state holds"],
        ["lone surrogate in nonce", grants.add(request(client, { nonce: Option.some("\uD800") }))],
        ["lone surrogate in login hint", grants.add(request(client, { loginHint: Option.some("\uD800") }))],
        ["lone surrogate in locale", grants.add(request(client, { locale: Option.some("\uD800") }))],
        ["lone surrogate in a raw key", grants.add(request(client, { rawParameters: new Map([["\uD800", "x"]]) }))],
        ["lone surrogate in a raw value", grants.add(request(client, { rawParameters: new Map([["k", "\uDC00"]]) }))],
        [
          "raw value not a string",
          grants.add(request(client, { rawParameters: new Map([["k", 1 as unknown as string]]) })),
          "not a pair of strings"
        ],
        ["bad scope token", grants.add(request(client, { scope: ["bad token"] as unknown as Scope })), "scope token"],
        [
          "bad response mode",
          grants.add(request(client, { responseMode: "web_message" as ResponseMode })),
          "response mode"
        ],
        [
          "bad PKCE method",
          grants.add(
            request(client, {
              // built without validation: the type promises a known method, the argument check does not rely on it
              code: Option.some(
                new AuthorizationCode(
                  { code: "c", pkce: Option.some({ challengeMethod: "S512", challenge: "x" } as unknown as Pkce) },
                  true
                )
              )
            })
          ),
          "PKCE"
        ]
      ])
    }))

  test("NUL in text is a DriverError (22021, 22P05 inside the raw parameters) and nothing is written", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const attempts: ReadonlyArray<readonly [string, NewAuthorizationGrant, string]> = [
        ["code", request(client, { code: code("a\u0000b") }), "22021"],
        ["state", request(client, { state: Option.some("\u0000") }), "22021"],
        ["locale", request(client, { locale: Option.some("fr\u0000") }), "22021"],
        ["raw value", request(client, { rawParameters: new Map([["k", "v\u0000"]]) }), "22P05"],
        ["raw key", request(client, { rawParameters: new Map([["\u0000", "v"]]) }), "22P05"],
        // the text parameter is read first
        ["both", request(client, { nonce: Option.some("\u0000"), rawParameters: new Map([["k", "\u0000"]]) }), "22021"]
      ]
      for (const [name, params, sqlState] of attempts) {
        const error = yield* Effect.flip(grants.add(params))
        expect([name, error._tag, (error as { sqlState?: unknown }).sqlState]).toEqual([
          name,
          "DriverError",
          Option.some(sqlState)
        ])
      }
      expect(yield* dump).toEqual([])
    }))

  test("add for a client that is not stored is a DriverError (foreign key) that dooms the unit of work", () =>
    Effect.gen(function* () {
      const { oauth2AuthorizationGrants: grants, transaction } = yield* RepositoryAccess
      const ghost = yield* rolledBack(seedClient)
      expect(yield* Effect.flip(grants.add(request(ghost)))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      const client = yield* seedClient
      const doomed = yield* transaction(
        Effect.gen(function* () {
          yield* grants.add(request(client, { code: code("kept?") }))
          yield* Effect.ignore(grants.add(request(ghost, { code: code("ghost") })))
        })
      ).pipe(Effect.flip)
      expect(doomed).toMatchObject({ _tag: "DriverError", sqlState: Option.some("25P02") })
      expect(yield* dump).toEqual([])
    }))

  test("a failed unit of work leaves no grant behind", () =>
    Effect.gen(function* () {
      const { oauth2AuthorizationGrants: grants, transaction } = yield* RepositoryAccess
      const client = yield* seedClient
      const result = yield* transaction(
        Effect.zipRight(grants.add(request(client)), Effect.fail("cancel" as const))
      ).pipe(Effect.flip)
      expect(result).toBe("cancel")
      expect(yield* dump).toEqual([])
    }))

  test("lookup and findByCode: unknown is none; malformed ids and unpaired surrogates are refused; NUL is a DriverError", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const grant = yield* grants.add(request(client))
      expect(yield* grants.lookup(yield* generateUlid)).toEqual(Option.none())
      expect(yield* grants.findByCode("nope")).toEqual(Option.none())
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(grant.id).map((id) => [`lookup ${id}`, grants.lookup(id)] as const)
      )
      yield* expectEachToFail("InvalidOperationError", [["surrogate", grants.findByCode("\uD800")]])
      expect(yield* Effect.flip(grants.findByCode("code-1\u0000"))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("22021")
      })
    }))

  test("fulfill moves a pending grant to Fulfilled by the browser session, now", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const grant = yield* grants.add(request(client))
      yield* TestClock.adjust(Duration.seconds(5))
      const fulfilled = yield* grants.fulfill(browserSession, grant)
      expect(fulfilled.stage).toEqual(
        new AuthorizationGrantFulfilled({ browserSessionId: browserSession.id, fulfilledAt: at(5) })
      )
      expect({ ...fulfilled, stage: undefined }).toEqual({ ...grant, stage: undefined })
      expect(yield* lookupOrThrow(grant.id)).toEqual(fulfilled)
      expect(yield* grants.findByCode("code-1")).toEqual(Option.some(fulfilled))
    }))

  test("exchange moves a fulfilled grant to Exchanged for the session, keeping fulfilledAt", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const grant = yield* grants.add(request(client))
      yield* TestClock.adjust(Duration.seconds(5))
      const fulfilled = yield* grants.fulfill(browserSession, grant)
      yield* TestClock.adjust(Duration.seconds(5))
      const exchanged = yield* grants.exchange(fulfilled, session)
      expect(exchanged.stage).toEqual(
        new AuthorizationGrantExchanged({ sessionId: session.id, fulfilledAt: at(5), exchangedAt: at(10) })
      )
      expect(yield* lookupOrThrow(grant.id)).toEqual(exchanged)
      // the browser session that fulfilled it stays recorded
      expect((yield* dump)[0]).toMatchObject({ user_session_id: browserSession.id, oauth2_session_id: session.id })
    }))

  test("transitions the stage machine does not allow are an InvalidOperationError and write nothing", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const pending = yield* grants.add(request(client, { code: code("p") }))
      const fulfilled = yield* grants.fulfill(browserSession, yield* grants.add(request(client, { code: code("f") })))
      const exchanged = yield* grants.exchange(
        yield* grants.fulfill(browserSession, yield* grants.add(request(client, { code: code("e") }))),
        session
      )
      const cancelled = yield* lookupOrThrow(yield* seedAuthorizationGrantRow(client.id, { cancelled_at: at(1) }))
      expect(cancelled.stage).toEqual(new AuthorizationGrantCancelled({ cancelledAt: at(1) }))
      yield* refusedWithoutWriting("InvalidOperationError", [
        ["exchange pending", grants.exchange(pending, session), 'Invalid transition "exchange"'],
        ["fulfill fulfilled", grants.fulfill(browserSession, fulfilled)],
        ["fulfill exchanged", grants.fulfill(browserSession, exchanged)],
        ["exchange exchanged", grants.exchange(exchanged, session)],
        ["fulfill cancelled", grants.fulfill(browserSession, cancelled)],
        ["exchange cancelled", grants.exchange(cancelled, session)]
      ])
    }))

  test("a stale entity whose row has moved on is a RowsAffectedError and the stored grant stays as it is", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { alice, browserSession, client } = yield* world
      const other = yield* addBrowserSession(alice)
      const session = yield* seedOAuth2Session(client, { browserSession })
      const later = yield* seedOAuth2Session(client, { browserSession })
      const pending = yield* grants.add(request(client))
      const fulfilled = yield* grants.fulfill(browserSession, pending)
      yield* TestClock.adjust(Duration.seconds(1))
      const exchanged = yield* grants.exchange(fulfilled, session)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* refusedWithoutWriting("RowsAffectedError", [
        ["fulfill a stale pending entity", grants.fulfill(other, pending)],
        ["exchange a stale fulfilled entity", grants.exchange(fulfilled, later)]
      ])
      expect(yield* lookupOrThrow(pending.id)).toEqual(exchanged)
      // a grant that is not stored at all
      const ghost = yield* rolledBack(Effect.flatMap(repos, (g) => g.add(request(client, { code: code("ghost") }))))
      expect(yield* Effect.flip(grants.fulfill(browserSession, ghost))).toMatchObject(noRowAffected)
    }))

  test("fulfil with a browser session, or exchange for a session, that is not stored is a DriverError (foreign key)", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { alice, browserSession, client } = yield* world
      const goneBrowserSession = yield* rolledBack<BrowserSession>(addBrowserSession(alice))
      const goneSession = yield* rolledBack<OAuth2Session>(seedOAuth2Session(client, { browserSession }))
      const grant = yield* grants.add(request(client))
      expect(yield* Effect.flip(grants.fulfill(goneBrowserSession, grant))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      const fulfilled = yield* grants.fulfill(browserSession, grant)
      const before = yield* dump
      expect(yield* Effect.flip(grants.exchange(fulfilled, goneSession))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(yield* dump).toEqual(before)
    }))

  test("malformed ids of the grant or of what it is fulfilled or exchanged with are an InvalidOperationError", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const grant = yield* grants.add(request(client))
      const fulfilled = yield* grants.fulfill(browserSession, yield* grants.add(request(client, { code: code("f") })))
      const withId = <A extends object>(entity: A, id: Ulid): A =>
        Object.assign(Object.create(Object.getPrototypeOf(entity) as object) as object, entity, { id }) as A
      yield* refusedWithoutWriting("InvalidOperationError", [
        ...malformedIdsLike(grant.id).map(
          (id) => [`fulfill grant ${id}`, grants.fulfill(browserSession, withId(grant, id))] as const
        ),
        ...malformedIdsLike(browserSession.id).map(
          (id) => [`fulfill with browser session ${id}`, grants.fulfill(withId(browserSession, id), grant)] as const
        ),
        ...malformedIdsLike(fulfilled.id).map(
          (id) => [`exchange grant ${id}`, grants.exchange(withId(fulfilled, id), session)] as const
        ),
        ...malformedIdsLike(session.id).map(
          (id) => [`exchange for session ${id}`, grants.exchange(fulfilled, withId(session, id))] as const
        )
      ])
    }))

  test("the legacy tuple (fulfilled, OAuth2 session, no browser session) reads as Cancelled at fulfilledAt, with a warning", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const id = yield* seedAuthorizationGrantRow(client.id, {
        response_type_code: true,
        authorization_code: "legacy",
        fulfilled_at: at(3),
        oauth2_session_id: session.id
      })
      const [found, lines] = yield* withLogs(grants.lookup(id))
      const legacy = Option.getOrThrow(found)
      expect(legacy.stage).toEqual(new AuthorizationGrantCancelled({ cancelledAt: at(3) }))
      expect(lines).toEqual([
        {
          level: "WARN",
          message: "Authorization grant fulfilled without a browser session: read as cancelled",
          annotations: { "grant.id": id }
        }
      ])
      const [byCode, more] = yield* withLogs(grants.findByCode("legacy"))
      expect(byCode).toEqual(Option.some(legacy))
      expect(more.map((l) => [l.level, l.annotations["grant.id"]])).toEqual([["WARN", id]])
      // a regular grant logs nothing
      const [, quiet] = yield* withLogs(grants.lookup((yield* grants.add(request(client, { code: code("new") }))).id))
      expect(quiet).toEqual([])
      yield* refusedWithoutWriting("InvalidOperationError", [
        ["fulfill legacy", grants.fulfill(browserSession, legacy)],
        ["exchange legacy", grants.exchange(legacy, session)]
      ])
    }))

  test("impossible stored rows are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const bs = browserSession.id
      const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        // stage tuples the decoder does not list
        ["stage", { user_session_id: bs }],
        ["stage", { oauth2_session_id: session.id }],
        ["stage", { fulfilled_at: at(1) }],
        ["stage", { fulfilled_at: at(1), user_session_id: bs, oauth2_session_id: session.id }],
        ["stage", { exchanged_at: at(1), oauth2_session_id: session.id }],
        ["stage", { fulfilled_at: at(1), exchanged_at: at(2), user_session_id: bs }],
        ["stage", { fulfilled_at: at(1), cancelled_at: at(2), user_session_id: bs }],
        ["stage", { cancelled_at: at(1), user_session_id: bs }],
        ["stage", { cancelled_at: at(1), oauth2_session_id: session.id }],
        ["stage", { fulfilled_at: at(1), exchanged_at: at(2), cancelled_at: at(3), oauth2_session_id: session.id }],
        // the code and its PKCE challenge
        ["code_challenge_method", { response_type_code: true, authorization_code: "c1", code_challenge: "x" }],
        [
          "code_challenge_method",
          { response_type_code: true, authorization_code: "c2", code_challenge_method: "S256" }
        ],
        ["authorization_code", { code_challenge: "x", code_challenge_method: "plain" }],
        ["authorization_code", { response_type_code: true }],
        ["authorization_code", { authorization_code: "c3" }],
        // columns whose text has rules
        ["redirect_uri", { redirect_uri: "not a url" }],
        ["scope_list", { scope_list: ["openid", "bad token"] }],
        ["raw_parameters", { raw_parameters: { n: 1 } }],
        ["raw_parameters", { raw_parameters: backend.name === "memory" ? ["a"] : '["a"]' }]
      ]
      for (const [column, columns] of cases) {
        const id = yield* seedAuthorizationGrantRow(client.id, columns)
        const error = yield* Effect.flip(grants.lookup(id))
        expect([column, columns, error]).toMatchObject([
          column,
          columns,
          { _tag: "InconsistencyError", table: TABLE, column: Option.some(column), row: Option.some(id) }
        ])
        expect(error.message).toBe(`Database inconsistency on table ${TABLE} column ${column} row ${id}`)
      }
      // by code as well
      const bad = yield* seedAuthorizationGrantRow(client.id, { authorization_code: "unflagged" })
      expect(yield* Effect.flip(grants.findByCode("unflagged"))).toMatchObject({
        _tag: "InconsistencyError",
        column: Option.some("authorization_code"),
        row: Option.some(bad)
      })
    }))

  test("cleanup deletes grants of every stage in id order, in batches resumed from the returned key", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const { browserSession, client } = yield* world
      const session = yield* seedOAuth2Session(client, { browserSession })
      const made: Array<AuthorizationGrant> = []
      for (let i = 0; i < 5; i++) {
        const grant = yield* grants.add(request(client, { code: code(`c${i}`) }))
        made.push(grant)
        yield* TestClock.adjust(Duration.seconds(1))
      }
      yield* grants.exchange(yield* grants.fulfill(browserSession, made[1]!), session)
      yield* grants.fulfill(browserSession, made[2]!)
      const legacy = yield* seedAuthorizationGrantRow(client.id, { fulfilled_at: at(1), oauth2_session_id: session.id })
      yield* TestClock.adjust(Duration.seconds(1))
      const newer = yield* grants.add(request(client, { code: code("newer") }))
      const ids = [...made.map((g) => g.id), legacy].sort()
      const until = ids[ids.length - 1]!

      const seen: Array<number> = []
      let since = Option.none<Ulid>()
      for (;;) {
        const [count, last] = yield* grants.cleanup(since, until, 2)
        seen.push(count)
        if (Option.isNone(last)) break
        since = last
      }
      expect(seen).toEqual([2, 2, 2, 0])
      expect((yield* dump).map((r) => r[ID])).toEqual([newer.id])
      expect(yield* grants.lookup(made[0]!.id)).toEqual(Option.none())
    }))

  test("cleanup bounds: since exclusive, until inclusive, limit 0 deletes nothing; bad limits and ids are refused", () =>
    Effect.gen(function* () {
      const grants = yield* repos
      const client = yield* seedClient
      const made: Array<AuthorizationGrant> = []
      for (let i = 0; i < 4; i++) {
        made.push(yield* grants.add(request(client, { code: code(`c${i}`) })))
        yield* TestClock.adjust(Duration.seconds(1))
      }
      const [a, , c, d] = made.map((g) => g.id) as [Ulid, Ulid, Ulid, Ulid]
      expect(yield* grants.cleanup(Option.some(a), c, 0)).toEqual([0, Option.none()])
      yield* refusedWithoutWriting("InvalidOperationError", [
        ["negative limit", grants.cleanup(Option.none(), END, -1)],
        ["fractional limit", grants.cleanup(Option.none(), END, 1.5)],
        ["NaN limit", grants.cleanup(Option.none(), END, Number.NaN)],
        ...malformedIdsLike(a).map((id) => [`since ${id}`, grants.cleanup(Option.some(id), END, 10)] as const),
        ...malformedIdsLike(a).map((id) => [`until ${id}`, grants.cleanup(Option.none(), id, 10)] as const)
      ])
      expect(yield* grants.cleanup(Option.some(a), c, 10)).toEqual([2, Option.some(c)])
      expect((yield* dump).map((r) => r[ID])).toEqual([a, d])
      expect(yield* grants.cleanup(Option.some(d), END, 10)).toEqual([0, Option.none()])
      expect(yield* grants.cleanup(Option.none(), END, 10)).toEqual([2, Option.some(d)])
      expect(yield* dump).toEqual([])
    }))
})
