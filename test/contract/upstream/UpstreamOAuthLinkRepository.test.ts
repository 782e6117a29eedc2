// Contract suite for UpstreamOAuthLinkRepository: add with its unique (provider, subject), lookups, association, filters and pages, removal detaching the sessions, the orphan cleanup, and refused input, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Option, TestClock } from "effect"
import { generateUlid, type Ulid } from "../../../src/model/Ulid.js"
import {
  type UpstreamOAuthLink,
  type UpstreamOAuthProvider,
  UpstreamSessionConsumed,
  UpstreamSessionUnlinked
} from "../../../src/model/upstream.js"
import type { User } from "../../../src/model/user.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import {
  UpstreamOAuthLinkFilter as Filters,
  type UpstreamOAuthLinkFilter
} from "../../../src/storage/upstream/UpstreamOAuthLinkRepository.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { addBrowserSession, addUser, rolledBack } from "../oauth2/fixtures.js"
import { expectEachToFail, expectEachToFailWithoutWriting, malformedIdsLike, noRowAffected } from "../refusals.js"
import { addProvider } from "./fixtures.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const at = (millis: number) => new Date(EPOCH + millis)
const none = Option.none()
const step = TestClock.adjust(Duration.millis(10))

const LINKS = "upstream_oauth_links"
const SESSIONS = "upstream_oauth_authorization_sessions"

const dumpLinks = Effect.flatMap(Seed, (seed) => seed.dump(LINKS, "upstream_oauth_link_id"))
const dumpAll = Effect.flatMap(Seed, (seed) =>
  Effect.all([
    seed.dump(LINKS, "upstream_oauth_link_id"),
    seed.dump(SESSIONS, "upstream_oauth_authorization_session_id")
  ])
)

/** Adds links of `provider` 10 ms apart (ids in creation order), each `[subject, humanAccountName?]`. */
const addLinks = (provider: UpstreamOAuthProvider, ...links: ReadonlyArray<readonly [string, string?]>) =>
  Effect.gen(function* () {
    const { upstreamOAuthLinks } = yield* RepositoryAccess
    const added: Array<UpstreamOAuthLink> = []
    for (const [subject, name] of links) {
      added.push(yield* upstreamOAuthLinks.add(provider, subject, Option.fromNullable(name)))
      yield* step
    }
    return added
  })

/** The subjects of the listed links after checking that list and count agree and cursors are ids. */
const subjectsOf = (filter: UpstreamOAuthLinkFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { upstreamOAuthLinks } = yield* RepositoryAccess
    const page = yield* upstreamOAuthLinks.list(filter, pagination)
    const count = yield* upstreamOAuthLinks.count(filter)
    if (!page.hasNextPage && !page.hasPreviousPage) expect(count).toBe(page.edges.length)
    for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.id)
    return page.edges.map((e) => e.node.subject)
  })

/** A session of `provider` completed into `link`, consumed by a browser session of `user` when given. */
const completedSession = (provider: UpstreamOAuthProvider, link: UpstreamOAuthLink, state: string, user?: User) =>
  Effect.gen(function* () {
    const { upstreamOAuthSessions } = yield* RepositoryAccess
    const pending = yield* upstreamOAuthSessions.add(provider, state, none, none)
    const completed = yield* upstreamOAuthSessions.completeWithLink(
      pending,
      link,
      Option.some(`id-token-${state}`),
      Option.some({ sub: link.subject }),
      none,
      none
    )
    if (user === undefined) return completed
    return yield* upstreamOAuthSessions.consume(completed, yield* addBrowserSession(user))
  })

/** A browser-session authentication and a registration naming the session `sessionId`; their ids. */
const seedReferences = (user: User, sessionId: Ulid, tag: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const browserSession = yield* addBrowserSession(user)
    const authentication = yield* generateUlid
    yield* seed.insert("user_session_authentications", {
      user_session_authentication_id: authentication,
      user_session_id: browserSession.id,
      created_at: at(0),
      user_password_id: null,
      upstream_oauth_authorization_session_id: sessionId
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
      upstream_oauth_authorization_session_id: sessionId,
      hashed_password: null,
      hashed_password_version: null,
      created_at: at(0),
      completed_at: null
    })
    return { authentication, registration }
  })

