// The authorization-code flow end to end across the OAuth2 repositories, in one unit of work, on every backend: the
// same steps leave the same rows everywhere.
import { expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, TestClock, TestContext } from "effect"
import { AuthorizationCode } from "../../../src/model/oauth2/authorizationGrant.js"
import { maxUlidAt, type Ulid } from "../../../src/model/Ulid.js"
import { Pkce, type Url } from "../../../src/model/values.js"
import { now } from "../../../src/storage/common/time.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { backends, deterministic } from "../backends.js"
import { newClient, scope } from "./fixtures.js"

const url = (text: string) => text as Url

/** The tables the flow touches, with their primary keys. */
const TABLES = [
  ["users", "user_id"],
  ["user_sessions", "user_session_id"],
  ["oauth2_clients", "oauth2_client_id"],
  ["oauth2_authorization_grants", "oauth2_authorization_grant_id"],
  ["oauth2_sessions", "oauth2_session_id"],
  ["oauth2_access_tokens", "oauth2_access_token_id"],
  ["oauth2_refresh_tokens", "oauth2_refresh_token_id"]
] as const

const dumpAll = Effect.gen(function* () {
  const seed = yield* Seed
  const dump: Record<string, ReadonlyArray<unknown>> = {}
  for (const [table, id] of TABLES) dump[table] = yield* seed.dump(table, id)
  return dump
})

const tick = TestClock.adjust(Duration.seconds(1))

/**
 * Register a client, add a grant, fulfil it from a browser session, exchange it for a session, issue an access and a
 * refresh token, rotate the refresh token twice, revoke, clean up: one unit of work. Returns the rows after the
 * rotations and after the clean-up, and what the steps returned that the test checks.
 */
const flow = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  return yield* repos.transaction(
    Effect.gen(function* () {
      const user = yield* repos.users.add("alice")
      const browserSession = yield* repos.browserSessions.add(user, Option.some("Firefox"))
      const client = yield* repos.oauth2Clients.add(
        newClient({
          metadataDigest: Option.some("digest-of-the-registration"),
          applicationType: Option.some("web"),
          redirectUris: [url("https://app.example.com/callback")],
          grantTypes: ["authorization_code", "refresh_token"],
          clientName: Option.some("Example app"),
          clientUri: Option.some(url("https://app.example.com/")),
          tokenEndpointAuthMethod: Option.some("none")
        })
      )
      yield* tick

      const requested = scope("openid", "urn:matrix:client:api:*", "urn:matrix:client:device:ABCDEFGH")
      const grant = yield* repos.oauth2AuthorizationGrants.add({
        client,
        code: Option.some(
          new AuthorizationCode({
            code: "the-authorization-code",
            pkce: Option.some(
              new Pkce({ challengeMethod: "S256", challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" })
            )
          })
        ),
        redirectUri: url("https://app.example.com/callback"),
        scope: requested,
        state: Option.some("xyz"),
        nonce: Option.none(),
        responseMode: "query",
        responseTypeIdToken: false,
        loginHint: Option.none(),
        locale: Option.some("en"),
        rawParameters: new Map([
          ["client_id", client.clientId],
          ["response_type", "code"]
        ])
      })
      yield* tick
      const fulfilled = yield* repos.oauth2AuthorizationGrants.fulfill(browserSession, grant)
      yield* tick

      // The token endpoint: the code is looked up, exchanged for a session, and the first tokens are issued.
      const found = Option.getOrThrow(yield* repos.oauth2AuthorizationGrants.findByCode("the-authorization-code"))
      const session = yield* repos.oauth2Sessions.addFromBrowserSession(client, browserSession, found.scope)
      const exchanged = yield* repos.oauth2AuthorizationGrants.exchange(fulfilled, session)
      let accessToken = yield* repos.oauth2AccessTokens.add(session, "access-1", Option.some(Duration.minutes(5)))
      let refreshToken = yield* repos.oauth2RefreshTokens.add(session, accessToken, "refresh-1")

      // Two rotations: a new pair, the old refresh token consumed by the new one, the old access token revoked.
      for (const n of [2, 3]) {
        yield* tick
        const presented = Option.getOrThrow(yield* repos.oauth2RefreshTokens.findByToken(`refresh-${n - 1}`))
        const nextAccess = yield* repos.oauth2AccessTokens.add(session, `access-${n}`, Option.some(Duration.minutes(5)))
        const nextRefresh = yield* repos.oauth2RefreshTokens.add(session, nextAccess, `refresh-${n}`)
        yield* repos.oauth2RefreshTokens.consume(presented, nextRefresh)
        yield* repos.oauth2AccessTokens.revoke(accessToken)
        accessToken = nextAccess
        refreshToken = nextRefresh
      }
      const afterRotation = yield* dumpAll

      // The user signs out of the client: the last tokens are revoked and the session finished.
      yield* tick
      const revokedAccess = yield* repos.oauth2AccessTokens.revoke(accessToken)
      const revokedRefresh = yield* repos.oauth2RefreshTokens.revoke(refreshToken)
      const finished = yield* repos.oauth2Sessions.finish(session)
      yield* tick

      // Clean-up jobs, each run to the end in batches of one.
      const until = yield* now
      const runToEnd = <K>(
        round: (since: Option.Option<K>) => Effect.Effect<readonly [number, Option.Option<K>], unknown>
      ) =>
        Effect.gen(function* () {
          let since = Option.none<K>()
          let total = 0
          for (;;) {
            const [count, last] = yield* round(since)
            total += count
            if (count < 1) return total
            since = last
          }
        })
      const cleaned = {
        // revoked first: deleting refresh-3 clears refresh-2's successor, which lets refresh-2 go as consumed
        refreshRevoked: yield* runToEnd<Date>((since) => repos.oauth2RefreshTokens.cleanupRevoked(since, until, 1)),
        refreshConsumed: yield* runToEnd<Date>((since) => repos.oauth2RefreshTokens.cleanupConsumed(since, until, 1)),
        accessRevoked: yield* runToEnd<Date>((since) => repos.oauth2AccessTokens.cleanupRevoked(since, until, 1)),
        grants: yield* runToEnd<Ulid>((since) => repos.oauth2AuthorizationGrants.cleanup(since, maxUlidAt(until), 1)),
        sessions: yield* runToEnd<Date>((since) => repos.oauth2Sessions.cleanupFinished(since, until, 1))
      }
      const afterCleanup = yield* dumpAll
      return { exchanged, revokedAccess, revokedRefresh, finished, cleaned, afterRotation, afterCleanup }
    })
  )
})

