// Hostile inputs on the user-family repositories, on both backends: each gets its typed error (or correct behaviour) and changes nothing.
import { expect } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import type { Ulid } from "../../src/model/Ulid.js"
import type { DatabaseError } from "../../src/storage/common/errors.js"
import { Pagination } from "../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../src/storage/RepositoryAccess.js"
import { contract } from "../contract/backends.js"
import { expectEachToFail } from "../contract/refusals.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const everything = first(1000)

/** Every row of the four repositories the inputs could reach, to show that nothing changed. */
const snapshot = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  return {
    users: (yield* repos.users.list({}, everything)).nodes,
    emails: (yield* repos.userEmails.list({}, everything)).nodes,
    sessions: (yield* repos.browserSessions.list({}, everything)).nodes,
    tokens: (yield* repos.userRegistrationTokens.list({ now: new Date(0) }, everything)).nodes
  }
})

/** Some rows of each kind, so that a wrong match or a stray write would show. */
const seed = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  const alice = yield* repos.users.add("alice")
  const bob = yield* repos.users.add("bob")
  yield* repos.userEmails.add(alice, "alice@example.com")
  yield* repos.browserSessions.add(bob, Option.some("Mozilla/5.0"))
  yield* repos.userRegistrationTokens.add("token", Option.none(), Option.none())
  return { alice, bob }
})

/** A string of `length` letters from a simple generator: not compressible, unlike a repeated character. */
const incompressible = (length: number, salt = 1): string => {
  let state = 2463534242 + salt
  const out: Array<string> = []
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out.push(String.fromCharCode(97 + ((state >>> 0) % 26)))
  }
  return out.join("")
}

const MALFORMED = [
  "not-a-ulid",
  "",
  "01FSHN9AG0ZZZZZZZZZZZZZZZZ0",
  "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
  "01fshn9ag0ab1c2d3e4f5g6h7j"
] as unknown as ReadonlyArray<Ulid>

contract("Hostile inputs: ids that are not ULIDs", (test) => {
  test("lookups by a malformed id are an InvalidOperationError, not a crash nor a silent none", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      yield* seed
      const before = yield* snapshot
      for (const bad of MALFORMED) {
        const attempts: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
          repos.users.lookup(bad),
          repos.userEmails.lookup(bad),
          repos.userEmails.lookupAuthentication(bad),
          repos.browserSessions.lookup(bad),
          repos.userRegistrationTokens.lookup(bad),
          repos.userRegistrations.lookup(bad),
          repos.userRecovery.lookupSession(bad)
        ]
        for (const [i, attempt] of attempts.entries()) {
          const result = yield* Effect.either(attempt)
          expect([bad, i, Either.isLeft(result) ? result.left._tag : "success"]).toEqual([
            bad,
            i,
            "InvalidOperationError"
          ])
        }
      }
      expect(yield* snapshot).toEqual(before)
    }))

  test("a malformed id in a filter is an InvalidOperationError from list, count and the bulk writes; nothing changes", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice, bob } = yield* seed
      const before = yield* snapshot
      // The owners' own ids made malformed too: PostgreSQL used to read a 27-character id as its first 26.
      for (const bad of [...MALFORMED, `${alice.id}0` as Ulid, `${bob.id}0` as Ulid]) {
        yield* expectEachToFail("InvalidOperationError", [
          [`users.list ${bad}`, repos.users.list({ activeOAuth2SessionForAnyOfClients: [bad] }, everything)],
          [`users.count ${bad}`, repos.users.count({ activeOAuth2SessionForAnyOfClients: [bad] })],
          [`userEmails.list ${bad}`, repos.userEmails.list({ user: bad }, everything)],
          [`userEmails.count ${bad}`, repos.userEmails.count({ user: bad })],
          [`userEmails.removeBulk ${bad}`, repos.userEmails.removeBulk({ user: bad })],
          [`browserSessions.list ${bad}`, repos.browserSessions.list({ user: bad }, everything)],
          [`browserSessions.count ${bad}`, repos.browserSessions.count({ user: bad })],
          [`browserSessions.finishBulk ${bad}`, repos.browserSessions.finishBulk({ user: bad })],
          [
            `browserSessions.finishBulk provider ${bad}`,
            repos.browserSessions.finishBulk({ linkedToUpstreamSessions: { provider: bad } })
          ]
        ])
      }
      expect(yield* snapshot).toEqual(before)
    }))

  test("a malformed pagination cursor is an InvalidOperationError; a lowercase one is read as its canonical form", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice, bob } = yield* seed
      const bad = "not-a-ulid" as Ulid
      for (const pagination of [first(10).withAfter(bad), last(10).withBefore(bad)]) {
        const attempts: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
          repos.users.list({}, pagination),
          repos.userEmails.list({}, pagination),
          repos.browserSessions.list({}, pagination),
          repos.userRegistrationTokens.list({ now: new Date(0) }, pagination)
        ]
        for (const [i, attempt] of attempts.entries()) {
          const result = yield* Effect.either(attempt)
          expect([i, Either.isLeft(result) ? result.left._tag : "success"]).toEqual([i, "InvalidOperationError"])
        }
      }
      const [low, high] = alice.id < bob.id ? [alice, bob] : [bob, alice]
      const page = yield* repos.users.list({}, first(10).withAfter(low.id.toLowerCase() as Ulid))
      expect(page.nodes).toEqual([high])
      const backward = yield* repos.users.list({}, last(10).withBefore(high.id.toLowerCase() as Ulid))
      expect(backward.nodes).toEqual([low])
    }))
})

