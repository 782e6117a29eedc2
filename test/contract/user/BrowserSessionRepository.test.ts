// Contract suite for BrowserSessionRepository: every method, filter, pagination edge, batch and cleanup, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import { UpstreamOAuthAuthorizationSession } from "../../../src/model/upstream.js"
import {
  AuthenticationMethodUpstreamOAuth2,
  type BrowserSession,
  Password,
  type User
} from "../../../src/model/user.js"
import { generateUlid, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { type ActivityRecord, type IpAddress, type Json } from "../../../src/model/values.js"
import type { BrowserSessionFilter } from "../../../src/storage/user/BrowserSessionRepository.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import { Seed, seedOAuth2Client, seedUpstreamProvider } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike } from "../refusals.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (seconds: number) => new Date(EPOCH + seconds * 1000)
const ip = (text: string) => text as IpAddress

/** Adds sessions for `user` one second apart (so their ids are in creation order), named by their user agent. */
const addSessions = (user: User, ...agents: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { browserSessions } = yield* RepositoryAccess
    const added: Array<BrowserSession> = []
    for (const agent of agents) {
      added.push(yield* browserSessions.add(user, Option.some(agent)))
      yield* TestClock.adjust(Duration.seconds(1))
    }
    return added
  })

const agentsOf = (filter: BrowserSessionFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { browserSessions } = yield* RepositoryAccess
    const page = yield* browserSessions.list(filter, pagination)
    const count = yield* browserSessions.count(filter)
    const agents = page.edges.map((e) => Option.getOrElse(e.node.userAgent, () => "?"))
    // One filter drives list and count (storage rule: Filters): they must agree whenever the page holds every row.
    if (!page.hasNextPage) expect(count).toBe(agents.length)
    return agents
  })

const lookupOrThrow = (id: Ulid) =>
  Effect.gen(function* () {
    const { browserSessions } = yield* RepositoryAccess
    return Option.getOrThrow(yield* browserSessions.lookup(id))
  })

const seedPassword = (userId: Ulid) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = new Date(EPOCH)
    yield* seed.insert("user_passwords", {
      user_password_id: id,
      user_id: userId,
      hashed_password: "$argon2id$hash",
      version: 1,
      upgraded_from_id: null,
      created_at: createdAt
    })
    return new Password({ id, hashedPassword: "$argon2id$hash", version: 1, upgradedFromId: Option.none(), createdAt })
  })

const seedProvider = seedUpstreamProvider()

/**
 * An upstream authorization session of `providerId`, consumed by `userSessionId` (if given) with
 * these ID-token claims; pending when there is no browser session. Returns the entity (pending view).
 */
const seedUpstreamSession = (providerId: Ulid, userSessionId: Ulid | null, claims: Json | null) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    let linkId: Ulid | null = null
    if (userSessionId !== null) {
      linkId = yield* generateUlid
      yield* seed.insert("upstream_oauth_links", {
        upstream_oauth_link_id: linkId,
        upstream_oauth_provider_id: providerId,
        user_id: null,
        subject: `subject-${linkId}`,
        human_account_name: null,
        created_at: new Date(EPOCH)
      })
    }
    yield* seed.insert("upstream_oauth_authorization_sessions", {
      upstream_oauth_authorization_session_id: id,
      upstream_oauth_provider_id: providerId,
      upstream_oauth_link_id: linkId,
      user_session_id: userSessionId,
      state: `state-${id}`,
      code_challenge_verifier: null,
      nonce: null,
      id_token: null,
      id_token_claims: claims,
      extra_callback_parameters: null,
      userinfo: null,
      created_at: new Date(EPOCH),
      completed_at: linkId === null ? null : new Date(EPOCH),
      consumed_at: linkId === null ? null : new Date(EPOCH),
      unlinked_at: null
    })
    return new UpstreamOAuthAuthorizationSession({
      id,
      state: new Pending(),
      providerId,
      stateStr: `state-${id}`,
      codeChallengeVerifier: Option.none(),
      nonce: Option.none(),
      createdAt: new Date(EPOCH)
    })
  })

const seedClient = seedOAuth2Client

const seedOAuth2Session = (userId: Ulid, userSessionId: Ulid, clientId: Ulid) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    yield* seed.insert("oauth2_sessions", {
      oauth2_session_id: yield* generateUlid,
      user_id: userId,
      user_session_id: userSessionId,
      oauth2_client_id: clientId,
      scope_list: ["openid"],
      created_at: new Date(EPOCH),
      finished_at: null,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null,
      human_name: null
    })
  })

const seedCompatSession = (userId: Ulid, userSessionId: Ulid) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    yield* seed.insert("compat_sessions", {
      compat_session_id: yield* generateUlid,
      user_id: userId,
      device_id: null,
      human_name: null,
      user_session_id: userSessionId,
      created_at: new Date(EPOCH),
      finished_at: null,
      is_synapse_admin: false,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null
    })
  })