const layers: ReadonlyArray<readonly [string, () => Layer.Layer<RepositoryAccess | Seed, unknown>]> = backends.map(
  (b) => [b.name, b.layers()] as const
)

it.effect(
  "the authorization-code flow leaves the same rows on every backend",
  () =>
    Effect.gen(function* () {
      const results: Array<readonly [string, Effect.Effect.Success<typeof flow>]> = []
      for (const [name, layer] of layers) {
        // each backend from the same clock and seed, so the ids and times are the same everywhere
        const result = yield* deterministic(flow).pipe(Effect.provide(layer()), Effect.provide(TestContext.TestContext))
        results.push([name, result])
      }
      const [[, first], ...rest] = results as [(typeof results)[number], ...typeof results]

      expect(first.exchanged.stage._tag).toBe("Exchanged")
      expect(first.revokedAccess.state._tag).toBe("Revoked")
      expect(first.revokedRefresh.state._tag).toBe("Revoked")
      expect(first.finished.state._tag).toBe("Finished")

      // After the rotations: three pairs; refresh-1 and refresh-2 consumed, each pointing at its successor.
      const rotated = first.afterRotation as Record<string, ReadonlyArray<Record<string, unknown>>>
      expect(rotated.oauth2_access_tokens!.map((t) => [t.access_token, t.revoked_at !== null])).toEqual([
        ["access-1", true],
        ["access-2", true],
        ["access-3", false]
      ])
      const refresh = rotated.oauth2_refresh_tokens!
      expect(refresh.map((t) => t.refresh_token)).toEqual(["refresh-1", "refresh-2", "refresh-3"])
      expect(refresh.map((t) => t.next_oauth2_refresh_token_id)).toEqual([
        refresh[1]!.oauth2_refresh_token_id,
        refresh[2]!.oauth2_refresh_token_id,
        null
      ])
      expect(rotated.oauth2_authorization_grants).toHaveLength(1)

      // The clean-up removed every token, the grant and the finished session; the client, user and browser session stay.
      expect(first.cleaned).toEqual({ refreshRevoked: 1, refreshConsumed: 2, accessRevoked: 3, grants: 1, sessions: 1 })
      const left = first.afterCleanup as Record<string, ReadonlyArray<unknown>>
      expect(Object.fromEntries(Object.entries(left).map(([table, rows]) => [table, rows.length]))).toEqual({
        users: 1,
        user_sessions: 1,
        oauth2_clients: 1,
        oauth2_authorization_grants: 0,
        oauth2_sessions: 0,
        oauth2_access_tokens: 0,
        oauth2_refresh_tokens: 0
      })

      // Every backend: the same entities returned and the same rows, at both points.
      for (const [name, result] of rest) {
        expect([name, result]).toEqual([name, first])
      }
    }),
  120_000
)