contract("Hostile inputs: NUL bytes in every text argument", (test) => {
  test("a NUL in a username, search, token or user-agent argument is a DriverError 22021 and writes nothing", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice } = yield* seed
      const before = yield* snapshot
      const nul = "a\u0000b"
      const attempts: ReadonlyArray<Effect.Effect<unknown, DatabaseError>> = [
        repos.users.add(nul),
        repos.users.findByUsername(nul),
        repos.users.exists(nul),
        repos.users.list({ search: nul }, everything),
        repos.users.count({ search: nul }),
        repos.userEmails.add(alice, nul),
        repos.userEmails.find(alice, nul),
        repos.userEmails.findByEmail(nul),
        repos.userEmails.list({ email: nul }, everything),
        repos.userEmails.count({ email: nul }),
        repos.userEmails.removeBulk({ email: nul }),
        repos.browserSessions.add(alice, Option.some(nul)),
        repos.userRegistrationTokens.add(nul, Option.none(), Option.none()),
        repos.userRegistrationTokens.findByToken(nul),
        repos.userRecovery.findTicket(nul)
      ]
      for (const [i, attempt] of attempts.entries()) {
        const result = yield* Effect.either(attempt)
        expect([i, Either.isLeft(result) ? result.left : "success"]).toMatchObject([
          i,
          { _tag: "DriverError", sqlState: Option.some("22021") }
        ])
      }
      expect(yield* snapshot).toEqual(before)
    }))
})

contract("Hostile inputs: 1 MB strings", (test) => {
  test("a 1 MB user agent and a 1 MB search are accepted; the agent round-trips exactly", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice } = yield* seed
      const agent = incompressible(1 << 20)
      const session = yield* repos.browserSessions.add(alice, Option.some(agent))
      const read = yield* repos.browserSessions.lookup(session.id)
      expect(Option.map(read, (s) => s.userAgent)).toEqual(Option.some(Option.some(agent)))
      expect(yield* repos.users.count({ search: incompressible(1 << 20, 2) })).toBe(0)
      expect(yield* repos.users.findByUsername(incompressible(1 << 20, 3))).toEqual(Option.none())
    }))

  test("usernames over 255 bytes and emails over 320 bytes are refused alike (nothing written); the limits themselves fit", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice } = yield* seed
      const before = yield* snapshot
      // 1 MB (PostgreSQL alone would refuse it as an oversized index entry, 54000) and one byte over the limit
      for (const name of [incompressible(1 << 20, 4), "é".repeat(127) + "xy"]) {
        expect(yield* Effect.flip(repos.users.add(name))).toMatchObject({ _tag: "InvalidOperationError" })
      }
      for (const address of [`${incompressible(1 << 20, 5)}@example.com`, `${"a".repeat(309)}@example.com`]) {
        expect(yield* Effect.flip(repos.userEmails.add(alice, address))).toMatchObject({
          _tag: "InvalidOperationError"
        })
      }
      expect(yield* snapshot).toEqual(before)
      const longest = "é".repeat(127) + "x" // 255 bytes
      const user = yield* repos.users.add(longest)
      expect(Option.map(yield* repos.users.findByUsername(longest.toUpperCase()), (u) => u.id)).toEqual(
        Option.some(user.id)
      )
      const address = `${"a".repeat(308)}@example.com` // 320 bytes
      const email = yield* repos.userEmails.add(alice, address)
      expect(Option.map(yield* repos.userEmails.findByEmail(address), (e) => e.id)).toEqual(Option.some(email.id))
    }))
})