/** A device-code grant fulfilled by `userSessionId` (a table whose repository comes later). */
const seedDeviceCodeGrant = (clientId: Ulid, userSessionId: Ulid) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("oauth2_device_code_grant", {
      oauth2_device_code_grant_id: id,
      oauth2_client_id: clientId,
      scope_list: ["openid"],
      device_code: `device-${id}`,
      user_code: `user-${id}`,
      created_at: new Date(EPOCH),
      expires_at: new Date(EPOCH + 600_000),
      fulfilled_at: new Date(EPOCH),
      rejected_at: null,
      exchanged_at: null,
      user_session_id: userSessionId,
      oauth2_session_id: null,
      ip_address: null,
      user_agent: null,
      locale: null
    })
  })

/** A raw user_sessions row, for states the repository cannot produce directly. */
const seedSession = (
  userId: Ulid,
  fields: {
    readonly finishedAt?: Date | null
    readonly lastActiveAt?: Date | null
    readonly lastActiveIp?: string | null
    readonly agent?: string
  }
) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    yield* seed.insert("user_sessions", {
      user_session_id: id,
      user_id: userId,
      created_at: new Date(ulidTimestamp(id)),
      finished_at: fields.finishedAt ?? null,
      user_agent: fields.agent ?? null,
      last_active_at: fields.lastActiveAt ?? null,
      last_active_ip: fields.lastActiveIp ?? null
    })
    yield* TestClock.adjust(Duration.millis(10))
    return id
  })