/** The upstream session each stored authentication and registration names, by its id. */
const references = Effect.gen(function* () {
  const seed = yield* Seed
  const named = (table: string, idColumn: string) =>
    Effect.map(seed.dump(table, idColumn), (rows) =>
      Object.fromEntries(rows.map((row) => [row[idColumn], row.upstream_oauth_authorization_session_id]))
    )
  return {
    ...(yield* named("user_session_authentications", "user_session_authentication_id")),
    ...(yield* named("user_registrations", "user_registration_id"))
  }
})

contract("UpstreamOAuthLinkRepository", (test) => {
  test("add stores a link with id and createdAt from Clock and Random, no user; lookup returns what add returned", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks } = yield* RepositoryAccess
      const provider = yield* addProvider()
      yield* TestClock.adjust(Duration.millis(1234))
      const link = yield* upstreamOAuthLinks.add(provider, "sub-ü 👩‍💻", Option.some("Alice Äpfel"))
      expect({ ...link }).toEqual({
        id: link.id,
        providerId: provider.id,
        userId: none,
        subject: "sub-ü 👩‍💻",
        humanAccountName: Option.some("Alice Äpfel"),
        createdAt: at(1234)
      })
      expect(yield* upstreamOAuthLinks.lookup(link.id)).toEqual(Option.some(link))
      const anonymous = yield* upstreamOAuthLinks.add(provider, "", none)
      expect(anonymous.humanAccountName).toEqual(none)
      expect(yield* upstreamOAuthLinks.lookup(anonymous.id)).toEqual(Option.some(anonymous))
    }))

  test("lookup of an unknown id is none; a malformed id is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks } = yield* RepositoryAccess
      const [link] = yield* addLinks(yield* addProvider(), ["s"])
      expect(yield* upstreamOAuthLinks.lookup(yield* generateUlid)).toEqual(none)
      yield* expectEachToFail(
        "InvalidOperationError",
        malformedIdsLike(link!.id).map((id) => [id, upstreamOAuthLinks.lookup(id)] as const)
      )
    }))

  test("a (provider, subject) already stored is a RowsAffectedError that leaves the unit of work usable; a provider not stored a DriverError (23503)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const provider = yield* addProvider()
      const other = yield* addProvider({ clientId: "other" })
      const taken = yield* repos.upstreamOAuthLinks.add(provider, "taken", Option.some("first"))
      yield* repos.transaction(
        Effect.gen(function* () {
          expect(yield* Effect.flip(repos.upstreamOAuthLinks.add(provider, "taken", none))).toMatchObject(noRowAffected)
          // the pair is the key: the same subject elsewhere, or in another case, is another link
          yield* repos.upstreamOAuthLinks.add(other, "taken", none)
          yield* repos.upstreamOAuthLinks.add(provider, "Taken", none)
        })
      )
      expect(yield* repos.upstreamOAuthLinks.lookup(taken.id)).toEqual(Option.some(taken))
      expect(yield* repos.upstreamOAuthLinks.count({})).toBe(3)
      const ghost = yield* rolledBack(addProvider({ clientId: "ghost" }))
      const result = yield* Effect.either(repos.transaction(repos.upstreamOAuthLinks.add(ghost, "g", none)))
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(yield* repos.upstreamOAuthLinks.count({})).toBe(3)
    }))

  test("add refusals: malformed provider ids, unpaired surrogates and an over-long subject are InvalidOperationErrors, NUL a DriverError; nothing written", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const provider = yield* addProvider()
      yield* expectEachToFailWithoutWriting(dumpLinks, "InvalidOperationError", [
        ["subject surrogate", links.add(provider, "bad\uD800", none)],
        ["name surrogate", links.add(provider, "ok", Option.some("\uDC00x"))],
        ["subject too long", links.add(provider, "é".repeat(512) + "x", none), "1025 bytes"],
        ...malformedIdsLike(provider.id).map(
          (id) => [`provider ${id}`, links.add({ ...provider, id } as UpstreamOAuthProvider, "ok", none)] as const
        )
      ])
      yield* expectEachToFailWithoutWriting(dumpLinks, "DriverError", [
        ["subject NUL", links.add(provider, "a\u0000b", none)],
        ["name NUL", links.add(provider, "ok", Option.some("\u0000"))]
      ])
      // the bound itself is allowed
      expect((yield* links.add(provider, "é".repeat(512), none)).subject).toHaveLength(512)
    }))

  test("findBySubject finds the provider's link with exactly that subject; refusals as add's", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const other = yield* addProvider({ clientId: "other" })
      const [mine, theirs] = [...(yield* addLinks(provider, ["Subject"])), ...(yield* addLinks(other, ["Subject"]))]
      expect(yield* links.findBySubject(provider, "Subject")).toEqual(Option.some(mine))
      expect(yield* links.findBySubject(other, "Subject")).toEqual(Option.some(theirs))
      expect(yield* links.findBySubject(provider, "subject")).toEqual(none)
      expect(yield* links.findBySubject(provider, "Subjec")).toEqual(none)
      yield* expectEachToFail("InvalidOperationError", [
        ["surrogate", links.findBySubject(provider, "Subject\uD800")],
        ...malformedIdsLike(provider.id).map(
          (id) => [id, links.findBySubject({ ...provider, id } as UpstreamOAuthProvider, "Subject")] as const
        )
      ])
      yield* expectEachToFail("DriverError", [["NUL", links.findBySubject(provider, "Sub\u0000ject")]])
    }))

  test("associateToUser sets the link's user, and moves a link already associated", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const [link, untouched] = yield* addLinks(yield* addProvider(), ["a"], ["b"])
      yield* links.associateToUser(link!, alice)
      expect(yield* links.lookup(link!.id)).toEqual(Option.some({ ...link!, userId: Option.some(alice.id) }))
      // the entity passed in is not checked against the stored user, as in MAS
      yield* links.associateToUser(link!, bob)
      expect(Option.map(yield* links.lookup(link!.id), (l) => l.userId)).toEqual(Option.some(Option.some(bob.id)))
      expect(yield* links.lookup(untouched!.id)).toEqual(Option.some(untouched))
    }))

  test("associateToUser refusals: a link not stored is a RowsAffectedError, a user not stored a DriverError (23503), malformed ids InvalidOperationErrors; nothing written", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const links = repos.upstreamOAuthLinks
      const provider = yield* addProvider()
      const alice = yield* addUser("alice")
      const [link] = yield* addLinks(provider, ["a"])
      const missing = yield* rolledBack(links.add(provider, "gone", none))
      const ghost = yield* rolledBack(addUser("ghost"))
      yield* expectEachToFailWithoutWriting(dumpLinks, "InvalidOperationError", [
        ...malformedIdsLike(link!.id).map(
          (id) => [`link ${id}`, links.associateToUser({ ...link!, id } as UpstreamOAuthLink, alice)] as const
        ),
        ...malformedIdsLike(alice.id).map(
          (id) => [`user ${id}`, links.associateToUser(link!, { ...alice, id } as User)] as const
        )
      ])
      const before = yield* dumpLinks
      expect(yield* Effect.flip(links.associateToUser(missing, alice))).toMatchObject(noRowAffected)
      const result = yield* Effect.either(repos.transaction(links.associateToUser(link!, ghost)))
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(yield* dumpLinks).toEqual(before)
    }))

  test("list and count by user, provider, provider enabled or disabled, exact subject", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const links = repos.upstreamOAuthLinks
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const enabled = yield* addProvider()
      const disabled = yield* addProvider({ clientId: "disabled" })
      const [a1, , a3] = yield* addLinks(enabled, ["a1"], ["a2"], ["shared"])
      const [d1] = yield* addLinks(disabled, ["d1"], ["shared"])
      yield* links.associateToUser(a1!, alice)
      yield* links.associateToUser(d1!, alice)
      yield* links.associateToUser(a3!, bob)
      yield* repos.upstreamOAuthProviders.disable(disabled)
      expect(yield* subjectsOf(Filters.all)).toEqual(["a1", "a2", "shared", "d1", "shared"])
      expect(yield* subjectsOf(Filters.forUser(alice.id))).toEqual(["a1", "d1"])
      expect(yield* subjectsOf(Filters.forUser(bob.id))).toEqual(["shared"])
      expect(yield* subjectsOf(Filters.forUser(yield* generateUlid))).toEqual([])
      expect(yield* subjectsOf(Filters.forProvider(disabled.id))).toEqual(["d1", "shared"])
      expect(yield* subjectsOf(Filters.enabledProvidersOnly())).toEqual(["a1", "a2", "shared"])
      expect(yield* subjectsOf(Filters.disabledProvidersOnly())).toEqual(["d1", "shared"])
      expect(yield* subjectsOf(Filters.forSubject("shared"))).toEqual(["shared", "shared"])
      expect(yield* subjectsOf(Filters.forSubject("Shared"))).toEqual([])
      expect(yield* subjectsOf(Filters.forSubject("share"))).toEqual([])
      expect(yield* subjectsOf(Filters.forUser(alice.id, Filters.disabledProvidersOnly()))).toEqual(["d1"])
      expect(yield* subjectsOf(Filters.forSubject("shared", Filters.forProvider(enabled.id)))).toEqual(["shared"])
      expect(yield* subjectsOf(Filters.forProvider(enabled.id, Filters.disabledProvidersOnly()))).toEqual([])
    }))

  test("humanAccountName matches a case-insensitive substring taken literally; a link without one never matches", () =>
    Effect.gen(function* () {
      const provider = yield* addProvider()
      yield* addLinks(
        provider,
        ["plain", "Alice Example"],
        ["percent", "100% ALICE"],
        ["underscore", "al_ice"],
        ["backslash", "a\\lice"],
        ["greek", "ΣΟΦΙΑ"],
        ["nameless"]
      )
      const byName = (term: string) => subjectsOf(Filters.matchingHumanAccountName(term))
      expect(yield* byName("alice")).toEqual(["plain", "percent"])
      expect(yield* byName("ALICE EX")).toEqual(["plain"])
      expect(yield* byName("%")).toEqual(["percent"])
      expect(yield* byName("0% a")).toEqual(["percent"])
      expect(yield* byName("_")).toEqual(["underscore"])
      expect(yield* byName("a\\l")).toEqual(["backslash"])
      expect(yield* byName("σοφ")).toEqual(["greek"])
      expect(yield* byName("")).toEqual(["plain", "percent", "underscore", "backslash", "greek"])
      expect(yield* subjectsOf(Filters.matchingHumanAccountName("alice", Filters.forSubject("percent")))).toEqual([
        "percent"
      ])
    }))

  test("list pages by id: first/last, after/before cursors, hasNextPage/hasPreviousPage", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const added = yield* addLinks(yield* addProvider(), ["1"], ["2"], ["3"], ["4"], ["5"])
      const firstTwo = yield* links.list({}, first(2))
      expect(firstTwo.edges.map((e) => e.node)).toEqual(added.slice(0, 2))
      expect([firstTwo.hasPreviousPage, firstTwo.hasNextPage]).toEqual([false, true])
      const next = yield* links.list({}, first(2).withAfter(added[1]!.id))
      expect(next.edges.map((e) => e.node.subject)).toEqual(["3", "4"])
      expect(next.hasNextPage).toBe(true)
      const lastTwo = yield* links.list({}, last(2))
      expect(lastTwo.edges.map((e) => e.node.subject)).toEqual(["4", "5"])
      expect([lastTwo.hasPreviousPage, lastTwo.hasNextPage]).toEqual([true, false])
      const before = yield* links.list({}, last(2).withBefore(added[2]!.id))
      expect(before.edges.map((e) => e.node.subject)).toEqual(["1", "2"])
      expect(before.hasPreviousPage).toBe(false)
      const between = yield* links.list({}, first(10).withAfter(added[0]!.id).withBefore(added[4]!.id))
      expect(between.edges.map((e) => e.node.subject)).toEqual(["2", "3", "4"])
      expect(yield* links.count({})).toBe(5)
    }))

  test("list and count refusals: malformed ids, unpaired surrogates, a non-boolean providerEnabled and malformed cursors are InvalidOperationErrors, NUL a DriverError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const [link] = yield* addLinks(yield* addProvider(), ["s", "name"])
      const id = link!.id
      const filters: ReadonlyArray<readonly [string, UpstreamOAuthLinkFilter]> = [
        ...malformedIdsLike(id).flatMap(
          (bad) =>
            [
              [`user ${bad}`, { user: bad }],
              [`provider ${bad}`, { provider: bad }]
            ] as const
        ),
        ["subject surrogate", { subject: "s\uD800" }],
        ["name surrogate", { humanAccountName: "\uDC00" }],
        ["providerEnabled", { providerEnabled: "yes" as unknown as boolean }]
      ]
      const cursors = malformedIdsLike(id).filter((c) => c !== id.toLowerCase())
      yield* expectEachToFail("InvalidOperationError", [
        ...filters.flatMap(
          ([name, filter]) =>
            [
              [`list ${name}`, links.list(filter, first(10))],
              [`count ${name}`, links.count(filter)]
            ] as const
        ),
        ...cursors.map((c) => [`after ${c}`, links.list({}, first(10).withAfter(c))] as const),
        ...cursors.map((c) => [`before ${c}`, links.list({}, last(10).withBefore(c))] as const)
      ])
      yield* expectEachToFail("DriverError", [
        ["list subject NUL", links.list({ subject: "\u0000" }, first(10))],
        ["count name NUL", links.count({ humanAccountName: "a\u0000" })]
      ])
    }))

  test("remove detaches the link's sessions (link cleared, unlinkedAt now: they read as Unlinked) and deletes the link", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { upstreamOAuthLinks: links, upstreamOAuthSessions: sessions } = repos
      const provider = yield* addProvider()
      const alice = yield* addUser("alice")
      const [doomed, kept] = yield* addLinks(provider, ["doomed"], ["kept"])
      yield* links.associateToUser(doomed!, alice)
      const completed = yield* completedSession(provider, doomed!, "completed")
      const consumed = yield* completedSession(provider, doomed!, "consumed", alice)
      const other = yield* completedSession(provider, kept!, "other", alice)
      const pending = yield* sessions.add(provider, "pending", none, none)
      const refs = yield* seedReferences(alice, consumed.id, "consumed")
      yield* TestClock.adjust(Duration.seconds(5))
      const removedAt = new Date(yield* Clock.currentTimeMillis)
      expect(consumed.state).toBeInstanceOf(UpstreamSessionConsumed)
      yield* links.remove(doomed!)
      expect(yield* links.lookup(doomed!.id)).toEqual(none)
      expect(yield* links.lookup(kept!.id)).toEqual(Option.some(kept))
      const state = (id: Ulid) => Effect.map(sessions.lookup(id), (s) => Option.getOrThrow(s).state)
      expect(yield* state(completed.id)).toEqual(
        new UpstreamSessionUnlinked({
          completedAt: (completed.state as { completedAt: Date }).completedAt,
          consumedAt: none,
          unlinkedAt: removedAt,
          idToken: Option.some("id-token-completed"),
          idTokenClaims: Option.some({ sub: "doomed" })
        })
      )
      expect(yield* state(consumed.id)).toEqual(
        new UpstreamSessionUnlinked({
          completedAt: (consumed.state as UpstreamSessionConsumed).completedAt,
          consumedAt: Option.some((consumed.state as UpstreamSessionConsumed).consumedAt),
          unlinkedAt: removedAt,
          idToken: Option.some("id-token-consumed"),
          idTokenClaims: Option.some({ sub: "doomed" })
        })
      )
      expect(yield* state(other.id)).toEqual(other.state)
      expect(yield* state(pending.id)).toEqual(pending.state)
      // nothing naming the detached session is touched
      expect(yield* references).toEqual({ [refs.authentication]: consumed.id, [refs.registration]: consumed.id })
    }))

  test("remove of a link not stored (or removed already) is a RowsAffectedError and writes nothing; a malformed id an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const [link, kept] = yield* addLinks(provider, ["a"], ["b"])
      yield* completedSession(provider, kept!, "s")
      yield* expectEachToFailWithoutWriting(
        dumpAll,
        "InvalidOperationError",
        malformedIdsLike(link!.id).map((id) => [id, links.remove({ ...link!, id } as UpstreamOAuthLink)] as const)
      )
      yield* links.remove(link!)
      const before = yield* dumpAll
      expect(yield* Effect.flip(links.remove(link!))).toMatchObject(noRowAffected)
      expect(yield* Effect.flip(links.remove(yield* rolledBack(links.add(provider, "ghost", none))))).toMatchObject(
        noRowAffected
      )
      expect(yield* dumpAll).toEqual(before)
    }))

  test("cleanupOrphaned deletes links without user in (since, until], in id order up to the limit, with their sessions; references to those are cleared", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links, upstreamOAuthSessions: sessions } = yield* RepositoryAccess
      const provider = yield* addProvider()
      const alice = yield* addUser("alice")
      const [o1, owned, o2, o3, o4] = yield* addLinks(provider, ["o1"], ["owned"], ["o2"], ["o3"], ["o4"])
      yield* links.associateToUser(owned!, alice)
      const doomedSession = yield* completedSession(provider, o2!, "doomed")
      const keptSession = yield* completedSession(provider, owned!, "kept", alice)
      const pending = yield* sessions.add(provider, "pending", none, none)
      const gone = yield* seedReferences(alice, doomedSession.id, "gone")
      const stays = yield* seedReferences(alice, keptSession.id, "stays")
      const [count, lastId] = yield* links.cleanupOrphaned(Option.some(o1!.id), o4!.id, 2)
      expect([count, lastId]).toEqual([2, Option.some(o3!.id)])
      expect((yield* subjectsOf({})).sort()).toEqual(["o1", "o4", "owned"])
      expect(yield* sessions.lookup(doomedSession.id)).toEqual(none)
      expect(Option.isSome(yield* sessions.lookup(keptSession.id))).toBe(true)
      expect(Option.isSome(yield* sessions.lookup(pending.id))).toBe(true)
      expect(yield* references).toEqual({
        [gone.authentication]: null,
        [gone.registration]: null,
        [stays.authentication]: keptSession.id,
        [stays.registration]: keptSession.id
      })
      // the next round goes on from the last id; the associated link is never taken
      expect(yield* links.cleanupOrphaned(lastId, o4!.id, 10)).toEqual([1, Option.some(o4!.id)])
      expect(yield* links.cleanupOrphaned(none, o4!.id, 10)).toEqual([1, Option.some(o1!.id)])
      expect(yield* links.cleanupOrphaned(none, o4!.id, 10)).toEqual([0, none])
      expect(yield* subjectsOf({})).toEqual(["owned"])
    }))

  test("cleanupOrphaned refusals: a bad limit or a malformed bound is an InvalidOperationError and deletes nothing; limit 0 deletes nothing", () =>
    Effect.gen(function* () {
      const { upstreamOAuthLinks: links } = yield* RepositoryAccess
      const [link] = yield* addLinks(yield* addProvider(), ["orphan"])
      const until = link!.id
      yield* expectEachToFailWithoutWriting(dumpLinks, "InvalidOperationError", [
        ["negative", links.cleanupOrphaned(none, until, -1)],
        ["fraction", links.cleanupOrphaned(none, until, 1.5)],
        ["NaN", links.cleanupOrphaned(none, until, Number.NaN)],
        ...malformedIdsLike(until).flatMap(
          (bad) =>
            [
              [`until ${bad}`, links.cleanupOrphaned(none, bad, 10)],
              [`since ${bad}`, links.cleanupOrphaned(Option.some(bad), until, 10)]
            ] as const
        )
      ])
      expect(yield* links.cleanupOrphaned(none, until, 0)).toEqual([0, none])
      expect(yield* links.count({})).toBe(1)
    }))
})
