// The legacy (compat) login end to end, on every backend: SSO token → compat session → access and refresh tokens →
// refresh → logout → clean-up; the same steps leave the same rows everywhere.
import { expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock, TestContext } from "effect"
import type { Ulid } from "../../../src/model/Ulid.js"
import { Device, type Url } from "../../../src/model/values.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { now } from "../../../src/storage/common/time.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { backends, deterministic } from "../backends.js"

/** The tables the flow touches, with their primary keys. */
const TABLES = [
  ["users", "user_id"],
  ["user_sessions", "user_session_id"],
  ["compat_sso_logins", "compat_sso_login_id"],
  ["compat_sessions", "compat_session_id"],
  ["compat_access_tokens", "compat_access_token_id"],
  ["compat_refresh_tokens", "compat_refresh_token_id"]
] as const

const dumpAll = Effect.gen(function* () {
  const seed = yield* Seed
  const dump: Record<string, ReadonlyArray<Record<string, unknown>>> = {}
  for (const [table, id] of TABLES)
    dump[table] = (yield* seed.dump(table, id)) as ReadonlyArray<Record<string, unknown>>
  return dump
})

const tick = TestClock.adjust(Duration.seconds(1))

/** Runs `round` from no cursor until it deletes nothing; the total deleted. */
const runToEnd = <K>(
  round: (since: Option.Option<K>) => Effect.Effect<readonly [number, Option.Option<K>], unknown, never>
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

const flow = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  return yield* repos.transaction(
    Effect.gen(function* () {
      const user = yield* repos.users.add("alice")
      const browserSession = yield* repos.browserSessions.add(user, Option.some("Element Web"))
      yield* tick

      // The client opens the SSO redirect; the user signs in in the browser, which fulfils the login.
      const pending = yield* repos.compatSsoLogins.add("the-login-token", "https://app.example.com/after-sso" as Url)
      yield* tick
      const fulfilled = yield* repos.compatSsoLogins.fulfill(pending, browserSession)
      yield* tick

      // The client trades the login token for a session, with its first pair of tokens.
      const found = Option.getOrThrow(yield* repos.compatSsoLogins.findByToken("the-login-token"))
      const device = new Device({ id: "ABCDEFGHIJ" })
      const session = yield* repos.compatSessions.add(user, device, Option.some(browserSession), false, Option.none())
      const exchanged = yield* repos.compatSsoLogins.exchange(found, session)
      const access1 = yield* repos.compatAccessTokens.add(session, "access-1", Option.some(Duration.minutes(5)))
      const refresh1 = yield* repos.compatRefreshTokens.add(session, access1, "refresh-1")
      yield* tick

      // Refresh: a new pair, the old refresh token consumed, the old access token expired.
      const presented = Option.getOrThrow(yield* repos.compatRefreshTokens.findByToken("refresh-1"))
      const access2 = yield* repos.compatAccessTokens.add(session, "access-2", Option.some(Duration.minutes(5)))
      const refresh2 = yield* repos.compatRefreshTokens.add(session, access2, "refresh-2")
      const consumed = yield* repos.compatRefreshTokens.consumeAndReplace(presented, refresh2)
      const expired = yield* repos.compatAccessTokens.expire(
        Option.getOrThrow(yield* repos.compatAccessTokens.lookup(refresh1.accessTokenId))
      )
      yield* tick

      const at = yield* now
      const current = Option.getOrThrow(yield* repos.compatAccessTokens.findByToken("access-2"))
      const listed = yield* repos.compatSessions.list({ user: user.id }, Either.getOrThrow(Pagination.first(10)))
      const loginOfSession = yield* repos.compatSsoLogins.findForSession(session)
      const afterRefresh = yield* dumpAll

      // Logout: the session finished, its access token expired.
      const finished = yield* repos.compatSessions.finish(session)
      yield* repos.compatAccessTokens.expire(current)
      yield* tick
      const activeLeft = yield* repos.compatSessions.count({ user: user.id, state: "active" })

      const until = yield* now
      const cleaned = yield* runToEnd<Date>((since) =>
        Effect.map(repos.compatSessions.cleanupFinished(since, until, 1), (r) => r)
      )
      const afterCleanup = yield* dumpAll
      return {
        fulfilled,
        exchanged,
        consumed,
        expired,
        accessValid: [expired.isValid(at), current.isValid(at)],
        listed,
        loginOfSession,
        finished,
        activeLeft,
        cleaned,
        afterRefresh,
        afterCleanup,
        sessionId: session.id as Ulid
      }
    })
  )
})

// one database per backend for the file, made before the test
const backendLayers = backends.map((backend) => ({ name: backend.name, layer: backend.layers() }))

it.effect(
  "the legacy login flow leaves the same rows on every backend",
  () =>
    Effect.gen(function* () {
      const results: Array<readonly [string, Effect.Effect.Success<typeof flow>]> = []
      for (const backend of backendLayers) {
        // each backend from the same clock and seed, so the ids and times are the same everywhere
        const result = yield* deterministic(flow).pipe(
          Effect.provide(backend.layer()),
          Effect.provide(TestContext.TestContext)
        )
        results.push([backend.name, result])
      }
      const [[, first], ...rest] = results as [(typeof results)[number], ...typeof results]

      expect(first.fulfilled.state._tag).toBe("Fulfilled")
      expect(first.exchanged.state._tag).toBe("Exchanged")
      expect(first.consumed.state._tag).toBe("Consumed")
      expect(first.accessValid).toEqual([false, true])
      expect(first.finished.state._tag).toBe("Finished")
      expect(first.activeLeft).toBe(0)

      // The session is listed with the SSO login exchanged into it.
      expect(first.listed.edges.map((e) => [e.node[0].id, Option.map(e.node[1], (l) => l.loginToken)])).toEqual([
        [first.sessionId, Option.some("the-login-token")]
      ])
      expect(Option.map(first.loginOfSession, (l) => l.id)).toEqual(Option.some(first.exchanged.id))

      // After the refresh: two pairs, refresh-1 consumed, access-1 expired.
      const rows = first.afterRefresh
      expect(rows.compat_refresh_tokens!.map((t) => [t.refresh_token, t.consumed_at !== null])).toEqual([
        ["refresh-1", true],
        ["refresh-2", false]
      ])
      expect(rows.compat_access_tokens!.map((t) => t.access_token)).toEqual(["access-1", "access-2"])
      expect(rows.compat_sso_logins![0]!.compat_session_id).toBe(first.sessionId)

      // The clean-up removed the finished session with its tokens and SSO login; the user and browser session stay.
      expect(first.cleaned).toBe(1)
      expect(
        Object.fromEntries(Object.entries(first.afterCleanup).map(([table, rows]) => [table, rows.length]))
      ).toEqual({
        users: 1,
        user_sessions: 1,
        compat_sso_logins: 0,
        compat_sessions: 0,
        compat_access_tokens: 0,
        compat_refresh_tokens: 0
      })

      // Every backend: the same entities returned and the same rows, at both points.
      for (const [name, result] of rest) {
        expect([name, result]).toEqual([name, first])
      }
    }),
  120_000
)