contract("BrowserSessionRepository", (test) => {
  test("add creates an active session of the user, with id and createdAt from Clock and Random; lookup joins the user", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const session = yield* browserSessions.add(alice, Option.some("Mozilla/5.0 (X11; Linux) — ünïcødé"))
      expect(session.createdAt.getTime()).toBe(EPOCH)
      expect(ulidTimestamp(session.id)).toBe(EPOCH)
      expect(session.user).toEqual(alice)
      expect(session.finishedAt).toEqual(Option.none())
      expect(session.isActive).toBe(true)
      expect(session.userAgent).toEqual(Option.some("Mozilla/5.0 (X11; Linux) — ünïcødé"))
      expect(session.lastActiveAt).toEqual(Option.none())
      expect(session.lastActiveIp).toEqual(Option.none())
      expect(yield* browserSessions.lookup(session.id)).toEqual(Option.some(session))

      const anonymous = yield* browserSessions.add(alice, Option.none())
      expect(anonymous.userAgent).toEqual(Option.none())
      expect(yield* browserSessions.lookup(anonymous.id)).toEqual(Option.some(anonymous))
    }))

  test("lookup of an unknown id is none", () =>
    Effect.gen(function* () {
      const { browserSessions } = yield* RepositoryAccess
      expect(yield* browserSessions.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("lookup returns the user as currently stored", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const session = yield* browserSessions.add(alice, Option.none())
      const locked = yield* users.lock(alice)
      const found = yield* lookupOrThrow(session.id)
      expect(found.user).toEqual(locked)
      expect(found.user.isValid).toBe(false)
    }))

  test("a session is active only while unfinished and its user neither locked nor deactivated; the state filter looks at finishedAt alone", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const bob = yield* users.add("bob")
      const carol = yield* users.add("carol")
      yield* addSessions(alice, "a")
      yield* addSessions(bob, "b")
      const [c] = yield* addSessions(carol, "c")
      yield* users.lock(alice)
      yield* users.deactivate(bob)
      const active = (agent: string) =>
        Effect.map(browserSessions.list({}, first(10)), (page) =>
          page.edges
            .map((e) => e.node)
            .filter((s) => Option.contains(s.userAgent, agent))
            .map((s) => s.isActive)
        )
      expect(yield* active("a")).toEqual([false])
      expect(yield* active("b")).toEqual([false])
      expect(yield* active("c")).toEqual([true])
      expect((yield* browserSessions.finish(c!)).isActive).toBe(false)
      // As MAS's filter: the unfinished sessions of a locked or deactivated user are "active", so they can be finished.
      expect(yield* agentsOf({ state: "active" })).toEqual(["a", "b"])
      expect(yield* browserSessions.finishBulk({ user: bob.id, state: "active" })).toBe(1)
      expect(yield* agentsOf({ state: "finished" })).toEqual(["b", "c"])
    }))

  test("add for a user that is not stored is a DriverError (foreign key) and writes nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const ghost = yield* repos
        .transaction(
          Effect.gen(function* () {
            const u = yield* repos.users.add("ghost")
            return yield* Effect.fail({ rollback: u })
          })
        )
        .pipe(
          Effect.flip,
          Effect.map((e) => (e as { rollback: User }).rollback)
        )
      const error = yield* Effect.flip(repos.browserSessions.add(ghost, Option.none()))
      expect(error._tag).toBe("DriverError")
      expect(error).toMatchObject({ sqlState: Option.some("23503") })
      expect(yield* repos.browserSessions.count({})).toBe(0)
    }))

  test("a NUL byte in the user agent is a DriverError and nothing is written", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const error = yield* Effect.flip(browserSessions.add(alice, Option.some("bad\u0000agent")))
      expect(error._tag).toBe("DriverError")
      expect(error).toMatchObject({ sqlState: Option.some("22021") })
      expect(yield* browserSessions.count({})).toBe(0)
    }))

  test("finish stamps now; finishing again re-stamps (no refusal, as in MAS)", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [session] = yield* addSessions(alice, "a")
      const finished = yield* browserSessions.finish(session!)
      expect(finished.finishedAt).toEqual(Option.some(at(1)))
      expect(finished.isActive).toBe(false)
      expect(yield* lookupOrThrow(session!.id)).toEqual(finished)

      yield* TestClock.adjust(Duration.minutes(1))
      const again = yield* browserSessions.finish(finished)
      expect(again.finishedAt).toEqual(Option.some(at(61)))
      expect((yield* lookupOrThrow(session!.id)).finishedAt).toEqual(Option.some(at(61)))
    }))

  test("finish of a session that is not stored is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const ghost = yield* repos
        .transaction(
          Effect.flatMap(repos.browserSessions.add(alice, Option.none()), (s) => Effect.fail({ rollback: s }))
        )
        .pipe(
          Effect.flip,
          Effect.map((e) => (e as { rollback: BrowserSession }).rollback)
        )
      expect(yield* Effect.flip(repos.browserSessions.finish(ghost))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 1,
        actual: 0
      })
      expect(yield* repos.browserSessions.lookup(ghost.id)).toEqual(Option.none())
    }))

  test("a failed unit of work leaves no session behind", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const result = yield* repos
        .transaction(Effect.zipRight(repos.browserSessions.add(alice, Option.none()), Effect.fail("cancel" as const)))
        .pipe(Effect.flip)
      expect(result).toBe("cancel")
      expect(yield* repos.browserSessions.count({})).toBe(0)
    }))

  test("list pages forward and backward in id order, at the edges", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const empty = yield* browserSessions.list({}, first(3))
      expect(empty.edges).toEqual([])
      expect([empty.hasNextPage, empty.hasPreviousPage]).toEqual([false, false])
      const emptyBack = yield* browserSessions.list({}, last(3))
      expect([emptyBack.edges.length, emptyBack.hasNextPage, emptyBack.hasPreviousPage]).toEqual([0, false, false])

      const all = yield* addSessions(alice, "s1", "s2", "s3", "s4", "s5")
      const agents = (p: { edges: ReadonlyArray<{ node: BrowserSession }> }) =>
        p.edges.map((e) => Option.getOrThrow(e.node.userAgent))

      const p1 = yield* browserSessions.list({}, first(2))
      expect(agents(p1)).toEqual(["s1", "s2"])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect(p1.edges[0]!.node).toEqual(all[0])

      const p2 = yield* browserSessions.list({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect(agents(p2)).toEqual(["s3", "s4"])
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      const p3 = yield* browserSessions.list({}, first(2).pipe(Pagination.after(p2.edges[1]!.cursor)))
      expect(agents(p3)).toEqual(["s5"])
      expect([p3.hasNextPage, p3.hasPreviousPage]).toEqual([false, false])

      const exact = yield* browserSessions.list({}, first(5))
      expect([agents(exact).length, exact.hasNextPage]).toEqual([5, false])
      const oneShort = yield* browserSessions.list({}, first(4))
      expect([agents(oneShort).length, oneShort.hasNextPage]).toEqual([4, true])
      const oneMore = yield* browserSessions.list({}, first(6))
      expect([agents(oneMore).length, oneMore.hasNextPage]).toEqual([5, false])

      const back = yield* browserSessions.list({}, last(2))
      expect(agents(back)).toEqual(["s4", "s5"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      const backBefore = yield* browserSessions.list({}, last(2).pipe(Pagination.before(all[3]!.id)))
      expect(agents(backBefore)).toEqual(["s2", "s3"])
      expect([backBefore.hasNextPage, backBefore.hasPreviousPage]).toEqual([false, true])
      const backExact = yield* browserSessions.list({}, last(5))
      expect([agents(backExact).length, backExact.hasPreviousPage]).toEqual([5, false])
      const backOneShort = yield* browserSessions.list({}, last(4))
      expect(agents(backOneShort)).toEqual(["s2", "s3", "s4", "s5"])
      expect(backOneShort.hasPreviousPage).toBe(true)
      const backAtStart = yield* browserSessions.list({}, last(2).pipe(Pagination.before(all[0]!.id)))
      expect([backAtStart.edges.length, backAtStart.hasPreviousPage]).toEqual([0, false])
      const afterLast = yield* browserSessions.list({}, first(2).pipe(Pagination.after(all[4]!.id)))
      expect([afterLast.edges.length, afterLast.hasNextPage]).toEqual([0, false])

      const between = yield* browserSessions.list(
        {},
        first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id))
      )
      expect(agents(between)).toEqual(["s2", "s3", "s4"])

      const filtered = yield* browserSessions.list({ user: alice.id }, last(1).pipe(Pagination.before(all[2]!.id)))
      expect(agents(filtered)).toEqual(["s2"])
      expect(filtered.hasPreviousPage).toBe(true)
    }))

  test("user and state filters, alone and combined; count agrees with list", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const bob = yield* users.add("bob")
      const [a1, , a3] = yield* addSessions(alice, "a1", "a2", "a3")
      yield* addSessions(bob, "b1", "b2")
      yield* browserSessions.finish(a1!)
      yield* browserSessions.finish(a3!)

      expect(yield* agentsOf({})).toEqual(["a1", "a2", "a3", "b1", "b2"])
      expect(yield* agentsOf({ user: alice.id })).toEqual(["a1", "a2", "a3"])
      expect(yield* agentsOf({ user: bob.id })).toEqual(["b1", "b2"])
      expect(yield* agentsOf({ state: "active" })).toEqual(["a2", "b1", "b2"])
      expect(yield* agentsOf({ state: "finished" })).toEqual(["a1", "a3"])
      expect(yield* agentsOf({ user: alice.id, state: "active" })).toEqual(["a2"])
      expect(yield* agentsOf({ user: bob.id, state: "finished" })).toEqual([])
      expect(yield* agentsOf({ user: yield* generateUlid })).toEqual([])
      expect(yield* browserSessions.count({ state: "active" })).toBe(3)
    }))

  test("createdBefore / createdAfter compare the id with the instant's ULID bounds (strict at the millisecond)", () =>
    Effect.gen(function* () {
      const { users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [, s2] = yield* addSessions(alice, "s1", "s2", "s3")
      const t2 = s2!.createdAt
      expect(yield* agentsOf({ createdBefore: t2 })).toEqual(["s1"])
      expect(yield* agentsOf({ createdAfter: t2 })).toEqual(["s3"])
      expect(yield* agentsOf({ createdAfter: at(0), createdBefore: at(2) })).toEqual(["s2"])
      expect(yield* agentsOf({ createdAfter: at(0), createdBefore: at(1) })).toEqual([])
      expect(yield* agentsOf({ createdAfter: new Date(EPOCH - 1), createdBefore: new Date(t2.getTime() + 1) })).toEqual(
        ["s1", "s2"]
      )
      expect(yield* agentsOf({ createdBefore: at(10), user: alice.id, state: "active" })).toEqual(["s1", "s2", "s3"])
    }))

  test("lastActiveBefore / lastActiveAfter are strict and never match a session without activity", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1, s2, , s4] = yield* addSessions(alice, "s1", "s2", "never", "s4")
      yield* browserSessions.recordBatchActivity([
        [s1!.id, at(100), Option.none()],
        [s2!.id, at(200), Option.none()],
        [s4!.id, at(300), Option.none()]
      ])
      expect(yield* agentsOf({ lastActiveBefore: at(200) })).toEqual(["s1"])
      expect(yield* agentsOf({ lastActiveBefore: at(201) })).toEqual(["s1", "s2"])
      expect(yield* agentsOf({ lastActiveAfter: at(200) })).toEqual(["s4"])
      expect(yield* agentsOf({ lastActiveAfter: at(199) })).toEqual(["s2", "s4"])
      expect(yield* agentsOf({ lastActiveAfter: at(100), lastActiveBefore: at(300) })).toEqual(["s2"])
      expect(yield* agentsOf({ lastActiveBefore: at(1000) })).toEqual(["s1", "s2", "s4"])
      yield* browserSessions.finish(s2!)
      expect(yield* agentsOf({ lastActiveBefore: at(1000), state: "active" })).toEqual(["s1", "s4"])
    }))

  test("linkedToUpstreamSessions selects sessions that consumed a matching upstream session (provider, sub, sid)", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1, s2, s3] = yield* addSessions(alice, "s1", "s2", "s3", "unlinked")
      const p1 = yield* seedProvider
      const p2 = yield* seedProvider
      yield* seedUpstreamSession(p1, s1!.id, { sub: "sub-1", sid: "sid-1" })
      yield* seedUpstreamSession(p1, s2!.id, { sub: "Ärger", sid: "sid-2", nested: { b: 1, a: [true, null] } })
      yield* seedUpstreamSession(p2, s3!.id, { sub: "sub-1", sid: 42 })
      yield* seedUpstreamSession(p2, null, { sub: "sub-1", sid: "sid-1" }) // pending: tied to no browser session

      expect(yield* agentsOf({ linkedToUpstreamSessions: {} })).toEqual(["s1", "s2", "s3"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { provider: p1 } })).toEqual(["s1", "s2"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { provider: p2 } })).toEqual(["s3"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { subClaim: "sub-1" } })).toEqual(["s1", "s3"])
      // Claims compare exactly: no case folding, non-ASCII included; non-string claims compare as their JSON text.
      expect(yield* agentsOf({ linkedToUpstreamSessions: { subClaim: "Ärger" } })).toEqual(["s2"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { subClaim: "ärger" } })).toEqual([])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "42" } })).toEqual(["s3"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "sid-1" } })).toEqual(["s1"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { provider: p2, subClaim: "sub-1" } })).toEqual(["s3"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { provider: p2, sidClaim: "sid-1" } })).toEqual([])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { subClaim: "sub-1" }, createdAfter: s1!.createdAt })).toEqual(
        ["s3"]
      )
      yield* browserSessions.finish(s1!)
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "sid-1" }, state: "active" })).toEqual([])
    }))

  test("finishBulk stamps every matching session with now and counts them; without state it re-stamps finished ones", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const bob = yield* users.add("bob")
      const [a1, a2] = yield* addSessions(alice, "a1", "a2", "a3")
      const [b1] = yield* addSessions(bob, "b1", "b2")
      yield* browserSessions.finish(a1!) // at(5)
      yield* TestClock.adjust(Duration.seconds(10)) // now at(15)

      expect(yield* browserSessions.finishBulk({ user: alice.id, state: "active" })).toBe(2)
      expect((yield* lookupOrThrow(a1!.id)).finishedAt).toEqual(Option.some(at(5)))
      expect((yield* lookupOrThrow(a2!.id)).finishedAt).toEqual(Option.some(at(15)))
      expect(yield* agentsOf({ state: "active" })).toEqual(["b1", "b2"])
      expect(yield* browserSessions.finishBulk({ user: alice.id, state: "active" })).toBe(0)

      yield* TestClock.adjust(Duration.seconds(10)) // now at(25)
      expect(yield* browserSessions.finishBulk({ user: alice.id })).toBe(3)
      expect((yield* lookupOrThrow(a1!.id)).finishedAt).toEqual(Option.some(at(25)))
      expect(yield* browserSessions.finishBulk({ createdBefore: b1!.createdAt, user: bob.id })).toBe(0)
      expect(yield* browserSessions.finishBulk({})).toBe(5)
      expect(yield* browserSessions.count({ state: "finished" })).toBe(5)
    }))

  test("finishBulk with nested and activity criteria selects the same rows as list", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1, s2, s3] = yield* addSessions(alice, "s1", "s2", "s3")
      const provider = yield* seedProvider
      yield* seedUpstreamSession(provider, s1!.id, { sub: "x" })
      yield* seedUpstreamSession(provider, s3!.id, { sub: "y" })
      yield* browserSessions.recordBatchActivity([
        [s2!.id, at(50), Option.none()],
        [s3!.id, at(60), Option.none()]
      ])
      const filter: BrowserSessionFilter = { linkedToUpstreamSessions: { provider }, lastActiveAfter: at(55) }
      expect(yield* agentsOf(filter)).toEqual(["s3"])
      expect(yield* browserSessions.finishBulk(filter)).toBe(1)
      expect(yield* agentsOf({ state: "finished" })).toEqual(["s3"])
    }))

  test("a malformed id in the filter (user, upstream provider) is an InvalidOperationError from list, count and finishBulk; nothing is stamped", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const [s1] = yield* addSessions(alice, "s1", "s2")
      const provider = yield* seedProvider
      yield* seedUpstreamSession(provider, s1!.id, { sub: "x" })
      const filters: ReadonlyArray<BrowserSessionFilter> = [
        ...malformedIdsLike(alice.id).map((user) => ({ user })),
        ...malformedIdsLike(provider).map((bad) => ({ linkedToUpstreamSessions: { provider: bad } })),
        ...malformedIdsLike(provider).map((bad) => ({
          user: alice.id,
          linkedToUpstreamSessions: { provider: bad, subClaim: "x" }
        }))
      ]
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const filter of filters) {
            yield* expectEachToFail("InvalidOperationError", [
              [`list ${JSON.stringify(filter)}`, repos.browserSessions.list(filter, first(10))],
              [`count ${JSON.stringify(filter)}`, repos.browserSessions.count(filter)],
              [`finishBulk ${JSON.stringify(filter)}`, repos.browserSessions.finishBulk(filter)]
            ])
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* addSessions(alice, "s3")
        })
      )
      expect(yield* agentsOf({ state: "active" })).toEqual(["s1", "s2", "s3"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { provider } })).toEqual(["s1"])
    }))

  test("authenticateWithPassword / authenticateWithUpstream record authentications; getLastAuthentication returns the newest", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [session, other] = yield* addSessions(alice, "s", "other")
      expect(yield* browserSessions.getLastAuthentication(session!)).toEqual(Option.none())

      const password = yield* seedPassword(alice.id)
      const byPassword = yield* browserSessions.authenticateWithPassword(session!, password)
      expect(byPassword.createdAt).toEqual(at(2))
      expect(ulidTimestamp(byPassword.id)).toBe(at(2).getTime())
      expect(byPassword.authenticationMethod).toMatchObject({ _tag: "Password", userPasswordId: password.id })
      expect(yield* browserSessions.getLastAuthentication(session!)).toEqual(Option.some(byPassword))

      yield* TestClock.adjust(Duration.seconds(1))
      const provider = yield* seedProvider
      const upstream = yield* seedUpstreamSession(provider, null, null)
      const byUpstream = yield* browserSessions.authenticateWithUpstream(session!, upstream)
      expect(byUpstream.authenticationMethod).toMatchObject({
        _tag: "UpstreamOAuth2",
        upstreamOAuth2SessionId: upstream.id
      })
      expect(yield* browserSessions.getLastAuthentication(session!)).toEqual(Option.some(byUpstream))
      expect(yield* browserSessions.getLastAuthentication(other!)).toEqual(Option.none())
    }))

  test("authenticateWithUpstream links an upstream session linked to no browser session yet; a linked one keeps its link", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const [s1, s2] = yield* addSessions(alice, "s1", "s2")
      const provider = yield* seedProvider
      const pending = yield* seedUpstreamSession(provider, null, { sid: "pending" })
      const elsewhere = yield* seedUpstreamSession(provider, s2!.id, { sid: "elsewhere" })
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "pending" } })).toEqual([])
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.browserSessions.authenticateWithUpstream(s1!, pending)
          yield* repos.browserSessions.authenticateWithUpstream(s1!, elsewhere)
        })
      )
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "pending" } })).toEqual(["s1"])
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "elsewhere" } })).toEqual(["s2"])
      // Linked now, so a later authentication of another session leaves it with s1.
      yield* repos.browserSessions.authenticateWithUpstream(s2!, pending)
      expect(yield* agentsOf({ linkedToUpstreamSessions: { sidClaim: "pending" } })).toEqual(["s1"])
      const last = yield* repos.browserSessions.getLastAuthentication(s2!)
      expect(Option.map(last, (a) => a.authenticationMethod)).toEqual(
        Option.some(new AuthenticationMethodUpstreamOAuth2({ upstreamOAuth2SessionId: pending.id }))
      )
    }))

  test("an authentication with neither method column set reads as Unknown", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      const [session] = yield* addSessions(alice, "s")
      yield* seed.insert("user_session_authentications", {
        user_session_authentication_id: yield* generateUlid,
        user_session_id: session!.id,
        created_at: at(5),
        user_password_id: null,
        upstream_oauth_authorization_session_id: null
      })
      const last = Option.getOrThrow(yield* browserSessions.getLastAuthentication(session!))
      expect(last.authenticationMethod._tag).toBe("Unknown")
      expect(last.createdAt).toEqual(at(5))
    }))

  test("authenticating with a password or upstream session that is not stored is a DriverError", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [session] = yield* addSessions(alice, "s")
      const ghostPassword = new Password({
        id: yield* generateUlid,
        hashedPassword: "x",
        version: 1,
        upgradedFromId: Option.none(),
        createdAt: new Date(EPOCH)
      })
      const error = yield* Effect.flip(browserSessions.authenticateWithPassword(session!, ghostPassword))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      const ghostUpstream = new UpstreamOAuthAuthorizationSession({
        id: yield* generateUlid,
        state: new Pending(),
        providerId: yield* generateUlid,
        stateStr: "s",
        codeChallengeVerifier: Option.none(),
        nonce: Option.none(),
        createdAt: new Date(EPOCH)
      })
      expect(yield* Effect.flip(browserSessions.authenticateWithUpstream(session!, ghostUpstream))).toMatchObject({
        _tag: "DriverError"
      })
      expect(yield* browserSessions.getLastAuthentication(session!)).toEqual(Option.none())
    }))

  test("getLastAuthentication orders by createdAt, then id", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      const [session] = yield* addSessions(alice, "s")
      const password = yield* seedPassword(alice.id)
      const ids: Array<Ulid> = []
      // Seeded rows whose ids are in the opposite order of their createdAt: createdAt wins.
      for (const seconds of [30, 20, 10]) {
        const id = yield* generateUlid
        ids.push(id)
        yield* seed.insert("user_session_authentications", {
          user_session_authentication_id: id,
          user_session_id: session!.id,
          created_at: at(seconds),
          user_password_id: password.id,
          upstream_oauth_authorization_session_id: null
        })
        yield* TestClock.adjust(Duration.millis(5))
      }
      expect(Option.map(yield* browserSessions.getLastAuthentication(session!), (a) => a.id)).toEqual(
        Option.some(ids[0])
      )
    }))

  test("an authentication with both methods set is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* users.add("alice")
      const [session] = yield* addSessions(alice, "s")
      const password = yield* seedPassword(alice.id)
      const upstream = yield* seedUpstreamSession(yield* seedProvider, null, null)
      const id = yield* generateUlid
      yield* seed.insert("user_session_authentications", {
        user_session_authentication_id: id,
        user_session_id: session!.id,
        created_at: at(10),
        user_password_id: password.id,
        upstream_oauth_authorization_session_id: upstream.id
      })
      const error = yield* Effect.flip(browserSessions.getLastAuthentication(session!))
      expect(error._tag).toBe("InconsistencyError")
      expect(error).toMatchObject({
        table: "user_session_authentications",
        column: Option.some("upstream_oauth_authorization_session_id"),
        row: Option.some(id)
      })
      expect(error.message).toBe(
        `Database inconsistency on table user_session_authentications column upstream_oauth_authorization_session_id row ${id}`
      )
    }))

  test("a stored session with a network instead of a host address is an InconsistencyError on lookup and list, not on count", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [good] = yield* addSessions(alice, "good")
      const bad = yield* seedSession(alice.id, { lastActiveIp: "10.0.0.0/8", lastActiveAt: at(5) })
      const expected = {
        _tag: "InconsistencyError",
        table: "user_sessions",
        column: Option.some("last_active_ip"),
        row: Option.some(bad)
      }
      expect(yield* Effect.flip(browserSessions.lookup(bad))).toMatchObject(expected)
      expect(yield* Effect.flip(browserSessions.list({}, first(10)))).toMatchObject(expected)
      // A page that does not reach the bad row still reads.
      expect((yield* browserSessions.list({}, first(1))).edges.map((e) => e.node.id)).toEqual([good!.id])
      expect(yield* browserSessions.count({})).toBe(2)
    }))

  test("recordBatchActivity keeps the later instant and replaces the IP only when one is given", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1, s2, s3] = yield* addSessions(alice, "s1", "s2", "s3")
      // Entries in any order: the repository sorts them by id.
      yield* browserSessions.recordBatchActivity([
        [s3!.id, at(30), Option.none()],
        [s1!.id, at(10), Option.some(ip("192.0.2.1"))],
        [s2!.id, at(20), Option.some(ip("2001:db8::1"))]
      ])
      const r1 = yield* lookupOrThrow(s1!.id)
      expect([r1.lastActiveAt, r1.lastActiveIp]).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      const r2 = yield* lookupOrThrow(s2!.id)
      expect([r2.lastActiveAt, r2.lastActiveIp]).toEqual([Option.some(at(20)), Option.some("2001:db8::1")])
      const r3 = yield* lookupOrThrow(s3!.id)
      expect([r3.lastActiveAt, r3.lastActiveIp]).toEqual([Option.some(at(30)), Option.none()])

      yield* browserSessions.recordBatchActivity([
        [s1!.id, at(5), Option.none()], // older: the instant stays, and so does the IP
        [s2!.id, at(25), Option.some(ip("198.51.100.7"))]
      ])
      const r1b = yield* lookupOrThrow(s1!.id)
      expect([r1b.lastActiveAt, r1b.lastActiveIp]).toEqual([Option.some(at(10)), Option.some("192.0.2.1")])
      const r2b = yield* lookupOrThrow(s2!.id)
      expect([r2b.lastActiveAt, r2b.lastActiveIp]).toEqual([Option.some(at(25)), Option.some("198.51.100.7")])
      yield* browserSessions.recordBatchActivity([[s1!.id, at(1), Option.some(ip("203.0.113.9"))]])
      const r1c = yield* lookupOrThrow(s1!.id)
      expect([r1c.lastActiveAt, r1c.lastActiveIp]).toEqual([Option.some(at(10)), Option.some("203.0.113.9")])

      yield* browserSessions.recordBatchActivity([])
    }))

  test("recordBatchActivity with an unknown or repeated id is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1, s2] = yield* addSessions(alice, "s1", "s2")
      const unknown: ReadonlyArray<ActivityRecord> = [
        [s1!.id, at(10), Option.none()],
        [yield* generateUlid, at(10), Option.none()]
      ]
      expect(yield* Effect.flip(browserSessions.recordBatchActivity(unknown))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
      const repeated: ReadonlyArray<ActivityRecord> = [
        [s2!.id, at(20), Option.none()],
        [s2!.id, at(20), Option.none()]
      ]
      expect(yield* Effect.flip(browserSessions.recordBatchActivity(repeated))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 2,
        actual: 1
      })
    }))

  test("recordBatchActivity with a malformed id is an InvalidOperationError and writes nothing", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const [s1] = yield* addSessions(alice, "s1")
      for (const bad of malformedIdsLike(s1!.id)) {
        const activity: ReadonlyArray<ActivityRecord> = [
          [s1!.id, at(10), Option.some(ip("203.0.113.9"))],
          [bad, at(10), Option.none()]
        ]
        expect([bad, (yield* Effect.flip(browserSessions.recordBatchActivity(activity)))._tag]).toEqual([
          bad,
          "InvalidOperationError"
        ])
      }
      // the valid entry beside the malformed one was not written either
      expect((yield* lookupOrThrow(s1!.id)).lastActiveAt).toEqual(Option.none())
    }))

  test("cleanupFinished deletes unreferenced finished sessions in batches by finishedAt, with their authentications", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const password = yield* seedPassword(alice.id)
      const client = yield* seedClient
      // finishedAt: two at 100 (a tie across a batch boundary), 110, 120, 130 (at the cut-off), one active, and
      // two finished early but still referenced by an OAuth2 and a compat session.
      const f100a = yield* seedSession(alice.id, { finishedAt: at(100) })
      const f100b = yield* seedSession(alice.id, { finishedAt: at(100) })
      const f110 = yield* seedSession(alice.id, { finishedAt: at(110) })
      const f120 = yield* seedSession(alice.id, { finishedAt: at(120) })
      const f130 = yield* seedSession(alice.id, { finishedAt: at(130) })
      const active = yield* seedSession(alice.id, {})
      const withOAuth2 = yield* seedSession(alice.id, { finishedAt: at(50) })
      const withCompat = yield* seedSession(alice.id, { finishedAt: at(60) })
      yield* seedOAuth2Session(alice.id, withOAuth2, client)
      yield* seedCompatSession(alice.id, withCompat)
      const f100aSession = yield* lookupOrThrow(f100a)
      yield* browserSessions.authenticateWithPassword(f100aSession, password)

      const until = at(130)
      const batches: Array<readonly [number, Option.Option<Date>]> = []
      let since = Option.none<Date>()
      for (;;) {
        const [count, lastKey] = yield* browserSessions.cleanupFinished(since, until, 2)
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
      for (const id of [f100a, f100b, f110, f120]) expect(yield* browserSessions.lookup(id)).toEqual(Option.none())
      for (const id of [f130, active, withOAuth2, withCompat])
        expect(Option.isSome(yield* browserSessions.lookup(id))).toBe(true)
      expect(yield* browserSessions.getLastAuthentication(f100aSession)).toEqual(Option.none())
      expect(yield* browserSessions.cleanupFinished(Option.none(), until, 10)).toEqual([0, Option.none()])
    }))

  test("cleanupFinished: since is inclusive, until exclusive, limit 0 deletes nothing, a negative limit is refused", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const a = yield* seedSession(alice.id, { finishedAt: at(100) })
      const b = yield* seedSession(alice.id, { finishedAt: at(100) })
      const c = yield* seedSession(alice.id, { finishedAt: at(200) })
      expect(yield* browserSessions.cleanupFinished(Option.some(at(100)), at(200), 0)).toEqual([0, Option.none()])
      expect(yield* Effect.flip(browserSessions.cleanupFinished(Option.none(), at(200), -1))).toMatchObject({
        _tag: "InvalidOperationError"
      })
      expect(yield* browserSessions.cleanupFinished(Option.some(at(101)), at(200), 10)).toEqual([0, Option.none()])
      // The first of the two rows sharing 100 goes (id order breaks the tie); the rerun from 100 takes the other.
      expect(yield* browserSessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([
        1,
        Option.some(at(100))
      ])
      expect(yield* browserSessions.lookup(a)).toEqual(Option.none())
      expect(Option.isSome(yield* browserSessions.lookup(b))).toBe(true)
      expect(yield* browserSessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([
        1,
        Option.some(at(100))
      ])
      expect(yield* browserSessions.cleanupFinished(Option.some(at(100)), at(200), 1)).toEqual([0, Option.none()])
      expect(yield* browserSessions.cleanupFinished(Option.some(at(100)), new Date(at(200).getTime() + 1), 5)).toEqual([
        1,
        Option.some(at(200))
      ])
      expect(yield* browserSessions.lookup(c)).toEqual(Option.none())
    }))

  test("a device-code grant names its browser session by a plain reference: cleanupFinished is refused (23503) rather than deleting the grant", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* repos.users.add("alice")
      const client = yield* seedClient
      const unnamed = yield* seedSession(alice.id, { finishedAt: at(100) })
      const named = yield* seedSession(alice.id, { finishedAt: at(100) })
      yield* seedDeviceCodeGrant(client, named)
      const refused = yield* Effect.flip(
        repos.transaction(repos.browserSessions.cleanupFinished(Option.none(), at(200), 10))
      )
      expect(refused).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503"),
        constraint: Option.some("oauth2_device_code_grant_user_session_id_fkey")
      })
      for (const id of [unnamed, named]) expect(Option.isSome(yield* repos.browserSessions.lookup(id))).toBe(true)
      // The batch that stops before the named session goes through; the named one is refused again.
      expect(yield* repos.browserSessions.cleanupFinished(Option.none(), at(200), 1)).toEqual([1, Option.some(at(100))])
      expect(yield* Effect.flip(repos.browserSessions.cleanupFinished(Option.none(), at(200), 1))).toMatchObject({
        sqlState: Option.some("23503")
      })
      expect(Option.isSome(yield* repos.browserSessions.lookup(named))).toBe(true)
    }))

  test("cleanupInactiveIps clears the IP of sessions last active before the threshold, in batches by lastActiveAt", () =>
    Effect.gen(function* () {
      const { browserSessions, users } = yield* RepositoryAccess
      const alice = yield* users.add("alice")
      const a = yield* seedSession(alice.id, { lastActiveAt: at(10), lastActiveIp: "192.0.2.1" })
      const b = yield* seedSession(alice.id, { lastActiveAt: at(10), lastActiveIp: "192.0.2.2" })
      const c = yield* seedSession(alice.id, { lastActiveAt: at(20), lastActiveIp: "2001:db8::2" })
      const noIp = yield* seedSession(alice.id, { lastActiveAt: at(15), lastActiveIp: null })
      const recent = yield* seedSession(alice.id, {
        lastActiveAt: at(40),
        lastActiveIp: "192.0.2.4",
        finishedAt: at(41)
      })
      const never = yield* seedSession(alice.id, {})
      const atThreshold = yield* seedSession(alice.id, { lastActiveAt: at(30), lastActiveIp: "192.0.2.5" })

      const threshold = at(30)
      const first1 = yield* browserSessions.cleanupInactiveIps(Option.none(), threshold, 2)
      expect(first1).toEqual([2, Option.some(at(10))])
      const second = yield* browserSessions.cleanupInactiveIps(first1[1], threshold, 2)
      expect(second).toEqual([1, Option.some(at(20))])
      expect(yield* browserSessions.cleanupInactiveIps(Option.none(), threshold, 2)).toEqual([0, Option.none()])

      for (const id of [a, b, c]) {
        const s = yield* lookupOrThrow(id)
        expect(s.lastActiveIp).toEqual(Option.none())
        expect(Option.isSome(s.lastActiveAt)).toBe(true)
      }
      expect((yield* lookupOrThrow(noIp)).lastActiveIp).toEqual(Option.none())
      expect((yield* lookupOrThrow(recent)).lastActiveIp).toEqual(Option.some("192.0.2.4"))
      expect((yield* lookupOrThrow(atThreshold)).lastActiveIp).toEqual(Option.some("192.0.2.5"))
      expect((yield* lookupOrThrow(never)).lastActiveAt).toEqual(Option.none())
      expect(yield* browserSessions.cleanupInactiveIps(Option.some(at(30)), at(50), 10)).toEqual([
        2,
        Option.some(at(40))
      ])
      expect(yield* Effect.flip(browserSessions.cleanupInactiveIps(Option.none(), threshold, 1.5))).toMatchObject({
        _tag: "InvalidOperationError"
      })
    }))
})
