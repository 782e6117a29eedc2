// The upstream (external identity provider) login end to end, on every backend: provider → authorization session →
// link → registration of a new user → browser session authenticated by the upstream session; the same steps leave the
// same rows everywhere.
import { expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock, TestContext } from "effect"
import { maxUlidAt } from "../../../src/model/Ulid.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { now } from "../../../src/storage/common/time.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed } from "../../support/seed.js"
import { backends, deterministic } from "../backends.js"
import { newProviderParams } from "../upstream/fixtures.js"

/** The tables the flow touches, with their primary keys. */
const TABLES = [
  ["upstream_oauth_providers", "upstream_oauth_provider_id"],
  ["upstream_oauth_authorization_sessions", "upstream_oauth_authorization_session_id"],
  ["upstream_oauth_links", "upstream_oauth_link_id"],
  ["user_registrations", "user_registration_id"],
  ["users", "user_id"],
  ["user_sessions", "user_session_id"],
  ["user_session_authentications", "user_session_authentication_id"]
] as const

const dumpAll = Effect.gen(function* () {
  const seed = yield* Seed
  const dump: Record<string, ReadonlyArray<Record<string, unknown>>> = {}
  for (const [table, id] of TABLES)
    dump[table] = (yield* seed.dump(table, id)) as ReadonlyArray<Record<string, unknown>>
  return dump
})

const tick = TestClock.adjust(Duration.seconds(1))
const page = Either.getOrThrow(Pagination.first(10))

const flow = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  return yield* repos.transaction(
    Effect.gen(function* () {
      const provider = yield* repos.upstreamOAuthProviders.add(newProviderParams())
      yield* tick

      // The user is sent to the provider; an abandoned attempt is left pending beside the one that completes.
      const abandoned = yield* repos.upstreamOAuthSessions.add(
        provider,
        "state-abandoned",
        Option.none(),
        Option.none()
      )
      const started = yield* repos.upstreamOAuthSessions.add(
        provider,
        "state-xyz",
        Option.some("the-code-verifier"),
        Option.some("the-nonce")
      )
      yield* tick

      // The callback: no link for this subject yet, so one is made and the session completed with it.
      const before = yield* repos.upstreamOAuthLinks.findBySubject(provider, "upstream-subject-1")
      const link = yield* repos.upstreamOAuthLinks.add(provider, "upstream-subject-1", Option.some("alice@id.example"))
      const claims = { sub: "upstream-subject-1", sid: "upstream-session-1", email: "alice@example.com" }
      const completed = yield* repos.upstreamOAuthSessions.completeWithLink(
        started,
        link,
        Option.some("the.id.token"),
        Option.some(claims),
        Option.some({ iss: "https://id.example.com/" }),
        Option.none()
      )
      yield* tick

      // Registration of a new user from the upstream account.
      const registration = yield* repos.userRegistrations.add(
        "alice",
        Option.none(),
        Option.some("Firefox"),
        Option.none()
      )
      const withUpstream = yield* repos.userRegistrations.setUpstreamOAuthAuthorizationSession(registration, completed)
      const user = yield* repos.users.add("alice")
      yield* repos.userRegistrations.complete(withUpstream)
      yield* repos.upstreamOAuthLinks.associateToUser(link, user)
      yield* tick

      // The browser session, authenticated by the upstream session, which is consumed.
      const browserSession = yield* repos.browserSessions.add(user, Option.some("Firefox"))
      const authentication = yield* repos.browserSessions.authenticateWithUpstream(browserSession, completed)
      const consumed = yield* repos.upstreamOAuthSessions.consume(completed, browserSession)
      yield* tick

      const bySid = yield* repos.upstreamOAuthSessions.list({ sidClaim: "upstream-session-1" }, page)
      const bySub = yield* repos.upstreamOAuthSessions.count({ provider: provider.id, subClaim: "upstream-subject-1" })
      const linksOfUser = yield* repos.upstreamOAuthLinks.list({ user: user.id }, page)
      const afterLogin = yield* dumpAll

      // The clean-up of orphaned sessions takes the abandoned attempt and keeps the one the browser session used.
      const until = maxUlidAt(yield* now)
      const cleaned = yield* repos.upstreamOAuthSessions.cleanupOrphaned(Option.none(), until, 10)
      const afterCleanup = yield* dumpAll
      return {
        before,
        completed,
        consumed,
        authentication,
        bySid: bySid.edges.map((e) => e.node.id),
        bySub,
        linksOfUser: linksOfUser.edges.map((e) => e.node),
        cleaned: cleaned[0],
        abandonedId: abandoned.id,
        startedId: started.id,
        userId: user.id,
        afterLogin,
        afterCleanup
      }
    })
  )
})

// one database per backend for the file, made before the test
const backendLayers = backends.map((backend) => ({ name: backend.name, layer: backend.layers() }))

it.effect(
  "the upstream login flow leaves the same rows on every backend",
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

      expect(first.before).toEqual(Option.none())
      expect(first.completed.state._tag).toBe("Completed")
      expect(first.consumed.state._tag).toBe("Consumed")
      expect(first.bySid).toEqual([first.startedId])
      expect(first.bySub).toBe(1)
      expect(first.linksOfUser.map((l) => [l.subject, l.userId])).toEqual([
        ["upstream-subject-1", Option.some(first.userId)]
      ])

      // The session points at its link and the browser session it authenticated; the registration at the session.
      const rows = first.afterLogin
      const started = rows.upstream_oauth_authorization_sessions!.find(
        (r) => r.upstream_oauth_authorization_session_id === first.startedId
      )!
      expect(started.upstream_oauth_link_id).toBe(rows.upstream_oauth_links![0]!.upstream_oauth_link_id)
      expect(started.user_session_id).toBe(rows.user_sessions![0]!.user_session_id)
      expect(started.consumed_at).not.toBeNull()
      expect(rows.user_registrations![0]!.upstream_oauth_authorization_session_id).toBe(first.startedId)
      expect(rows.user_registrations![0]!.completed_at).not.toBeNull()
      expect(rows.user_session_authentications![0]!.upstream_oauth_authorization_session_id).toBe(first.startedId)

      // Only the abandoned attempt was orphaned.
      expect(first.cleaned).toBe(1)
      expect(first.afterCleanup.upstream_oauth_authorization_sessions!.map((r) => r.state)).toEqual(["state-xyz"])

      // Every backend: the same entities returned and the same rows, at both points.
      for (const [name, result] of rest) {
        expect([name, result]).toEqual([name, first])
      }
    }),
  120_000
)
