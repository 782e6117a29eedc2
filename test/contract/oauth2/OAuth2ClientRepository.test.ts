// Contract suite for OAuth2ClientRepository: every method, the unique digest, the static upsert, the deletion with its dependents, filters, pages, refused input and impossible rows.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Client, ClientJwks, ClientJwksUri, type StaticClient } from "../../../src/model/oauth2/client.js"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import type { ClientAuthMethod, GrantType, Jwks, Url } from "../../../src/model/values.js"
import type { DatabaseError } from "../../../src/storage/common/errors.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import type { OAuth2ClientFilter } from "../../../src/storage/oauth2/OAuth2ClientRepository.js"
import { OAuth2ClientFilter as Filters } from "../../../src/storage/oauth2/OAuth2ClientRepository.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedOAuth2ClientRow } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike, noRowAffected } from "../refusals.js"
import {
  addBrowserSession,
  addUser,
  exchangedGrantColumns,
  newClient,
  seedAccessToken,
  seedAuthorizationGrantRow,
  seedDeviceCodeGrantRow,
  seedOAuth2Session,
  seedOAuth2SessionRow,
  seedRefreshTokenRow
} from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const url = (text: string) => text as Url
const second = Duration.seconds(1)

const CLIENTS = "oauth2_clients"
const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code" as const
const ALL_GRANTS: ReadonlyArray<GrantType> = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE]

const publicJwks = {
  keys: [
    {
      kty: "EC",
      crv: "P-256",
      x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    }
  ]
} as unknown as Jwks

/** A static client as the configuration declares one. */
const staticClient = (clientId: Ulid, fields: Partial<StaticClient> = {}): StaticClient => ({
  clientId,
  clientName: Option.none(),
  clientUri: Option.none(),
  clientAuthMethod: "client_secret_basic",
  encryptedClientSecret: Option.none(),
  jwks: Option.none(),
  jwksUri: Option.none(),
  redirectUris: [],
  ...fields
})

/** Registers dynamic clients one second apart (so their ids are in creation order), named as given. */
const addNamed = (...names: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { oauth2Clients } = yield* RepositoryAccess
    const added: Array<Client> = []
    for (const name of names) {
      added.push(yield* oauth2Clients.add(newClient({ clientName: Option.some(name) })))
      yield* TestClock.adjust(second)
    }
    return added
  })

/** The names of the listed clients (one page of 100) after checking that list and count agree. */
const namesOf = (filter: OAuth2ClientFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { oauth2Clients } = yield* RepositoryAccess
    const page = yield* oauth2Clients.list(filter, pagination)
    const count = yield* oauth2Clients.count(filter)
    if (!page.hasNextPage && !page.hasPreviousPage) expect(count).toBe(page.edges.length)
    for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.id)
    return page.edges.map((e) => Option.getOrElse(e.node.clientName, () => "?"))
  })

/** An oauth2_clients row planted as given over a consistent default, no grant type (for rows no method writes). */
const plantClient = (fields: Record<string, unknown> = {}) =>
  seedOAuth2ClientRow({ grant_type_authorization_code: false, grant_type_refresh_token: false, ...fields })

/** A finished OAuth2 session of `clientId` (seeded as a row). */
const seedFinishedSession = (clientId: Ulid) =>
  seedOAuth2SessionRow(clientId, { created_at: new Date(EPOCH), finished_at: new Date(EPOCH + 1000) })

const clientEntity = (id: Ulid) => ({ id }) as Client

/**
 * Everything that hangs on a client, seeded as rows: an authorization grant, a session (with an access and a refresh
 * token, a grant exchanged into it and a device-code grant), a device-code grant of the client, and a personal
 * session owned by the client with its access token. Returns the seeded ids by table.
 */
const seedDependents = (clientId: Ulid, tag: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const user = yield* addUser(`user-${tag}`)
    const browserSession = yield* addBrowserSession(user)
    const session = yield* seedOAuth2Session(clientEntity(clientId), { browserSession })
    const accessToken = yield* seedAccessToken(session, `access-${tag}`)
    const refreshId = yield* seedRefreshTokenRow(session.id, accessToken.id, `refresh-${tag}`)
    const exchanged = exchangedGrantColumns(browserSession.id, session.id, new Date(EPOCH))
    const pendingGrant = yield* seedAuthorizationGrantRow(clientId, {
      response_type_code: true,
      authorization_code: `code-${tag}-pending`
    })
    const exchangedGrant = yield* seedAuthorizationGrantRow(clientId, {
      response_type_code: true,
      authorization_code: `code-${tag}-exchanged`,
      ...exchanged
    })
    const pendingDeviceGrant = yield* seedDeviceCodeGrantRow(clientId)
    const exchangedDeviceGrant = yield* seedDeviceCodeGrantRow(clientId, exchanged)
    const personalId = yield* generateUlid
    yield* seed.insert("personal_sessions", {
      personal_session_id: personalId,
      owner_user_id: null,
      owner_oauth2_client_id: clientId,
      actor_user_id: user.id,
      human_name: `personal ${tag}`,
      scope_list: ["urn:matrix:client:api:*"],
      created_at: new Date(EPOCH),
      revoked_at: null,
      last_active_at: null,
      last_active_ip: null
    })
    const patId = yield* generateUlid
    yield* seed.insert("personal_access_tokens", {
      personal_access_token_id: patId,
      personal_session_id: personalId,
      access_token_sha256: new Uint8Array(32).fill(tag.charCodeAt(0)),
      created_at: new Date(EPOCH),
      expires_at: null,
      revoked_at: null
    })
    // A personal session the client's actor user owns: it does not hang on the client.
    const userOwnedId = yield* generateUlid
    yield* seed.insert("personal_sessions", {
      personal_session_id: userOwnedId,
      owner_user_id: user.id,
      owner_oauth2_client_id: null,
      actor_user_id: user.id,
      human_name: `user-owned ${tag}`,
      scope_list: [],
      created_at: new Date(EPOCH),
      revoked_at: null,
      last_active_at: null,
      last_active_ip: null
    })
    return {
      oauth2_authorization_grants: [pendingGrant, exchangedGrant],
      oauth2_sessions: [session.id],
      oauth2_access_tokens: [accessToken.id],
      oauth2_refresh_tokens: [refreshId],
      oauth2_device_code_grant: [pendingDeviceGrant, exchangedDeviceGrant],
      personal_sessions: [personalId],
      personal_access_tokens: [patId],
      userOwnedPersonalSession: userOwnedId
    }
  })

