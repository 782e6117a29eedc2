// Contract suite for UpstreamOAuthProviderRepository: every method, the idempotent upsert, the JSON documents, the stored enum texts, the deletion with its dependents, filters, pages, refused input and impossible rows.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import {
  ClaimsImports,
  ImportPreference,
  LocalpartPreference,
  SubjectPreference,
  type UpstreamOAuthProvider,
  type UpstreamOAuthProviderParams
} from "../../../src/model/upstream.js"
import { JWS_ALGS, type JwsAlg } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import {
  UpstreamOAuthProviderFilter as Filters,
  type UpstreamOAuthProviderFilter
} from "../../../src/storage/upstream/UpstreamOAuthProviderRepository.js"
import { Seed, seedUpstreamProvider } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addBrowserSession, addUser, scope } from "../oauth2/fixtures.js"
import { addProvider, defaultClaimsImports, newProviderParams, url } from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const second = Duration.seconds(1)

const PROVIDERS = "upstream_oauth_providers"
const PROVIDER_ID = "upstream_oauth_provider_id"

const dumpProviders = Effect.flatMap(Seed, (seed) => seed.dump(PROVIDERS, PROVIDER_ID))

/** The stored row of a provider, as the memory backend stores it. */
const storedRow = (id: Ulid) => Effect.map(dumpProviders, (rows) => rows.find((r) => r[PROVIDER_ID] === id)!)

const lookupOrThrow = (id: Ulid) =>
  Effect.flatMap(RepositoryAccess, ({ upstreamOAuthProviders }) =>
    Effect.map(upstreamOAuthProviders.lookup(id), Option.getOrThrow)
  )

/** Adds providers one second apart (so their ids are in creation order), each with the client id given. */
const addClients = (...clientIds: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const added: Array<UpstreamOAuthProvider> = []
    for (const clientId of clientIds) {
      added.push(yield* addProvider({ clientId }))
      yield* TestClock.adjust(second)
    }
    return added
  })

/** The client ids of the listed providers after checking that list and count agree. */
const clientIdsOf = (filter: UpstreamOAuthProviderFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { upstreamOAuthProviders } = yield* RepositoryAccess
    const page = yield* upstreamOAuthProviders.list(filter, pagination)
    const count = yield* upstreamOAuthProviders.count(filter)
    if (!page.hasNextPage && !page.hasPreviousPage) expect(count).toBe(page.edges.length)
    for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.id)
    return page.edges.map((e) => e.node.clientId)
  })

/** Claims imports with every member set to something other than its default. */
const unusualClaimsImports = new ClaimsImports({
  subject: new SubjectPreference({ template: Option.some("{{ user.sub }}✓") }),
  skipConfirmation: true,
  localpart: new LocalpartPreference({
    action: "require",
    template: Option.some("{{ user.preferred_username | lower }}"),
    onConflict: "replace"
  }),
  displayname: new ImportPreference({ action: "force", template: Option.some("名前 👩‍💻 {{ user.name }}") }),
  email: new ImportPreference({ action: "suggest", template: Option.some("") }),
  accountName: new SubjectPreference({ template: Option.some("@{{ user.login }}") })
})

/** Parameters with every optional field set and no field at its default. */
const fullParams = (overrides: Partial<UpstreamOAuthProviderParams> = {}): UpstreamOAuthProviderParams =>
  newProviderParams({
    issuer: Option.some("https://accounts.example.com/"),
    humanName: Option.some("Exämple ID"),
    brandName: Option.some("example"),
    discoveryMode: "insecure",
    pkceMode: "s256",
    jwksUriOverride: Option.some(url("https://accounts.example.com/jwks.json")),
    authorizationEndpointOverride: Option.some(url("https://accounts.example.com/authorize")),
    scope: scope("openid", "profile", "email"),
    tokenEndpointOverride: Option.some(url("https://accounts.example.com/token")),
    userinfoEndpointOverride: Option.some(url("https://accounts.example.com/userinfo")),
    fetchUserinfo: true,
    userinfoSignedResponseAlg: Option.some("ES256"),
    clientId: "client-ü",
    encryptedClientSecret: Option.some("c2VjcmV0"),
    tokenEndpointSigningAlg: Option.some("HS512"),
    tokenEndpointAuthMethod: "client_secret_jwt",
    idTokenSignedResponseAlg: "PS384",
    responseMode: Option.some("form_post"),
    claimsImports: unusualClaimsImports,
    additionalAuthorizationParameters: [
      ["prompt", "consent"],
      ["prompt", "login"],
      ["", ""],
      ["ключ", "値 🎉"],
      ['quote"s', "back\\slash"]
    ],
    forwardLoginHint: true,
    onBackchannelLogout: "logout_all",
    registrationTokenRequired: true,
    uiOrder: -7,
    ...overrides
  })