contract("Hostile inputs: Unicode normalisation, LIKE metacharacters, pagination counts", (test) => {
  const nfc = "jos\u00e9"
  const nfd = "jose\u0301"

  test("NFC and NFD spellings are distinct users and addresses; lookups ignore case but not normalisation", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const composed = yield* repos.users.add(nfc)
      const decomposed = yield* repos.users.add(nfd)
      expect(composed.id).not.toBe(decomposed.id)
      expect(Option.map(yield* repos.users.findByUsername(nfc), (u) => u.id)).toEqual(Option.some(composed.id))
      expect(Option.map(yield* repos.users.findByUsername(nfd), (u) => u.id)).toEqual(Option.some(decomposed.id))
      expect(Option.map(yield* repos.users.findByUsername("JOS\u00c9"), (u) => u.id)).toEqual(Option.some(composed.id))
      expect(yield* repos.users.count({ search: "\u00e9" })).toBe(1)
      expect(yield* repos.users.count({ search: "e\u0301" })).toBe(1)
      yield* repos.userEmails.add(composed, `${nfc}@example.com`)
      yield* repos.userEmails.add(composed, `${nfd}@example.com`)
      expect(yield* repos.userEmails.count({ email: `${nfc.toUpperCase()}@EXAMPLE.COM` })).toBe(1)
      expect(Option.map(yield* repos.userEmails.findByEmail(`${nfd}@example.com`), (e) => e.email)).toEqual(
        Option.some(`${nfd}@example.com`)
      )
    }))

  test("%, _ and \\ are matched literally by every text criterion", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const names = ["a%c", "abc", "a_c", "a\\c", "ac"]
      const users = []
      for (const name of names) users.push(yield* repos.users.add(name))
      const search = (s: string) =>
        Effect.map(repos.users.list({ search: s }, everything), (p) => p.nodes.map((u) => u.username).sort())
      expect(yield* search("%")).toEqual(["a%c"])
      expect(yield* search("_")).toEqual(["a_c"])
      expect(yield* search("\\")).toEqual(["a\\c"])
      expect(yield* search("a\\")).toEqual(["a\\c"])
      expect(yield* repos.users.count({ search: "%c" })).toBe(1)
      for (const [i, name] of names.entries()) yield* repos.userEmails.add(users[i]!, `${name}@x.org`)
      expect(yield* repos.userEmails.count({ email: "a%c@x.org" })).toBe(1)
      expect(yield* repos.userEmails.count({ email: "a_c@X.ORG" })).toBe(1)
      expect(yield* repos.userEmails.count({ email: "%@x.org" })).toBe(0)
      expect(Option.isNone(yield* repos.userEmails.findByEmail("a_c@x.org"))).toBe(false)
      expect(Option.isNone(yield* repos.userEmails.findByEmail("a%"))).toBe(true)
      expect(yield* repos.users.exists("a%")).toBe(false)
      expect(yield* repos.users.exists("A_C")).toBe(true)
      yield* repos.userRegistrationTokens.add("t_k", Option.none(), Option.none())
      expect(yield* repos.userRegistrationTokens.findByToken("t%")).toEqual(Option.none())
      expect(yield* repos.userRegistrationTokens.findByToken("tok")).toEqual(Option.none())
    }))

  test("pagination: a negative count is refused up front, 0 gives an empty page, MAX_SAFE_INTEGER reads everything", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const { alice } = yield* seed
      expect(Either.isLeft(Pagination.first(-1))).toBe(true)
      expect(Either.isLeft(Pagination.last(-1))).toBe(true)
      expect(Either.isLeft(Pagination.first(Number.MAX_SAFE_INTEGER + 1))).toBe(true)
      const lists = (p: Pagination) => [
        Effect.map(repos.users.list({}, p), (page) => [page.edges.length, page.hasNextPage, page.hasPreviousPage]),
        Effect.map(repos.userEmails.list({}, p), (page) => [page.edges.length, page.hasNextPage, page.hasPreviousPage]),
        Effect.map(repos.browserSessions.list({}, p), (page) => [
          page.edges.length,
          page.hasNextPage,
          page.hasPreviousPage
        ]),
        Effect.map(repos.userRegistrationTokens.list({ now: new Date(0) }, p), (page) => [
          page.edges.length,
          page.hasNextPage,
          page.hasPreviousPage
        ])
      ]
      // count 0 reads one row to know whether there is a page beyond.
      expect(yield* Effect.all(lists(first(0)))).toEqual([
        [0, true, false],
        [0, true, false],
        [0, true, false],
        [0, true, false]
      ])
      expect(yield* Effect.all(lists(last(0)))).toEqual([
        [0, false, true],
        [0, false, true],
        [0, false, true],
        [0, false, true]
      ])
      // LIMIT 2^53 is well inside PostgreSQL's bigint.
      const max = Number.MAX_SAFE_INTEGER
      expect(yield* Effect.all(lists(first(max)))).toEqual([
        [2, false, false],
        [1, false, false],
        [1, false, false],
        [1, false, false]
      ])
      expect(yield* Effect.all(lists(last(max).withAfter(alice.id)))).toEqual([
        [(yield* repos.users.list({}, first(max).withAfter(alice.id))).edges.length, false, false],
        [0, false, false],
        [(yield* repos.browserSessions.list({}, first(max).withAfter(alice.id))).edges.length, false, false],
        [
          (yield* repos.userRegistrationTokens.list({ now: new Date(0) }, first(max).withAfter(alice.id))).edges.length,
          false,
          false
        ]
      ])
    }))
})