const DEPENDENT_TABLES = {
  oauth2_authorization_grants: "oauth2_authorization_grant_id",
  oauth2_sessions: "oauth2_session_id",
  oauth2_access_tokens: "oauth2_access_token_id",
  oauth2_refresh_tokens: "oauth2_refresh_token_id",
  oauth2_device_code_grant: "oauth2_device_code_grant_id",
  personal_sessions: "personal_session_id",
  personal_access_tokens: "personal_access_token_id",
  oauth2_clients: "oauth2_client_id"
} as const

/** The ids left in every table a client deletion touches. */
const remainingIds = Effect.gen(function* () {
  const seed = yield* Seed
  const out: Record<string, ReadonlyArray<unknown>> = {}
  for (const [table, idColumn] of Object.entries(DEPENDENT_TABLES)) {
    out[table] = (yield* seed.dump(table, idColumn)).map((row) => row[idColumn])
  }
  return out
})

const lookupOrThrow = (id: Ulid) =>
  Effect.flatMap(RepositoryAccess, (repos) => Effect.map(repos.oauth2Clients.lookup(id), Option.getOrThrow))

contract("OAuth2ClientRepository", (test) => {
  test("add registers a dynamic client with id from Clock and Random; lookup returns exactly what add returned", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const client = yield* oauth2Clients.add(
        newClient({
          metadataDigest: Option.some("0f3c0ffee"),
          encryptedClientSecret: Option.some("encrypted"),
          applicationType: Option.some("web"),
          redirectUris: [url("https://client.example.com/cb"), url("com.example.app:/callback")],
          grantTypes: ["authorization_code", "refresh_token"],
          clientName: Option.some("Élodie's app"),
          logoUri: Option.some(url("https://client.example.com/logo.png")),
          clientUri: Option.some(url("https://client.example.com/")),
          policyUri: Option.some(url("https://client.example.com/policy")),
          tosUri: Option.some(url("https://client.example.com/tos")),
          jwks: Option.some(new ClientJwksUri({ uri: url("https://client.example.com/jwks.json") })),
          idTokenSignedResponseAlg: Option.some("RS256"),
          userinfoSignedResponseAlg: Option.some("ES256"),
          tokenEndpointAuthMethod: Option.some("private_key_jwt"),
          tokenEndpointAuthSigningAlg: Option.some("PS512"),
          initiateLoginUri: Option.some(url("https://client.example.com/login"))
        })
      )
      expect(client.isStatic).toBe(false)
      expect(client.clientId).toBe(client.id)
      expect(client.metadataDigest).toEqual(Option.some("0f3c0ffee"))
      expect(client.grantTypes).toEqual(["authorization_code", "refresh_token"])
      expect(client.jwks).toEqual(Option.some(new ClientJwksUri({ uri: url("https://client.example.com/jwks.json") })))
      expect(client).toBeInstanceOf(Client)
      expect(yield* oauth2Clients.lookup(client.id)).toEqual(Option.some(client))
      expect(yield* oauth2Clients.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("add stores an inline key set and reads it back", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const client = yield* oauth2Clients.add(newClient({ jwks: Option.some(new ClientJwks({ jwks: publicJwks })) }))
      expect(client.jwks).toEqual(Option.some(new ClientJwks({ jwks: publicJwks })))
      const stored = yield* lookupOrThrow(client.id)
      expect(stored).toEqual(client)
      expect(Option.getOrThrow(stored.jwks)).toBeInstanceOf(ClientJwks)
    }))

  test("add stores URLs in their WHATWG form and grant types deduplicated in GrantType order, as lookup reads them", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const client = yield* oauth2Clients.add(
        newClient({
          redirectUris: [url("HTTPS://Client.Example.COM:443/a/../cb"), url("http://localhost:8080")],
          grantTypes: [DEVICE_CODE, "authorization_code", DEVICE_CODE, "client_credentials"],
          clientUri: Option.some(url("https://EXAMPLE.com")),
          jwks: Option.some(new ClientJwksUri({ uri: url("https://Keys.Example.com") }))
        })
      )
      expect(client.redirectUris).toEqual(["https://client.example.com/cb", "http://localhost:8080/"])
      expect(client.grantTypes).toEqual(["authorization_code", "client_credentials", DEVICE_CODE])
      expect(client.clientUri).toEqual(Option.some("https://example.com/"))
      expect(client.jwks).toEqual(Option.some(new ClientJwksUri({ uri: url("https://keys.example.com/") })))
      expect(yield* oauth2Clients.lookup(client.id)).toEqual(Option.some(client))
    }))

  test("grant types are read back from the four columns in GrantType order, whatever combination is stored", () =>
    Effect.gen(function* () {
      const combinations: ReadonlyArray<
        readonly [readonly [boolean, boolean, boolean, boolean], ReadonlyArray<GrantType>]
      > = [
        [[false, false, false, false], []],
        [
          [false, true, false, true],
          ["refresh_token", DEVICE_CODE]
        ],
        [
          [true, false, true, false],
          ["authorization_code", "client_credentials"]
        ],
        [[true, true, true, true], ALL_GRANTS]
      ]
      for (const [[a, r, c, d], expected] of combinations) {
        const id = yield* plantClient({
          grant_type_authorization_code: a,
          grant_type_refresh_token: r,
          grant_type_client_credentials: c,
          grant_type_device_code: d
        })
        expect((yield* lookupOrThrow(id)).grantTypes).toEqual(expected)
      }
    }))

  test("findByClientId reads the text as a ULID in either case and calls lookup; other text is none", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [client] = yield* addNamed("app")
      expect(yield* oauth2Clients.findByClientId(client!.clientId)).toEqual(Option.some(client))
      expect(yield* oauth2Clients.findByClientId(client!.clientId.toLowerCase())).toEqual(Option.some(client))
      for (const text of [
        "",
        "not-a-ulid",
        `${client!.id}0`,
        client!.id.slice(0, 25),
        `8${client!.id.slice(1)}`,
        `${client!.id.slice(0, 25)}U`,
        `${client!.id.slice(0, 25)}\u0000`,
        ` ${client!.id.slice(1)}`
      ]) {
        expect([text, yield* oauth2Clients.findByClientId(text)]).toEqual([text, Option.none()])
      }
      expect(yield* oauth2Clients.findByClientId(yield* generateUlid)).toEqual(Option.none())
    }))

  test("findByMetadataDigest matches the exact digest", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const a = yield* oauth2Clients.add(newClient({ metadataDigest: Option.some("digest-a") }))
      yield* oauth2Clients.add(newClient({ metadataDigest: Option.some("digest-b") }))
      yield* oauth2Clients.add(newClient())
      expect(yield* oauth2Clients.findByMetadataDigest("digest-a")).toEqual(Option.some(a))
      expect(yield* oauth2Clients.findByMetadataDigest("DIGEST-A")).toEqual(Option.none())
      expect(yield* oauth2Clients.findByMetadataDigest("digest")).toEqual(Option.none())
      expect(yield* oauth2Clients.findByMetadataDigest("")).toEqual(Option.none())
    }))

  test("a duplicate metadata digest is a RowsAffectedError that leaves the unit of work usable; it then commits", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [original, other] = yield* repos.transaction(
        Effect.gen(function* () {
          const original = yield* repos.oauth2Clients.add(
            newClient({ metadataDigest: Option.some("digest"), clientName: Option.some("first") })
          )
          const duplicate = yield* Effect.flip(
            repos.oauth2Clients.add(
              newClient({ metadataDigest: Option.some("digest"), clientName: Option.some("second") })
            )
          )
          expect(duplicate).toMatchObject(noRowAffected)
          // clients without a digest never collide
          yield* repos.oauth2Clients.add(newClient())
          const other = yield* repos.oauth2Clients.add(newClient())
          return [original, other] as const
        })
      )
      expect(yield* repos.oauth2Clients.count({})).toBe(3)
      expect(yield* repos.oauth2Clients.findByMetadataDigest("digest")).toEqual(Option.some(original))
      expect(yield* repos.oauth2Clients.lookup(other.id)).toEqual(Option.some(other))
    }))

  test("add refuses arguments that are not of their type with an InvalidOperationError, writing nothing", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const seed = yield* Seed
      const bad = <A>(value: A) => value as never
      const privateJwks = { keys: [{ kty: "RSA", n: "abc", e: "AQAB", d: "secret" }] }
      yield* expectEachToFail("InvalidOperationError", [
        ["relative redirect URI", oauth2Clients.add(newClient({ redirectUris: [url("/callback")] }))],
        ["redirect URI with NUL", oauth2Clients.add(newClient({ redirectUris: [url("https://a.example/\u0000")] }))],
        ["redirect URI with a space", oauth2Clients.add(newClient({ redirectUris: [url("https://a.example/ x")] }))],
        ["relative logo URI", oauth2Clients.add(newClient({ logoUri: Option.some(url("logo.png")) }))],
        ["empty client URI", oauth2Clients.add(newClient({ clientUri: Option.some(url("")) }))],
        ["relative policy URI", oauth2Clients.add(newClient({ policyUri: Option.some(url("policy")) }))],
        ["relative tos URI", oauth2Clients.add(newClient({ tosUri: Option.some(url("tos")) }))],
        ["relative login URI", oauth2Clients.add(newClient({ initiateLoginUri: Option.some(url("//x")) }))],
        [
          "relative key-set URI",
          oauth2Clients.add(newClient({ jwks: Option.some(bad({ _tag: "JwksUri", uri: "jwks.json" })) }))
        ],
        [
          "private key set",
          oauth2Clients.add(newClient({ jwks: Option.some(bad({ _tag: "Jwks", jwks: privateJwks })) }))
        ],
        ["unknown application type", oauth2Clients.add(newClient({ applicationType: Option.some(bad("desktop")) }))],
        ["unknown grant type", oauth2Clients.add(newClient({ grantTypes: [bad("implicit")] }))],
        [
          "unknown signing algorithm",
          oauth2Clients.add(newClient({ idTokenSignedResponseAlg: Option.some(bad("XX")) }))
        ],
        ["unknown auth method", oauth2Clients.add(newClient({ tokenEndpointAuthMethod: Option.some(bad("magic")) }))],
        ["digest over 255 bytes", oauth2Clients.add(newClient({ metadataDigest: Option.some("é".repeat(128)) }))],
        ["lone surrogate in the name", oauth2Clients.add(newClient({ clientName: Option.some("app\uD800") }))]
      ])
      // at the limit is accepted
      yield* oauth2Clients.add(newClient({ metadataDigest: Option.some("d".repeat(255)) }))
      expect(yield* seed.count(CLIENTS)).toBe(1)
    }))

  test("text holding NUL is a DriverError (22021) and a key set holding it one too (22P05); nothing is written", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const seed = yield* Seed
      for (const [params, sqlState] of [
        [newClient({ clientName: Option.some("a\u0000b") }), "22021"],
        [newClient({ metadataDigest: Option.some("d\u0000") }), "22021"],
        [newClient({ encryptedClientSecret: Option.some("\u0000") }), "22021"],
        [
          newClient({
            jwks: Option.some(new ClientJwks({ jwks: { keys: [{ kty: "EC", kid: "k\u0000" }] } as unknown as Jwks }))
          }),
          "22P05"
        ]
      ] as const) {
        const error = yield* Effect.flip(oauth2Clients.add(params))
        expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some(sqlState) })
      }
      for (const attempt of [
        oauth2Clients.findByMetadataDigest("a\u0000") as Effect.Effect<unknown, DatabaseError>,
        oauth2Clients.list({ clientName: "a\u0000" }, first(10)),
        oauth2Clients.count({ clientUri: "\u0000" }),
        oauth2Clients.upsertStatic(staticClient(yield* generateUlid, { clientName: Option.some("\u0000") }))
      ]) {
        expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
      }
      expect(yield* seed.count(CLIENTS)).toBe(0)
    }))

  test("a NUL refused inside a unit of work dooms it, as PostgreSQL does", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const seed = yield* Seed
      const result = yield* Effect.either(
        repos.transaction(
          Effect.gen(function* () {
            yield* repos.oauth2Clients.add(newClient())
            yield* Effect.ignore(repos.oauth2Clients.add(newClient({ clientName: Option.some("\u0000") })))
          })
        )
      )
      expect(Either.isLeft(result) && result.left._tag).toBe("DriverError")
      expect(yield* seed.count(CLIENTS)).toBe(0)
    }))

  test("malformed ids are refused by lookup, loadBatch and deleteById with an InvalidOperationError, nothing read or deleted", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [client] = yield* addNamed("app")
      const bad = malformedIdsLike(client!.id)
      yield* expectEachToFail(
        "InvalidOperationError",
        bad.flatMap((id) => [
          [`lookup ${id}`, oauth2Clients.lookup(id)] as const,
          [`loadBatch ${id}`, oauth2Clients.loadBatch(new Set([client!.id, id]))] as const,
          [`deleteById ${id}`, oauth2Clients.deleteById(id)] as const,
          [`delete ${id}`, oauth2Clients.delete(clientEntity(id))] as const
        ])
      )
      expect(yield* oauth2Clients.lookup(client!.id)).toEqual(Option.some(client))
    }))

  test("loadBatch maps the ids it found; missing ids are absent", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [a, b, c] = yield* addNamed("a", "b", "c")
      const missing = yield* generateUlid
      const found = yield* oauth2Clients.loadBatch(new Set([c!.id, missing, a!.id]))
      expect([...found.keys()].sort()).toEqual([a!.id, c!.id].sort())
      expect(found.get(a!.id)).toEqual(a)
      expect(found.get(c!.id)).toEqual(c)
      expect(found.has(b!.id)).toBe(false)
      expect(found.has(missing)).toBe(false)
      expect((yield* oauth2Clients.loadBatch(new Set())).size).toBe(0)
      expect((yield* oauth2Clients.loadBatch(new Set([missing]))).size).toBe(0)
    }))

  test("upsertStatic inserts a static client with all four grant types; lookup returns exactly what it returned", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const id = yield* generateUlid
      const client = yield* oauth2Clients.upsertStatic(
        staticClient(id, {
          clientName: Option.some("Static app"),
          clientUri: Option.some(url("https://Static.example.com")),
          clientAuthMethod: "client_secret_post",
          encryptedClientSecret: Option.some("sealed"),
          jwks: Option.some(publicJwks),
          redirectUris: [url("https://static.example.com/cb")]
        })
      )
      expect(client).toMatchObject({
        id,
        isStatic: true,
        grantTypes: ALL_GRANTS,
        clientName: Option.some("Static app"),
        clientUri: Option.some("https://static.example.com/"),
        tokenEndpointAuthMethod: Option.some("client_secret_post"),
        encryptedClientSecret: Option.some("sealed"),
        redirectUris: ["https://static.example.com/cb"],
        metadataDigest: Option.none(),
        applicationType: Option.none(),
        logoUri: Option.none()
      })
      expect(client.jwks).toEqual(Option.some(new ClientJwks({ jwks: publicJwks })))
      expect(yield* oauth2Clients.lookup(id)).toEqual(Option.some(client))
      expect(yield* oauth2Clients.findByClientId(id)).toEqual(Option.some(client))
    }))

  test("upsertStatic is idempotent: the same input twice gives the same row and the same client", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const seed = yield* Seed
      const params = staticClient(yield* generateUlid, {
        clientName: Option.some("Static"),
        jwksUri: Option.some(url("https://static.example.com/jwks")),
        redirectUris: [url("https://static.example.com/a"), url("https://static.example.com/b")]
      })
      const once = yield* oauth2Clients.upsertStatic(params)
      const rows = yield* seed.dump(CLIENTS, "oauth2_client_id")
      yield* TestClock.adjust(Duration.minutes(1))
      const twice = yield* oauth2Clients.upsertStatic(params)
      expect(twice).toEqual(once)
      expect(yield* seed.dump(CLIENTS, "oauth2_client_id")).toEqual(rows)
      expect(rows.length).toBe(1)
      expect(yield* oauth2Clients.lookup(params.clientId)).toEqual(Option.some(twice))
    }))

  test("upsertStatic overwrites the listed fields of an existing client and keeps every other column", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      // A client registered dynamically under the id the configuration now declares.
      const id = yield* plantClient({
        metadata_digest: "kept-digest",
        application_type: "native",
        redirect_uris: ["https://old.example.com/cb"],
        grant_type_refresh_token: true,
        client_name: "old name",
        logo_uri: "https://old.example.com/logo.png",
        client_uri: "https://old.example.com/",
        jwks: publicJwks,
        id_token_signed_response_alg: "ES256",
        token_endpoint_auth_method: "none",
        initiate_login_uri: "https://old.example.com/login"
      })
      const client = yield* oauth2Clients.upsertStatic(
        staticClient(id, {
          clientName: Option.some("new name"),
          clientAuthMethod: "private_key_jwt",
          jwksUri: Option.some(url("https://new.example.com/jwks")),
          redirectUris: [url("https://new.example.com/cb")]
        })
      )
      expect(client).toMatchObject({
        id,
        isStatic: true,
        grantTypes: ALL_GRANTS,
        clientName: Option.some("new name"),
        clientUri: Option.none(),
        tokenEndpointAuthMethod: Option.some("private_key_jwt"),
        redirectUris: ["https://new.example.com/cb"],
        // not listed: kept
        metadataDigest: Option.some("kept-digest"),
        applicationType: Option.some("native"),
        logoUri: Option.some("https://old.example.com/logo.png"),
        idTokenSignedResponseAlg: Option.some("ES256"),
        initiateLoginUri: Option.some("https://old.example.com/login")
      })
      // the inline key set is replaced by the URI (both columns are listed)
      expect(client.jwks).toEqual(Option.some(new ClientJwksUri({ uri: url("https://new.example.com/jwks") })))
      expect(yield* oauth2Clients.lookup(id)).toEqual(Option.some(client))
      // and back to nothing
      const cleared = yield* oauth2Clients.upsertStatic(staticClient(id))
      expect(cleared.jwks).toEqual(Option.none())
      expect(cleared.clientName).toEqual(Option.none())
      expect(cleared.redirectUris).toEqual([])
      expect(yield* oauth2Clients.lookup(id)).toEqual(Option.some(cleared))
    }))

  test("upsertStatic refuses both jwks and jwksUri, and arguments not of their type, writing nothing", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const seed = yield* Seed
      const existing = yield* oauth2Clients.upsertStatic(
        staticClient(yield* generateUlid, { clientName: Option.some("x") })
      )
      const before = yield* seed.dump(CLIENTS, "oauth2_client_id")
      const id = yield* generateUlid
      yield* expectEachToFail("InvalidOperationError", [
        [
          "both key forms",
          oauth2Clients.upsertStatic(
            staticClient(existing.id, {
              jwks: Option.some(publicJwks),
              jwksUri: Option.some(url("https://static.example.com/jwks"))
            })
          ),
          "not both"
        ],
        ["relative redirect", oauth2Clients.upsertStatic(staticClient(id, { redirectUris: [url("cb")] }))],
        ["relative client URI", oauth2Clients.upsertStatic(staticClient(id, { clientUri: Option.some(url("x")) }))],
        ["relative jwks URI", oauth2Clients.upsertStatic(staticClient(id, { jwksUri: Option.some(url("x")) }))],
        [
          "private key set",
          oauth2Clients.upsertStatic(
            staticClient(id, { jwks: Option.some({ keys: [{ kty: "oct", k: "secret" }] } as unknown as Jwks) })
          )
        ],
        [
          "unknown auth method",
          oauth2Clients.upsertStatic(staticClient(id, { clientAuthMethod: "magic" as ClientAuthMethod }))
        ],
        ...malformedIdsLike(id).map((bad) => [`id ${bad}`, oauth2Clients.upsertStatic(staticClient(bad))] as const)
      ])
      expect(yield* seed.dump(CLIENTS, "oauth2_client_id")).toEqual(before)
    }))

  test("allStatic lists the static clients in id order", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const ids: Array<Ulid> = []
      for (let i = 0; i < 3; i++) {
        ids.push(yield* generateUlid)
        yield* TestClock.adjust(second)
      }
      // upserted out of id order, between dynamic registrations
      for (const i of [2, 0, 1]) {
        yield* oauth2Clients.add(newClient({ clientName: Option.some(`dynamic ${i}`) }))
        yield* oauth2Clients.upsertStatic(staticClient(ids[i]!, { clientName: Option.some(`static ${i}`) }))
      }
      const all = yield* oauth2Clients.allStatic()
      expect(all.map((c) => c.id)).toEqual(ids)
      expect(all.map((c) => c.clientName)).toEqual([0, 1, 2].map((i) => Option.some(`static ${i}`)))
      for (const c of all) expect(yield* oauth2Clients.lookup(c.id)).toEqual(Option.some(c))
    }))

  test("deleteById deletes the client with its grants, its sessions' tokens, its sessions and the personal sessions it owns; other clients' rows stay", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [doomed, kept] = yield* addNamed("doomed", "kept")
      const gone = yield* seedDependents(doomed!.id, "d")
      const staying = yield* seedDependents(kept!.id, "k")
      // A refresh token of the kept client pointing at the doomed client's tokens: its pointers are cleared, as the
      // foreign keys say, on both backends.
      const seed = yield* Seed
      const pointing = yield* seedRefreshTokenRow(
        staying.oauth2_sessions[0]!,
        gone.oauth2_access_tokens[0]!,
        "pointing",
        {
          consumed_at: new Date(EPOCH),
          next_oauth2_refresh_token_id: gone.oauth2_refresh_tokens[0]
        }
      )
      staying.oauth2_refresh_tokens.push(pointing)
      yield* oauth2Clients.deleteById(doomed!.id)
      const left = yield* remainingIds
      for (const table of Object.keys(DEPENDENT_TABLES)) {
        if (table === CLIENTS) continue
        const key = table as Exclude<keyof typeof gone, "userOwnedPersonalSession">
        const expected =
          table === "personal_sessions"
            ? [...staying[key], gone.userOwnedPersonalSession, staying.userOwnedPersonalSession].sort()
            : [...staying[key]].sort()
        expect([table, [...left[table]!].sort()]).toEqual([table, expected])
      }
      expect(left[CLIENTS]).toEqual([kept!.id])
      expect(yield* oauth2Clients.lookup(doomed!.id)).toEqual(Option.none())
      expect(yield* oauth2Clients.lookup(kept!.id)).toEqual(Option.some(kept))
      expect(yield* seed.count("users")).toBe(2)
      const pointer = (yield* seed.dump("oauth2_refresh_tokens", "oauth2_refresh_token_id")).find(
        (r) => r.oauth2_refresh_token_id === pointing
      )
      expect(pointer).toMatchObject({ oauth2_access_token_id: null, next_oauth2_refresh_token_id: null })
    }))

  test("delete(client) is deleteById(client.id)", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [a, b] = yield* addNamed("a", "b")
      yield* seedDependents(a!.id, "a")
      yield* oauth2Clients.delete(a!)
      expect((yield* oauth2Clients.list({}, first(10))).nodes).toEqual([b])
      expect((yield* remainingIds)["oauth2_sessions"]).toEqual([])
    }))

  test("deleting a missing client is a RowsAffectedError, deletes nothing, and leaves the unit of work usable", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [client] = yield* addNamed("app")
      yield* seedDependents(client!.id, "a")
      const before = yield* remainingIds
      const ghost = yield* generateUlid
      const added = yield* repos.transaction(
        Effect.gen(function* () {
          expect(yield* Effect.flip(repos.oauth2Clients.deleteById(ghost))).toMatchObject(noRowAffected)
          expect(yield* Effect.flip(repos.oauth2Clients.delete(clientEntity(ghost)))).toMatchObject({
            _tag: "RowsAffectedError"
          })
          return yield* repos.oauth2Clients.add(newClient({ clientName: Option.some("after") }))
        })
      )
      const after = yield* remainingIds
      expect({ ...after, oauth2_clients: after[CLIENTS]!.filter((id) => id !== added.id) }).toEqual(before)
      // a second deletion of the same client finds nothing
      yield* repos.oauth2Clients.deleteById(client!.id)
      expect(yield* Effect.flip(repos.oauth2Clients.deleteById(client!.id))).toMatchObject({
        _tag: "RowsAffectedError"
      })
    }))

  test("a deletion inside a unit of work that fails later is rolled back whole", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const [client] = yield* addNamed("app")
      yield* seedDependents(client!.id, "a")
      const before = yield* remainingIds
      const result = yield* Effect.either(
        repos.transaction(Effect.zipRight(repos.oauth2Clients.deleteById(client!.id), Effect.fail("later")))
      )
      expect(result).toEqual(Either.left("later"))
      expect(yield* remainingIds).toEqual(before)
    }))

  test("list and count: every criterion alone", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [withActive, withFinished] = yield* addNamed("Active App", "Finished App", "Lonely")
      // the static client's id comes after the three above, the last client's after it
      yield* oauth2Clients.upsertStatic(
        staticClient(yield* generateUlid, {
          clientName: Option.some("Static App"),
          clientUri: Option.some(url("https://static.example.com"))
        })
      )
      yield* TestClock.adjust(second)
      yield* oauth2Clients.add(
        newClient({
          clientName: Option.some("Device"),
          clientUri: Option.some(url("https://DEVICE.example.org/home")),
          grantTypes: [DEVICE_CODE, "client_credentials"]
        })
      )
      const user = yield* addUser("alice")
      yield* seedOAuth2Session(withActive!, { user })
      yield* seedFinishedSession(withActive!.id)
      yield* seedFinishedSession(withFinished!.id)

      const all = ["Active App", "Finished App", "Lonely", "Static App", "Device"]
      expect(yield* namesOf({})).toEqual(all)
      expect(yield* namesOf(Filters.all)).toEqual(all)
      expect(yield* namesOf(Filters.onlyStaticClients())).toEqual(["Static App"])
      expect(yield* namesOf({ kind: "dynamic" })).toEqual(["Active App", "Finished App", "Lonely", "Device"])
      expect(yield* namesOf(Filters.onlyDynamicClients())).toEqual(["Active App", "Finished App", "Lonely", "Device"])
      expect(yield* namesOf(Filters.matchingClientName("app"))).toEqual(["Active App", "Finished App", "Static App"])
      expect(yield* namesOf({ clientName: "LONE" })).toEqual(["Lonely"])
      expect(yield* namesOf({ clientName: "nobody" })).toEqual([])
      expect(yield* namesOf(Filters.matchingClientUri("example"))).toEqual(["Static App", "Device"])
      expect(yield* namesOf({ clientUri: "device.EXAMPLE.org/HOME" })).toEqual(["Device"])
      expect(yield* namesOf(Filters.withGrantType("authorization_code"))).toEqual(["Static App"])
      expect(yield* namesOf({ grantType: "refresh_token" })).toEqual(["Static App"])
      expect(yield* namesOf({ grantType: "client_credentials" })).toEqual(["Static App", "Device"])
      expect(yield* namesOf({ grantType: DEVICE_CODE })).toEqual(["Static App", "Device"])
      // a grant type without a column of its own matches nothing, as in MAS
      expect(yield* namesOf({ grantType: "implicit" as GrantType })).toEqual([])
      expect(yield* namesOf(Filters.withActiveSessions(true))).toEqual(["Active App"])
      expect(yield* namesOf({ hasActiveSessions: false })).toEqual(["Finished App", "Lonely", "Static App", "Device"])
    }))

  test("list and count: criteria combined must all hold", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const clients: Array<Client> = []
      for (const [name, uri, grants] of [
        ["alpha one", "https://one.example.com", ["client_credentials"]],
        ["alpha two", "https://two.example.com", ["client_credentials", "authorization_code"]],
        ["beta one", "https://one.example.com", ["client_credentials"]],
        ["alpha three", "https://one.example.com", ["authorization_code"]]
      ] as const) {
        clients.push(
          yield* oauth2Clients.add(
            newClient({ clientName: Option.some(name), clientUri: Option.some(url(uri)), grantTypes: grants })
          )
        )
        yield* TestClock.adjust(second)
      }
      const [alphaOne, alphaTwo, betaOne] = clients
      yield* oauth2Clients.upsertStatic(staticClient(yield* generateUlid, { clientName: Option.some("alpha static") }))
      // alpha one: an active and a finished session; alpha two: a finished one; beta one: an active one
      yield* seedOAuth2Session(alphaOne!)
      yield* seedFinishedSession(alphaOne!.id)
      yield* seedFinishedSession(alphaTwo!.id)
      yield* seedOAuth2Session(betaOne!)

      expect(yield* namesOf({ clientName: "alpha", grantType: "client_credentials" })).toEqual([
        "alpha one",
        "alpha two",
        "alpha static"
      ])
      expect(
        yield* namesOf({ clientName: "alpha", clientUri: "one.", grantType: "client_credentials", kind: "dynamic" })
      ).toEqual(["alpha one"])
      expect(yield* namesOf({ clientName: "alpha", kind: "static" })).toEqual(["alpha static"])
      expect(yield* namesOf({ clientName: "alpha", kind: "static", grantType: "client_credentials" })).toEqual([
        "alpha static"
      ])
      expect(yield* namesOf({ kind: "static", hasActiveSessions: true })).toEqual([])
      expect(yield* namesOf({ clientName: "one", hasActiveSessions: true, grantType: "client_credentials" })).toEqual([
        "alpha one",
        "beta one"
      ])
      expect(
        yield* namesOf(
          Filters.withActiveSessions(false, Filters.matchingClientUri("two", Filters.onlyDynamicClients()))
        )
      ).toEqual(["alpha two"])
      expect(yield* namesOf({ hasActiveSessions: false, clientName: "alpha" })).toEqual([
        "alpha two",
        "alpha three",
        "alpha static"
      ])
      expect(yield* namesOf({ hasActiveSessions: true, grantType: "authorization_code", kind: "dynamic" })).toEqual([])
      expect(yield* namesOf({ hasActiveSessions: true, clientUri: "ONE.EXAMPLE" })).toEqual(["alpha one", "beta one"])
    }))

  test("name and URI searches are case-insensitive substrings taken literally: %, _ and \\ are not wildcards", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      for (const [name, uri] of [
        ["100% app", "https://a.example.com/100%25"],
        ["100 percent app", "https://a.example.com/100x25"],
        ["a_b", "https://a.example.com/a_b"],
        ["axb", "https://a.example.com/axb"],
        ["back\\slash", "https://a.example.com/back\\slash"],
        ["backslash", "https://a.example.com/backslash"],
        ["ÉLODIE", "https://a.example.com/%C3%89"]
      ] as const) {
        yield* oauth2Clients.add(newClient({ clientName: Option.some(name), clientUri: Option.some(url(uri)) }))
        yield* TestClock.adjust(second)
      }
      expect(yield* namesOf({ clientName: "100%" })).toEqual(["100% app"])
      expect(yield* namesOf({ clientName: "%" })).toEqual(["100% app"])
      expect(yield* namesOf({ clientName: "a_b" })).toEqual(["a_b"])
      expect(yield* namesOf({ clientName: "_" })).toEqual(["a_b"])
      expect(yield* namesOf({ clientName: "\\" })).toEqual(["back\\slash"])
      expect(yield* namesOf({ clientName: "élodie" })).toEqual(["ÉLODIE"])
      expect(yield* namesOf({ clientName: "" })).toEqual([
        "100% app",
        "100 percent app",
        "a_b",
        "axb",
        "back\\slash",
        "backslash",
        "ÉLODIE"
      ])
      expect(yield* namesOf({ clientUri: "100%25" })).toEqual(["100% app"])
      expect(yield* namesOf({ clientUri: "/A_B" })).toEqual(["a_b"])
      // the WHATWG form percent-encodes a backslash in the path as a slash: nothing holds one
      expect(yield* namesOf({ clientUri: "\\" })).toEqual([])
      expect(yield* namesOf({ clientUri: "%c3%89" })).toEqual(["ÉLODIE"])
    }))

  test("pagination: forward and backward pages, cursors, and the edges", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const clients = yield* addNamed("a", "b", "c", "d", "e")
      const ids = clients.map((c) => c.id)

      const p1 = yield* oauth2Clients.list({}, first(2))
      expect(p1.nodes.map((c) => c.clientName)).toEqual([Option.some("a"), Option.some("b")])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      const p2 = yield* oauth2Clients.list({}, first(2).withAfter(p1.cursors[1]!))
      expect(p2.cursors).toEqual(ids.slice(2, 4))
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      const p3 = yield* oauth2Clients.list({}, first(2).withAfter(p2.cursors[1]!))
      expect(p3.cursors).toEqual(ids.slice(4))
      expect([p3.hasNextPage, p3.hasPreviousPage]).toEqual([false, false])
      // exactly the remaining count is not full
      const exact = yield* oauth2Clients.list({}, first(5))
      expect([exact.edges.length, exact.hasNextPage]).toEqual([5, false])

      const b1 = yield* oauth2Clients.list({}, last(2))
      expect(b1.cursors).toEqual(ids.slice(3))
      expect([b1.hasNextPage, b1.hasPreviousPage]).toEqual([false, true])
      const b2 = yield* oauth2Clients.list({}, last(10).withBefore(ids[3]!))
      expect(b2.cursors).toEqual(ids.slice(0, 3))
      expect([b2.hasNextPage, b2.hasPreviousPage]).toEqual([false, false])

      const between = yield* oauth2Clients.list({}, first(10).withAfter(ids[0]!).withBefore(ids[4]!))
      expect(between.cursors).toEqual(ids.slice(1, 4))
      const none = yield* oauth2Clients.list({}, first(10).withAfter(ids[4]!))
      expect([none.edges.length, none.hasNextPage]).toEqual([0, false])
      const zero = yield* oauth2Clients.list({}, first(0))
      expect([zero.edges.length, zero.hasNextPage]).toEqual([0, true])
      const zeroBack = yield* oauth2Clients.list({}, last(0))
      expect([zeroBack.edges.length, zeroBack.hasPreviousPage]).toEqual([0, true])
      // a lowercase cursor reads as its canonical form
      const lower = yield* oauth2Clients.list({}, first(1).withAfter(ids[0]!.toLowerCase() as Ulid))
      expect(lower.cursors).toEqual([ids[1]])
      // filtered pages
      const filtered = yield* oauth2Clients.list({ clientName: "c" }, last(1))
      expect([filtered.cursors, filtered.hasPreviousPage]).toEqual([[ids[2]], false])
      expect(yield* oauth2Clients.count({})).toBe(5)
    }))

  test("bad filters and cursors are refused with an InvalidOperationError before anything is read", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const [client] = yield* addNamed("app")
      yield* expectEachToFail("InvalidOperationError", [
        ["lone surrogate in name", oauth2Clients.list({ clientName: "\uDC00" }, first(1))],
        ["lone surrogate in uri", oauth2Clients.count({ clientUri: "a\uD800" })],
        ["unknown kind", oauth2Clients.list({ kind: "other" as "static" }, first(1))],
        ["unknown kind (count)", oauth2Clients.count({ kind: "other" as "static" })],
        ...malformedIdsLike(client!.id)
          .filter((id) => id !== client!.id.toLowerCase())
          .map((id) => [`cursor ${id}`, oauth2Clients.list({}, first(1).withAfter(id))] as const),
        ["lone surrogate in digest", oauth2Clients.findByMetadataDigest("\uD800")]
      ])
    }))

  test("stored rows that cannot be decoded are an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { oauth2Clients } = yield* RepositoryAccess
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ jwks: publicJwks, jwks_uri: "https://x.example.com/jwks" }, "jwks_uri"],
        [{ jwks: { keys: [{ kty: "RSA", d: "private" }] } }, "jwks"],
        [{ jwks: { keys: "none" } }, "jwks"],
        [{ jwks_uri: "not a url" }, "jwks_uri"],
        [{ redirect_uris: ["https://ok.example.com/", "relative/cb"] }, "redirect_uris"],
        [{ logo_uri: "logo.png" }, "logo_uri"],
        [{ client_uri: "" }, "client_uri"],
        [{ policy_uri: "/policy" }, "policy_uri"],
        [{ tos_uri: "tos" }, "tos_uri"],
        [{ initiate_login_uri: "login" }, "initiate_login_uri"],
        [{ id_token_signed_response_alg: "XX999" }, "id_token_signed_response_alg"],
        [{ userinfo_signed_response_alg: "rs256" }, "userinfo_signed_response_alg"],
        [{ token_endpoint_auth_signing_alg: "HS1" }, "token_endpoint_auth_signing_alg"]
      ]
      for (const [fields, column] of cases) {
        const id = yield* plantClient({ ...fields, is_static: true })
        const expected = {
          _tag: "InconsistencyError",
          table: CLIENTS,
          column: Option.some(column),
          row: Option.some(id)
        }
        const error = yield* Effect.flip(oauth2Clients.lookup(id))
        expect(error).toMatchObject(expected)
        expect(error.message).toBe(`Database inconsistency on table ${CLIENTS} column ${column} row ${id}`)
        expect(yield* Effect.flip(oauth2Clients.findByClientId(id))).toMatchObject(expected)
        expect(yield* Effect.flip(oauth2Clients.loadBatch(new Set([id])))).toMatchObject(expected)
        expect(yield* Effect.flip(oauth2Clients.allStatic())).toMatchObject(expected)
        expect(yield* Effect.flip(oauth2Clients.list({}, first(100)))).toMatchObject({ _tag: "InconsistencyError" })
        // counting decodes no row
        expect(yield* oauth2Clients.count({})).toBeGreaterThan(0)
        // the planted row can still be deleted
        yield* oauth2Clients.deleteById(id)
      }
      // a consistent planted row with an inline key set decodes
      const ok = yield* plantClient({
        jwks: publicJwks,
        application_type: "native",
        token_endpoint_auth_method: "none"
      })
      const decoded = yield* lookupOrThrow(ok)
      expect(decoded.jwks).toEqual(Option.some(new ClientJwks({ jwks: publicJwks })))
      expect(decoded.applicationType).toEqual(Option.some("native"))
    }))
})