/** The entity fields that come from the parameters (uiOrder is stored, not part of the entity). */
const fieldsOf = (params: UpstreamOAuthProviderParams) => {
  const { uiOrder: _, ...fields } = params
  return fields
}

/** An authorization session of `providerId`, seeded as a row (pending unless `columns` say otherwise). */
const seedSessionRow = (providerId: Ulid, state: string, columns: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("upstream_oauth_authorization_sessions", {
      upstream_oauth_authorization_session_id: id,
      upstream_oauth_provider_id: providerId,
      upstream_oauth_link_id: null,
      user_session_id: null,
      state,
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

/** A link of `providerId` to `userId`, seeded as a row. */
const seedLinkRow = (providerId: Ulid, subject: string, userId: Ulid | null) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("upstream_oauth_links", {
      upstream_oauth_link_id: id,
      upstream_oauth_provider_id: providerId,
      user_id: userId,
      subject,
      human_account_name: null,
      created_at: new Date(EPOCH)
    })
    return id
  })

/**
 * What hangs on a provider: a pending session, a link with a session completed into it and consumed by a browser
 * session, a browser-session authentication and a registration naming that session. Returns the seeded ids.
 */
const seedDependents = (providerId: Ulid, tag: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const user = yield* addUser(`user-${tag}`)
    const browserSession = yield* addBrowserSession(user)
    const pending = yield* seedSessionRow(providerId, `state-${tag}-pending`)
    const link = yield* seedLinkRow(providerId, `subject-${tag}`, user.id)
    const consumed = yield* seedSessionRow(providerId, `state-${tag}-consumed`, {
      upstream_oauth_link_id: link,
      user_session_id: browserSession.id,
      id_token_claims: { sub: `subject-${tag}`, sid: "sid" },
      completed_at: new Date(EPOCH),
      consumed_at: new Date(EPOCH)
    })
    const authentication = yield* generateUlid
    yield* seed.insert("user_session_authentications", {
      user_session_authentication_id: authentication,
      user_session_id: browserSession.id,
      created_at: new Date(EPOCH),
      user_password_id: null,
      upstream_oauth_authorization_session_id: consumed
    })
    const registration = yield* generateUlid
    yield* seed.insert("user_registrations", {
      user_registration_id: registration,
      ip_address: null,
      user_agent: null,
      post_auth_action: null,
      username: `new-${tag}`,
      display_name: null,
      terms_url: null,
      email_authentication_id: null,
      user_registration_token_id: null,
      upstream_oauth_authorization_session_id: pending,
      hashed_password: null,
      hashed_password_version: null,
      created_at: new Date(EPOCH),
      completed_at: null
    })
    return { sessions: [pending, consumed], link, authentication, registration }
  })

/** The ids left in the provider's tables, and the upstream session each authentication and registration names. */
const remaining = Effect.gen(function* () {
  const seed = yield* Seed
  const ids = (table: string, idColumn: string) =>
    Effect.map(seed.dump(table, idColumn), (rows) => rows.map((row) => row[idColumn]))
  const references = (table: string, idColumn: string) =>
    Effect.map(seed.dump(table, idColumn), (rows) =>
      rows.map((row) => [row[idColumn], row.upstream_oauth_authorization_session_id])
    )
  return {
    providers: yield* ids(PROVIDERS, PROVIDER_ID),
    links: yield* ids("upstream_oauth_links", "upstream_oauth_link_id"),
    sessions: yield* ids("upstream_oauth_authorization_sessions", "upstream_oauth_authorization_session_id"),
    authentications: yield* references("user_session_authentications", "user_session_authentication_id"),
    registrations: yield* references("user_registrations", "user_registration_id")
  }
})

contract("UpstreamOAuthProviderRepository", (test) => {
  test("add stores every field with id and createdAt from Clock and Random; lookup returns exactly what add returned", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      yield* TestClock.adjust(Duration.millis(1234))
      const params = fullParams()
      const provider = yield* upstreamOAuthProviders.add(params)
      expect(provider.createdAt).toEqual(new Date(EPOCH + 1234))
      expect(provider.disabledAt).toEqual(Option.none())
      expect(provider.isEnabled).toBe(true)
      expect({ ...provider }).toEqual({
        id: provider.id,
        ...fieldsOf(params),
        createdAt: new Date(EPOCH + 1234),
        disabledAt: Option.none()
      })
      expect(yield* upstreamOAuthProviders.lookup(provider.id)).toEqual(Option.some(provider))
      expect((yield* storedRow(provider.id)).ui_order).toBe(-7)
      // a plain provider: every optional field none
      const plain = yield* addProvider()
      expect(yield* lookupOrThrow(plain.id)).toEqual(plain)
      expect({ ...plain }).toMatchObject(fieldsOf(newProviderParams()))
    }))

  test("lookup of an unknown id is none; a malformed id is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const provider = yield* addProvider()
      expect(yield* upstreamOAuthProviders.lookup(yield* generateUlid)).toEqual(Option.none())
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(provider.id).map((id) => [id, upstreamOAuthProviders.lookup(id)] as const)
      )
    }))

  test("endpoint overrides are stored in their WHATWG form, which add returns and lookup reads", () =>
    Effect.gen(function* () {
      const provider = yield* addProvider({
        jwksUriOverride: Option.some(url("HTTPS://Accounts.Example.COM:443/a/../jwks")),
        authorizationEndpointOverride: Option.some(url("https://accounts.example.com")),
        tokenEndpointOverride: Option.some(url("https://accounts.example.com:8443/./token?x=1#frag")),
        userinfoEndpointOverride: Option.some(url("https://bücher.example/userinfo"))
      })
      expect(provider.jwksUriOverride).toEqual(Option.some("https://accounts.example.com/jwks"))
      expect(provider.authorizationEndpointOverride).toEqual(Option.some("https://accounts.example.com/"))
      expect(provider.tokenEndpointOverride).toEqual(Option.some("https://accounts.example.com:8443/token?x=1#frag"))
      expect(provider.userinfoEndpointOverride).toEqual(Option.some("https://xn--bcher-kva.example/userinfo"))
      expect(yield* lookupOrThrow(provider.id)).toEqual(provider)
    }))

  test("claims imports and additional parameters round-trip as JSON documents (MAS's snake_case keys)", () =>
    Effect.gen(function* () {
      const provider = yield* addProvider({
        claimsImports: unusualClaimsImports,
        additionalAuthorizationParameters: fullParams().additionalAuthorizationParameters
      })
      const read = yield* lookupOrThrow(provider.id)
      expect(read.claimsImports).toEqual(unusualClaimsImports)
      expect(read.additionalAuthorizationParameters).toEqual(fullParams().additionalAuthorizationParameters)
      const row = yield* storedRow(provider.id)
      expect(row.claims_imports).toEqual({
        subject: { template: "{{ user.sub }}✓" },
        skip_confirmation: true,
        localpart: { action: "require", template: "{{ user.preferred_username | lower }}", on_conflict: "replace" },
        displayname: { action: "force", template: "名前 👩‍💻 {{ user.name }}" },
        email: { action: "suggest", template: "" },
        account_name: { template: "@{{ user.login }}" }
      })
      expect(row.additional_parameters).toEqual([
        ["prompt", "consent"],
        ["prompt", "login"],
        ["", ""],
        ["ключ", "値 🎉"],
        ['quote"s', "back\\slash"]
      ])
      // empty documents: no parameter, every claim at its default
      const empty = yield* addProvider()
      expect((yield* lookupOrThrow(empty.id)).additionalAuthorizationParameters).toEqual([])
      expect((yield* lookupOrThrow(empty.id)).claimsImports).toEqual(defaultClaimsImports())
      expect((yield* storedRow(empty.id)).additional_parameters).toEqual([])
    }))

  test("every import action and localpart conflict policy round-trips", () =>
    Effect.gen(function* () {
      const actions = ["ignore", "suggest", "force", "require"] as const
      const conflicts = ["fail", "add", "replace", "set"] as const
      for (const [i, action] of actions.entries()) {
        const claims = new ClaimsImports({
          ...defaultClaimsImports(),
          localpart: new LocalpartPreference({ action, template: Option.none(), onConflict: conflicts[i]! }),
          displayname: new ImportPreference({ action, template: Option.none() }),
          email: new ImportPreference({ action, template: Option.some(action) })
        })
        const provider = yield* addProvider({ claimsImports: claims })
        expect((yield* lookupOrThrow(provider.id)).claimsImports).toEqual(claims)
        expect((yield* storedRow(provider.id)).claims_imports).toMatchObject({
          localpart: { action, on_conflict: conflicts[i] },
          displayname: { action },
          email: { action, template: action }
        })
      }
    }))

  test("a stored claims document missing members reads them at their defaults, as MAS's serde defaults do", () =>
    Effect.gen(function* () {
      const seed = yield* Seed
      const id = yield* seedUpstreamProvider()
      expect((yield* lookupOrThrow(id)).claimsImports).toEqual(defaultClaimsImports())
      const partial = yield* seedUpstreamProvider("https://partial.example.com/")
      yield* seed.delete(PROVIDERS, PROVIDER_ID, partial)
      yield* seed.insert(PROVIDERS, {
        ...(yield* Effect.map(dumpProviders, (rows) => rows[0]!)),
        upstream_oauth_provider_id: partial,
        claims_imports: { localpart: { action: "force" }, email: { template: null }, skip_confirmation: true }
      })
      expect((yield* lookupOrThrow(partial)).claimsImports).toEqual(
        new ClaimsImports({
          ...defaultClaimsImports(),
          skipConfirmation: true,
          localpart: new LocalpartPreference({ action: "force", template: Option.none(), onConflict: "fail" })
        })
      )
    }))

  test("every enumeration is stored as its text", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Partial<UpstreamOAuthProviderParams>, Record<string, unknown>]> = [
        ...(["oidc", "insecure", "disabled"] as const).map(
          (discoveryMode) => [{ discoveryMode }, { discovery_mode: discoveryMode }] as const
        ),
        ...(["auto", "s256", "disabled"] as const).map((pkceMode) => [{ pkceMode }, { pkce_mode: pkceMode }] as const),
        ...(
          [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "sign_in_with_apple"
          ] as const
        ).map((m) => [{ tokenEndpointAuthMethod: m }, { token_endpoint_auth_method: m }] as const),
        [{ responseMode: Option.none() }, { response_mode: null }],
        [{ responseMode: Option.some("query") }, { response_mode: "query" }],
        [{ responseMode: Option.some("form_post") }, { response_mode: "form_post" }],
        ...(["do_nothing", "logout_browser_only", "logout_all"] as const).map(
          (b) => [{ onBackchannelLogout: b }, { on_backchannel_logout: b }] as const
        ),
        ...JWS_ALGS.map(
          (alg: JwsAlg) =>
            [
              {
                idTokenSignedResponseAlg: alg,
                userinfoSignedResponseAlg: Option.some(alg),
                tokenEndpointSigningAlg: Option.some(alg)
              },
              {
                id_token_signed_response_alg: alg,
                userinfo_signed_response_alg: alg,
                token_endpoint_signing_alg: alg
              }
            ] as const
        )
      ]
      for (const [overrides, columns] of cases) {
        const provider = yield* addProvider(overrides)
        expect(yield* storedRow(provider.id)).toMatchObject(columns)
        expect(yield* lookupOrThrow(provider.id)).toEqual(provider)
        expect({ ...provider }).toMatchObject(overrides)
      }
    }))

  test("upsert inserts a provider with the given id, created now, with its uiOrder", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const id = yield* generateUlid
      yield* TestClock.adjust(Duration.minutes(5))
      const params = fullParams()
      const provider = yield* upstreamOAuthProviders.upsert(id, params)
      expect({ ...provider }).toEqual({
        id,
        ...fieldsOf(params),
        createdAt: new Date(EPOCH + 5 * 60_000),
        disabledAt: Option.none()
      })
      expect(yield* lookupOrThrow(id)).toEqual(provider)
      expect((yield* storedRow(id)).ui_order).toBe(-7)
    }))

  test("upsert overwrites every configurable field, re-enables, keeps createdAt and returns it", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const original = yield* addProvider()
      const other = yield* addProvider({ clientId: "other" })
      yield* upstreamOAuthProviders.disable(original)
      yield* TestClock.adjust(Duration.hours(1))
      const params = fullParams()
      const updated = yield* upstreamOAuthProviders.upsert(original.id, params)
      expect({ ...updated }).toEqual({
        id: original.id,
        ...fieldsOf(params),
        createdAt: original.createdAt,
        disabledAt: Option.none()
      })
      expect(yield* lookupOrThrow(original.id)).toEqual(updated)
      expect((yield* storedRow(original.id)).ui_order).toBe(-7)
      // and back: every field returns to the plain provider's, optional ones to none
      const back = yield* upstreamOAuthProviders.upsert(original.id, newProviderParams())
      expect(back).toEqual(original)
      expect((yield* storedRow(original.id)).ui_order).toBe(0)
      // the other provider is untouched
      expect(yield* lookupOrThrow(other.id)).toEqual(other)
    }))

  test("a second identical upsert changes nothing observable", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const id = yield* generateUlid
      const once = yield* upstreamOAuthProviders.upsert(id, fullParams())
      const rowsAfterOnce = yield* dumpProviders
      yield* TestClock.adjust(Duration.days(1))
      const twice = yield* upstreamOAuthProviders.upsert(id, fullParams())
      expect(twice).toEqual(once)
      expect(yield* dumpProviders).toEqual(rowsAfterOnce)
      expect(yield* upstreamOAuthProviders.count({})).toBe(1)
    }))

  test("disable stamps disabledAt now; a disabled provider is stamped again; a missing one is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const kept = yield* addProvider({ clientId: "kept" })
      yield* TestClock.adjust(second)
      const disabled = yield* upstreamOAuthProviders.disable(provider)
      expect(disabled.disabledAt).toEqual(Option.some(new Date(EPOCH + 1000)))
      expect(disabled.isEnabled).toBe(false)
      expect(yield* lookupOrThrow(provider.id)).toEqual(disabled)
      yield* TestClock.adjust(second)
      const again = yield* upstreamOAuthProviders.disable(disabled)
      expect(again.disabledAt).toEqual(Option.some(new Date(EPOCH + 2000)))
      expect(yield* lookupOrThrow(provider.id)).toEqual(again)
      expect(yield* lookupOrThrow(kept.id)).toEqual(kept)
      yield* upstreamOAuthProviders.deleteById(provider.id)
      expect(yield* Effect.flip(upstreamOAuthProviders.disable(provider))).toMatchObject(noRowAffected)
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(kept.id).map((id) => [id, upstreamOAuthProviders.disable({ ...kept, id } as never)] as const)
      )
      expect(yield* lookupOrThrow(kept.id)).toEqual(kept)
    }))

  test("allEnabled gives the enabled providers by uiOrder, then id", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      expect(yield* upstreamOAuthProviders.allEnabled()).toEqual([])
      const orders: ReadonlyArray<readonly [string, number]> = [
        ["c", 2],
        ["a", 0],
        ["d", 2],
        ["b", -1],
        ["e", 0],
        ["off", -5],
        ["max", 2_147_483_647],
        ["min", -2_147_483_648]
      ]
      const added: Record<string, UpstreamOAuthProvider> = {}
      for (const [clientId, uiOrder] of orders) {
        added[clientId] = yield* addProvider({ clientId, uiOrder })
        yield* TestClock.adjust(second)
      }
      yield* upstreamOAuthProviders.disable(added["off"]!)
      const all = yield* upstreamOAuthProviders.allEnabled()
      expect(all.map((p) => p.clientId)).toEqual(["min", "b", "a", "e", "c", "d", "max"])
      expect(all[0]).toEqual(added["min"])
      // ties are broken by id, whatever order the ids were made in
      const early = (yield* generateUlid) as Ulid
      yield* upstreamOAuthProviders.upsert(early, newProviderParams({ clientId: "early", uiOrder: 2 }))
      const tie = (yield* upstreamOAuthProviders.allEnabled()).filter((p) => p.clientId !== "max").slice(-3)
      const ids = tie.map((p) => p.id)
      expect([...ids].sort()).toEqual(ids)
      expect(tie.map((p) => p.clientId).sort()).toEqual(["c", "d", "early"])
    }))

  test("deleteById deletes the provider's sessions, then its links, then the provider; references to the sessions are cleared", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const doomed = yield* addProvider({ clientId: "doomed" })
      const kept = yield* addProvider({ clientId: "kept" })
      const gone = yield* seedDependents(doomed.id, "gone")
      const stays = yield* seedDependents(kept.id, "stays")
      yield* upstreamOAuthProviders.deleteById(doomed.id)
      expect(yield* upstreamOAuthProviders.lookup(doomed.id)).toEqual(Option.none())
      expect(yield* remaining).toEqual({
        providers: [kept.id],
        links: [stays.link],
        sessions: stays.sessions,
        authentications: [
          [gone.authentication, null],
          [stays.authentication, stays.sessions[1]]
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        registrations: [
          [gone.registration, null],
          [stays.registration, stays.sessions[0]]
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0])))
      })
      expect(yield* lookupOrThrow(kept.id)).toEqual(kept)
    }))

  test("delete(provider) is deleteById(provider.id); a missing provider is a RowsAffectedError and deletes nothing", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const provider = yield* addProvider()
      yield* seedDependents(provider.id, "p")
      const before = yield* remaining
      const missing = { ...provider, id: yield* generateUlid } as UpstreamOAuthProvider
      expect(yield* Effect.flip(upstreamOAuthProviders.delete(missing))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(upstreamOAuthProviders.deleteById(missing.id))).toMatchObject(noRowAffected)
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(provider.id).map((id) => [id, upstreamOAuthProviders.deleteById(id)] as const)
      )
      expect(yield* remaining).toEqual(before)
      yield* upstreamOAuthProviders.delete(provider)
      expect((yield* remaining).providers).toEqual([])
      expect((yield* remaining).sessions).toEqual([])
      expect((yield* remaining).links).toEqual([])
      expect(yield* Effect.flip(upstreamOAuthProviders.delete(provider))).toMatchObject(noRowAffected)
    }))

  test("list and count with the enabled filter", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const [a, , c] = yield* addClients("a", "b", "c", "d")
      yield* upstreamOAuthProviders.disable(a!)
      yield* upstreamOAuthProviders.disable(c!)
      expect(yield* clientIdsOf({})).toEqual(["a", "b", "c", "d"])
      expect(yield* clientIdsOf(Filters.all)).toEqual(["a", "b", "c", "d"])
      expect(yield* clientIdsOf(Filters.enabledOnly())).toEqual(["b", "d"])
      expect(yield* clientIdsOf(Filters.disabledOnly())).toEqual(["a", "c"])
      expect(yield* upstreamOAuthProviders.count(Filters.enabledOnly())).toBe(2)
      expect(yield* upstreamOAuthProviders.count(Filters.disabledOnly())).toBe(2)
      // re-enabled by upsert
      yield* upstreamOAuthProviders.upsert(a!.id, newProviderParams({ clientId: "a" }))
      expect(yield* clientIdsOf(Filters.enabledOnly())).toEqual(["a", "b", "d"])
      expect(yield* upstreamOAuthProviders.count({})).toBe(4)
    }))

  test("list pages forward and backward by id, with cursors, under a filter", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const added = yield* addClients("p0", "p1", "p2", "p3", "p4", "p5")
      yield* upstreamOAuthProviders.disable(added[2]!)
      const enabled = Filters.enabledOnly()
      const page1 = yield* upstreamOAuthProviders.list(enabled, first(2))
      expect(page1.edges.map((e) => e.node.clientId)).toEqual(["p0", "p1"])
      expect([page1.hasNextPage, page1.hasPreviousPage]).toEqual([true, false])
      const page2 = yield* upstreamOAuthProviders.list(enabled, first(2).withAfter(page1.edges[1]!.cursor))
      expect(page2.edges.map((e) => e.node.clientId)).toEqual(["p3", "p4"])
      expect([page2.hasNextPage, page2.hasPreviousPage]).toEqual([true, false])
      const page3 = yield* upstreamOAuthProviders.list(enabled, first(2).withAfter(page2.edges[1]!.cursor))
      expect(page3.edges.map((e) => e.node.clientId)).toEqual(["p5"])
      expect(page3.hasNextPage).toBe(false)
      const back = yield* upstreamOAuthProviders.list(enabled, last(2))
      expect(back.edges.map((e) => e.node.clientId)).toEqual(["p4", "p5"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      const back2 = yield* upstreamOAuthProviders.list(enabled, last(2).withBefore(back.edges[0]!.cursor))
      expect(back2.edges.map((e) => e.node.clientId)).toEqual(["p1", "p3"])
      expect(back2.hasPreviousPage).toBe(true)
      const between = yield* upstreamOAuthProviders.list({}, first(10).withAfter(added[0]!.id).withBefore(added[4]!.id))
      expect(between.edges.map((e) => e.node.clientId)).toEqual(["p1", "p2", "p3"])
      expect(between.edges[1]!.node).toEqual(yield* lookupOrThrow(added[2]!.id))
      const none = yield* upstreamOAuthProviders.list({}, first(0))
      expect([none.edges, none.hasNextPage]).toEqual([[], true])
      // cursors are read in either case; anything else that is not a ULID is refused
      const cursors = malformedIdsLike(added[0]!.id).filter((id) => id !== added[0]!.id.toLowerCase())
      yield* expectEachToFail(
        "InvalidOperationError",
        cursors.map((id) => [id, upstreamOAuthProviders.list({}, first(2).withAfter(id))] as const)
      )
    }))

  test("a filter criterion that is not a boolean is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      yield* addProvider()
      const bad = { enabled: "yes" } as unknown as UpstreamOAuthProviderFilter
      yield* expectEachToFail("InvalidOperationError", [
        ["list", upstreamOAuthProviders.list(bad, first(10))],
        ["count", upstreamOAuthProviders.count(bad)]
      ])
    }))

  test("parameters not of their type are an InvalidOperationError on add and upsert, and nothing is written", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const existing = yield* upstreamOAuthProviders.upsert(yield* generateUlid, fullParams())
      const lone = "\uD800"
      const bad: ReadonlyArray<readonly [string, Partial<UpstreamOAuthProviderParams>, string?]> = [
        ["relative jwks URI", { jwksUriOverride: Option.some(url("/jwks")) }, "jwksUriOverride"],
        ["authorization endpoint with a space", { authorizationEndpointOverride: Option.some(url("https://a b/")) }],
        ["token endpoint not a URL", { tokenEndpointOverride: Option.some(url("not a url")) }, "tokenEndpointOverride"],
        ["userinfo endpoint with a newline", { userinfoEndpointOverride: Option.some(url("https://a.example/\n")) }],
        ["empty URL", { jwksUriOverride: Option.some(url("")) }],
        ["issuer with a lone surrogate", { issuer: Option.some(`https://x${lone}/`) }, "issuer"],
        ["human name with a lone surrogate", { humanName: Option.some(lone) }, "humanName"],
        ["brand name with a lone surrogate", { brandName: Option.some(`a\uDC00`) }, "brandName"],
        ["client id with a lone surrogate", { clientId: `c${lone}` }, "clientId"],
        ["secret with a lone surrogate", { encryptedClientSecret: Option.some(lone) }, "encryptedClientSecret"],
        [
          "claim template with a lone surrogate",
          {
            claimsImports: new ClaimsImports({
              ...defaultClaimsImports(),
              email: new ImportPreference({ action: "force", template: Option.some(lone) })
            })
          },
          "claimsImports.email.template"
        ],
        [
          "parameter value with a lone surrogate",
          {
            additionalAuthorizationParameters: [
              ["ok", "fine"],
              ["k", lone]
            ]
          },
          "additionalAuthorizationParameters[1][1]"
        ],
        ["parameter name with a lone surrogate", { additionalAuthorizationParameters: [[lone, "v"]] }],
        ["fractional uiOrder", { uiOrder: 1.5 }, "uiOrder"],
        ["NaN uiOrder", { uiOrder: Number.NaN }],
        ["infinite uiOrder", { uiOrder: Number.POSITIVE_INFINITY }],
        ["uiOrder beyond INTEGER", { uiOrder: 2_147_483_648 }, "uiOrder"],
        ["uiOrder below INTEGER", { uiOrder: -2_147_483_649 }, "uiOrder"],
        ["uiOrder as text", { uiOrder: "1" as unknown as number }],
        ["unknown discovery mode", { discoveryMode: "magic" as never }],
        ["unknown PKCE mode", { pkceMode: "S256" as never }],
        ["unknown auth method", { tokenEndpointAuthMethod: "client_secret" as never }],
        ["unknown response mode", { responseMode: Option.some("fragment" as never) }],
        ["unknown backchannel behaviour", { onBackchannelLogout: "logout" as never }],
        ["unknown algorithm", { idTokenSignedResponseAlg: "RS257" as never }],
        ["unknown optional algorithm", { tokenEndpointSigningAlg: Option.some("rs256" as never) }],
        ["scope with a bad token", { scope: ["open id"] as never }],
        ["scope not sorted", { scope: ["openid", "email"] as never }],
        [
          "unknown import action",
          {
            // built without the constructor's validation, as a caller bypassing the types could
            claimsImports: new ClaimsImports(
              { ...defaultClaimsImports(), displayname: { action: "maybe", template: Option.none() } as never },
              true
            )
          }
        ],
        [
          "unknown conflict policy in a preference built without validation",
          {
            claimsImports: new ClaimsImports({
              ...defaultClaimsImports(),
              localpart: new LocalpartPreference(
                { action: "force", template: Option.none(), onConflict: "merge" as never },
                true
              )
            })
          },
          "claimsImports"
        ],
        ["claims imports not a document", { claimsImports: { localpart: "x" } as never }],
        ["claims imports missing", { claimsImports: undefined as never }],
        ["parameters not pairs", { additionalAuthorizationParameters: [["only-a-name"]] as never }],
        ["parameter value not text", { additionalAuthorizationParameters: [["n", 1]] as never }],
        ["parameters as an object", { additionalAuthorizationParameters: { prompt: "login" } as never }],
        ["client id not text", { clientId: 42 as never }],
        ["issuer not an Option", { issuer: "https://x.example/" as never }],
        ["fetchUserinfo not a boolean", { fetchUserinfo: "true" as never }]
      ]
      const attempts: Array<readonly [string, Effect.Effect<unknown, DatabaseError>, string?]> = []
      for (const [name, overrides, message] of bad) {
        attempts.push([`add: ${name}`, upstreamOAuthProviders.add(newProviderParams(overrides)), message])
        attempts.push([
          `upsert new: ${name}`,
          upstreamOAuthProviders.upsert(yield* generateUlid, newProviderParams(overrides)),
          message
        ])
        attempts.push([
          `upsert existing: ${name}`,
          upstreamOAuthProviders.upsert(existing.id, newProviderParams(overrides)),
          message
        ])
      }
      for (const id of malformedIdsLike(existing.id)) {
        attempts.push([`upsert with id ${JSON.stringify(id)}`, upstreamOAuthProviders.upsert(id, newProviderParams())])
      }
      yield* expectEachToFailWithoutWriting(dumpProviders, "InvalidOperationError", attempts)
      expect(yield* lookupOrThrow(existing.id)).toEqual(existing)
    }))

  test("NUL in text is refused as PostgreSQL refuses it (DriverError), in a column or inside a JSON document", () =>
    Effect.gen(function* () {
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const existing = yield* addProvider()
      const before = yield* dumpProviders
      const cases: ReadonlyArray<readonly [Partial<UpstreamOAuthProviderParams>, string]> = [
        [{ issuer: Option.some("https://x.example/\u0000") }, "22021"],
        [{ humanName: Option.some("a\u0000b") }, "22021"],
        [{ clientId: "\u0000" }, "22021"],
        [{ encryptedClientSecret: Option.some("s\u0000") }, "22021"],
        [
          {
            claimsImports: new ClaimsImports({
              ...defaultClaimsImports(),
              subject: new SubjectPreference({ template: Option.some("\u0000") })
            })
          },
          "22P05"
        ],
        [{ additionalAuthorizationParameters: [["n\u0000", "v"]] }, "22P05"]
      ]
      for (const [overrides, sqlState] of cases) {
        for (const attempt of [
          upstreamOAuthProviders.add(newProviderParams(overrides)),
          upstreamOAuthProviders.upsert(existing.id, newProviderParams(overrides))
        ]) {
          const error = yield* Effect.flip(attempt)
          expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some(sqlState) })
        }
      }
      expect(yield* dumpProviders).toEqual(before)
    }))

  test("stored rows that cannot be decoded are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const seed = yield* Seed
      const { upstreamOAuthProviders } = yield* RepositoryAccess
      const template = (yield* storedRow(yield* seedUpstreamProvider()))!
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ jwks_uri_override: "not a url" }, "jwks_uri_override"],
        [{ authorization_endpoint_override: "/authorize" }, "authorization_endpoint_override"],
        [{ token_endpoint_override: "" }, "token_endpoint_override"],
        [{ userinfo_endpoint_override: "userinfo" }, "userinfo_endpoint_override"],
        [{ scope_list: ["openid", "bad token"] }, "scope_list"],
        [{ id_token_signed_response_alg: "RS257" }, "id_token_signed_response_alg"],
        [{ userinfo_signed_response_alg: "rs256" }, "userinfo_signed_response_alg"],
        [{ token_endpoint_signing_alg: "XS256" }, "token_endpoint_signing_alg"],
        [{ claims_imports: { localpart: { action: "maybe" } } }, "claims_imports"],
        [{ claims_imports: { localpart: { on_conflict: "merge" } } }, "claims_imports"],
        [{ claims_imports: { subject: { template: 7 } } }, "claims_imports"],
        [{ claims_imports: ["not", "an", "object"] }, "claims_imports"],
        [{ additional_parameters: { prompt: "login" } }, "additional_parameters"],
        [{ additional_parameters: [["a", "b", "c"]] }, "additional_parameters"],
        [{ additional_parameters: [["a", 1]] }, "additional_parameters"]
      ]
      for (const [fields, column] of cases) {
        const id = yield* generateUlid
        yield* seed.insert(PROVIDERS, { ...template, upstream_oauth_provider_id: id, ...fields })
        const expected = {
          _tag: "InconsistencyError",
          table: PROVIDERS,
          column: Option.some(column),
          row: Option.some(id)
        }
        const result = yield* Effect.either(upstreamOAuthProviders.lookup(id))
        expect([column, fields, Either.isLeft(result)]).toEqual([column, fields, true])
        const error = Either.getLeft(result).pipe(Option.getOrThrow)
        expect(error).toMatchObject(expected)
        expect(error.message).toBe(`Database inconsistency on table ${PROVIDERS} column ${column} row ${id}`)
        expect(yield* Effect.flip(upstreamOAuthProviders.allEnabled())).toMatchObject(expected)
        expect(yield* Effect.flip(upstreamOAuthProviders.list({}, first(100)))).toMatchObject({
          _tag: "InconsistencyError"
        })
        // counting decodes no row
        expect(yield* upstreamOAuthProviders.count({})).toBe(2)
        // the planted row can still be deleted
        yield* upstreamOAuthProviders.deleteById(id)
      }
    }))
})
