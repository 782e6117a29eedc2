// Contract suite for UserEmailRepository: addresses, email-code authentications and their codes, on PostgreSQL and in memory.
import { expect } from "@effect/vitest"
import { Duration, Effect, Either, Option, TestClock } from "effect"
import { Pending } from "../../../src/model/common.js"
import { UpstreamOAuthAuthorizationSession } from "../../../src/model/upstream.js"
import {
  BrowserSession,
  User,
  type UserEmail,
  UserEmailAuthentication,
  UserRegistration
} from "../../../src/model/user.js"
import { generateUlid, maxUlidAt, type Ulid, ulidTimestamp } from "../../../src/model/Ulid.js"
import { Pagination } from "../../../src/storage/common/Pagination.js"
import { RepositoryAccess } from "../../../src/storage/RepositoryAccess.js"
import type { UserEmailFilter } from "../../../src/storage/user/UserEmailRepository.js"
import { Seed } from "../../support/seed.js"
import { contract, EPOCH } from "../backends.js"
import { expectEachToFail, malformedIdsLike } from "../refusals.js"

const first = (n: number) => Either.getOrThrow(Pagination.first(n))
const last = (n: number) => Either.getOrThrow(Pagination.last(n))
const second = Duration.seconds(1)

const addUser = (username: string) => Effect.flatMap(RepositoryAccess, (r) => r.users.add(username))

/** Adds addresses one second apart, so their ids are in the given order. */
const addEmails = (entries: ReadonlyArray<readonly [User, string]>) =>
  Effect.gen(function* () {
    const { userEmails } = yield* RepositoryAccess
    const added: Array<UserEmail> = []
    for (const [user, email] of entries) {
      added.push(yield* userEmails.add(user, email))
      yield* TestClock.adjust(second)
    }
    return added
  })

const listEmails = (filter: UserEmailFilter, pagination = first(100)) =>
  Effect.gen(function* () {
    const { userEmails } = yield* RepositoryAccess
    const page = yield* userEmails.list(filter, pagination)
    return page.edges.map((e) => e.node.email)
  })

/** A browser session row (its repository is another's) and the entity the methods take. */
const seedBrowserSession = (user: User) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = new Date(ulidTimestamp(id))
    yield* seed.insert("user_sessions", {
      user_session_id: id,
      user_id: user.id,
      created_at: createdAt,
      finished_at: null,
      user_agent: null,
      last_active_at: null,
      last_active_ip: null
    })
    return new BrowserSession({
      id,
      user,
      createdAt,
      finishedAt: Option.none(),
      userAgent: Option.none(),
      lastActiveAt: Option.none(),
      lastActiveIp: Option.none()
    })
  })

/** A pending registration row and its entity. */
const seedRegistration = (username: string, emailAuthenticationId: Ulid | null = null) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const id = yield* generateUlid
    const createdAt = new Date(ulidTimestamp(id))
    yield* seed.insert("user_registrations", {
      user_registration_id: id,
      ip_address: null,
      user_agent: null,
      post_auth_action: null,
      username,
      display_name: null,
      terms_url: null,
      email_authentication_id: emailAuthenticationId,
      user_registration_token_id: null,
      upstream_oauth_authorization_session_id: null,
      hashed_password: null,
      hashed_password_version: null,
      created_at: createdAt,
      completed_at: null
    })
    return new UserRegistration({
      id,
      username,
      displayName: Option.none(),
      termsUrl: Option.none(),
      emailAuthenticationId: Option.fromNullable(emailAuthenticationId),
      userRegistrationTokenId: Option.none(),
      password: Option.none(),
      upstreamOAuthAuthorizationSessionId: Option.none(),
      postAuthAction: Option.none(),
      ipAddress: Option.none(),
      userAgent: Option.none(),
      createdAt,
      completedAt: Option.none()
    })
  })

/** The upstream session is only the caller's proof: an entity suffices, no row is needed. */
const upstreamProof = Effect.map(
  generateUlid,
  (id) =>
    new UpstreamOAuthAuthorizationSession({
      id,
      state: new Pending(),
      providerId: id,
      stateStr: "state",
      codeChallengeVerifier: Option.none(),
      nonce: Option.none(),
      createdAt: new Date(EPOCH)
    })
)

/** A recovery session with one ticket for the address (the recovery repository is another's). */
const seedRecoveryTicket = (userEmail: UserEmail, ticket: string) =>
  Effect.gen(function* () {
    const seed = yield* Seed
    const sessionId = yield* generateUlid
    const ticketId = yield* generateUlid
    yield* seed.insert("user_recovery_sessions", {
      user_recovery_session_id: sessionId,
      email: userEmail.email,
      user_agent: "test",
      ip_address: null,
      locale: "en",
      created_at: new Date(EPOCH),
      consumed_at: null
    })
    const row = {
      user_recovery_ticket_id: ticketId,
      user_recovery_session_id: sessionId,
      user_email_id: userEmail.id,
      ticket,
      created_at: new Date(EPOCH),
      expires_at: new Date(EPOCH + 600_000)
    }
    yield* seed.insert("user_recovery_tickets", row)
    return row
  })

/** A stored user that is not in the database any more (its unit of work was rolled back). */
const ghostUser = Effect.gen(function* () {
  const repos = yield* RepositoryAccess
  return yield* repos.transaction(Effect.flatMap(repos.users.add("ghost"), (u) => Effect.fail(u))).pipe(
    Effect.flip,
    Effect.map((e) => e as User)
  )
})

contract("UserEmailRepository", (test) => {
  // -------------------------------------------------------------------------------------------
  // Addresses

  test("add stores an address whose id and createdAt come from Clock and Random; lookup finds it", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      yield* TestClock.adjust(second)
      const email = yield* userEmails.add(alice, "Alice@Example.com")
      expect(email.userId).toBe(alice.id)
      expect(email.email).toBe("Alice@Example.com")
      expect(email.createdAt.getTime()).toBe(EPOCH + 1000)
      expect(ulidTimestamp(email.id)).toBe(EPOCH + 1000)
      expect(yield* userEmails.lookup(email.id)).toEqual(Option.some(email))
      expect(yield* userEmails.lookup(yield* generateUlid)).toEqual(Option.none())
    }))

  test("the same address twice for a user is a second row, as in MAS; find returns the older one", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const original = yield* userEmails.add(alice, "alice@example.com")
      yield* TestClock.adjust(second)
      const duplicate = yield* userEmails.add(alice, "alice@example.com")
      expect(duplicate.id > original.id).toBe(true)
      expect(yield* userEmails.lookup(duplicate.id)).toEqual(Option.some(duplicate))
      expect(yield* userEmails.find(alice, "alice@example.com")).toEqual(Option.some(original))
      const upper = yield* userEmails.add(alice, "ALICE@example.com")
      yield* userEmails.add(bob, "alice@example.com")
      expect(yield* userEmails.count({})).toBe(4)
      expect(yield* userEmails.count({ user: alice.id })).toBe(3)
      // By address in code-point order, the same address in id order.
      expect((yield* userEmails.all(alice)).map((e) => e.id)).toEqual([upper.id, original.id, duplicate.id])
    }))

  test("a duplicate inside a unit of work is stored and the unit commits", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      yield* repos.transaction(
        Effect.gen(function* () {
          yield* repos.userEmails.add(alice, "one@example.com")
          yield* repos.userEmails.add(alice, "one@example.com")
          yield* repos.users.add("bob")
        })
      )
      expect(yield* repos.userEmails.count({ user: alice.id, email: "one@example.com" })).toBe(2)
      expect(yield* repos.users.exists("bob")).toBe(true)
    }))

  test("add for a user that is not stored is a DriverError (foreign key)", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const ghost = yield* ghostUser
      const error = yield* Effect.flip(userEmails.add(ghost, "ghost@example.com"))
      expect(error).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23503") })
      expect(yield* userEmails.count({})).toBe(0)
    }))

  test("find compares case-insensitively within the user, also for non-ASCII addresses", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const [a, b] = yield* addEmails([
        [alice, "Alice@Example.com"],
        [alice, "ÉLODIE.ΣΟΦΊΑ@Exemple.fr"]
      ])
      yield* addEmails([[bob, "bob@example.com"]])
      expect(yield* userEmails.find(alice, "alice@EXAMPLE.COM")).toEqual(Option.some(a!))
      expect(yield* userEmails.find(alice, "élodie.σοφία@exemple.FR")).toEqual(Option.some(b!))
      expect(yield* userEmails.find(alice, "bob@example.com")).toEqual(Option.none())
      expect(yield* userEmails.find(bob, "alice@example.com")).toEqual(Option.none())
      expect(yield* userEmails.find(alice, "alice@example")).toEqual(Option.none())
    }))

  test("find among case variants of one user: the exact-case one, else the oldest", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const [upper, lower] = yield* addEmails([
        [alice, "ALICE@example.com"],
        [alice, "alice@example.com"]
      ])
      expect(yield* userEmails.find(alice, "alice@example.com")).toEqual(Option.some(lower!))
      expect(yield* userEmails.find(alice, "ALICE@example.com")).toEqual(Option.some(upper!))
      expect(yield* userEmails.find(alice, "Alice@Example.com")).toEqual(Option.some(upper!))
    }))

  test("findByEmail is case-insensitive across users and none when zero or several match", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const [unique, , , nonAscii, greek] = yield* addEmails([
        [alice, "alice@example.com"],
        [alice, "shared@example.com"],
        [bob, "SHARED@example.com"],
        [bob, "ĲSSEL.STRAßE@Example.de"],
        [bob, "ΟΔΥΣΣΕΥΣ@example.gr"]
      ])
      expect(yield* userEmails.findByEmail("ALICE@example.com")).toEqual(Option.some(unique!))
      expect(yield* userEmails.findByEmail("ĳssel.straße@example.DE")).toEqual(Option.some(nonAscii!))
      // LOWER maps every Σ to σ (no final-sigma rule), so only the σ spelling matches, on both backends.
      expect(yield* userEmails.findByEmail("οδυσσευσ@example.gr")).toEqual(Option.some(greek!))
      expect(yield* userEmails.findByEmail("οδυσσευς@example.gr")).toEqual(Option.none())
      expect(yield* userEmails.find(bob, "ΟΔΥΣΣΕΥΣ@EXAMPLE.GR")).toEqual(Option.some(greek!))
      expect(yield* userEmails.findByEmail("shared@example.com")).toEqual(Option.none())
      expect(yield* userEmails.findByEmail("nobody@example.com")).toEqual(Option.none())
    }))

  test("all lists the user's addresses by email in code-point order", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      // Insertion order differs from email order; U+FF41 sorts before U+1F600 by code point (not by UTF-16 unit).
      yield* addEmails([
        [alice, "\u{1F600}@example.com"],
        [alice, "b@example.com"],
        [bob, "a@example.com"],
        [alice, "\uFF41@example.com"],
        [alice, "B@example.com"],
        [alice, "é@example.com"],
        [alice, "a@example.com"]
      ])
      const emails = (yield* userEmails.all(alice)).map((e) => e.email)
      expect(emails).toEqual([
        "B@example.com",
        "a@example.com",
        "b@example.com",
        "é@example.com",
        "\uFF41@example.com",
        "\u{1F600}@example.com"
      ])
      expect((yield* userEmails.all(bob)).map((e) => e.email)).toEqual(["a@example.com"])
      expect(yield* userEmails.all(yield* ghostUser)).toEqual([])
    }))

  test("list pages forward and backward in id order, at the edges, and count agrees", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const empty = yield* userEmails.list({}, first(3))
      expect(empty.edges).toEqual([])
      expect([empty.hasNextPage, empty.hasPreviousPage]).toEqual([false, false])
      expect((yield* userEmails.list({}, last(3))).edges).toEqual([])

      const all = yield* addEmails(["e1", "e2", "e3", "e4", "e5"].map((e) => [alice, `${e}@x.org`] as const))
      const names = (p: { edges: ReadonlyArray<{ node: UserEmail }> }) => p.edges.map((e) => e.node.email.slice(0, 2))
      expect(yield* userEmails.count({})).toBe(5)

      const p1 = yield* userEmails.list({}, first(2))
      expect(names(p1)).toEqual(["e1", "e2"])
      expect([p1.hasNextPage, p1.hasPreviousPage]).toEqual([true, false])
      expect(p1.edges.map((e) => e.cursor)).toEqual([all[0]!.id, all[1]!.id])
      expect(p1.edges[0]!.node).toEqual(all[0]!)
      const p2 = yield* userEmails.list({}, first(2).pipe(Pagination.after(p1.edges[1]!.cursor)))
      expect(names(p2)).toEqual(["e3", "e4"])
      expect([p2.hasNextPage, p2.hasPreviousPage]).toEqual([true, false])
      const p3 = yield* userEmails.list({}, first(2).pipe(Pagination.after(p2.edges[1]!.cursor)))
      expect(names(p3)).toEqual(["e5"])
      expect([p3.hasNextPage, p3.hasPreviousPage]).toEqual([false, false])

      const exact = yield* userEmails.list({}, first(5))
      expect([names(exact).length, exact.hasNextPage]).toEqual([5, false])
      const oneMore = yield* userEmails.list({}, first(4))
      expect([names(oneMore).length, oneMore.hasNextPage]).toEqual([4, true])
      const afterLast = yield* userEmails.list({}, first(2).pipe(Pagination.after(all[4]!.id)))
      expect([afterLast.edges.length, afterLast.hasNextPage]).toEqual([0, false])

      const back = yield* userEmails.list({}, last(2))
      expect(names(back)).toEqual(["e4", "e5"])
      expect([back.hasNextPage, back.hasPreviousPage]).toEqual([false, true])
      const backBefore = yield* userEmails.list({}, last(2).pipe(Pagination.before(all[3]!.id)))
      expect(names(backBefore)).toEqual(["e2", "e3"])
      expect(backBefore.hasPreviousPage).toBe(true)
      const backExact = yield* userEmails.list({}, last(5))
      expect([names(backExact).length, backExact.hasPreviousPage]).toEqual([5, false])
      const backOneMore = yield* userEmails.list({}, last(4))
      expect([names(backOneMore), backOneMore.hasPreviousPage]).toEqual([["e2", "e3", "e4", "e5"], true])
      const beforeFirst = yield* userEmails.list({}, last(2).pipe(Pagination.before(all[0]!.id)))
      expect([beforeFirst.edges.length, beforeFirst.hasPreviousPage]).toEqual([0, false])

      const between = yield* userEmails.list(
        {},
        first(10).pipe(Pagination.after(all[0]!.id), Pagination.before(all[4]!.id))
      )
      expect(names(between)).toEqual(["e2", "e3", "e4"])
      const zero = yield* userEmails.list({}, first(0))
      expect([zero.edges.length, zero.hasNextPage]).toEqual([0, true])
    }))

  test("user and email filters, alone and combined, drive list and count alike", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      yield* addEmails([
        [alice, "Alice@Example.com"],
        [bob, "alice@example.com"],
        [alice, "other@example.com"],
        [bob, "ÖRJAN@Example.se"],
        [bob, "bob@example.com"]
      ])
      const check = (filter: UserEmailFilter, expected: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          expect(yield* listEmails(filter)).toEqual(expected)
          expect(yield* userEmails.count(filter)).toBe(expected.length)
        })
      yield* check({}, [
        "Alice@Example.com",
        "alice@example.com",
        "other@example.com",
        "ÖRJAN@Example.se",
        "bob@example.com"
      ])
      yield* check({ user: alice.id }, ["Alice@Example.com", "other@example.com"])
      yield* check({ user: bob.id }, ["alice@example.com", "ÖRJAN@Example.se", "bob@example.com"])
      yield* check({ email: "ALICE@EXAMPLE.COM" }, ["Alice@Example.com", "alice@example.com"])
      yield* check({ email: "örjan@example.SE" }, ["ÖRJAN@Example.se"])
      yield* check({ email: "alice@" }, [])
      yield* check({ user: alice.id, email: "alice@example.com" }, ["Alice@Example.com"])
      yield* check({ user: bob.id, email: "other@example.com" }, [])
      yield* check({ user: yield* generateUlid }, [])
      // A filter and a page together: bob's addresses one at a time, both directions.
      const bobFirst = yield* userEmails.list({ user: bob.id }, first(1))
      expect([bobFirst.edges.map((e) => e.node.email), bobFirst.hasNextPage]).toEqual([["alice@example.com"], true])
      const bobSecond = yield* userEmails.list(
        { user: bob.id },
        first(1).pipe(Pagination.after(bobFirst.edges[0]!.cursor))
      )
      expect([bobSecond.edges.map((e) => e.node.email), bobSecond.hasNextPage]).toEqual([["ÖRJAN@Example.se"], true])
      const bobLast = yield* userEmails.list({ user: bob.id, email: "BOB@example.com" }, last(1))
      expect([bobLast.edges.map((e) => e.node.email), bobLast.hasPreviousPage]).toEqual([["bob@example.com"], false])
      const bobBack = yield* userEmails.list({ user: bob.id }, last(2))
      expect([bobBack.edges.map((e) => e.node.email), bobBack.hasPreviousPage]).toEqual([
        ["ÖRJAN@Example.se", "bob@example.com"],
        true
      ])
    }))

  test("remove deletes the address with its recovery tickets; removing it again is a RowsAffectedError", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const [doomed, kept] = yield* addEmails([
        [alice, "doomed@example.com"],
        [alice, "kept@example.com"]
      ])
      const ticket = yield* seedRecoveryTicket(doomed!, "ticket-1")
      yield* userEmails.remove(doomed!)
      expect(yield* userEmails.lookup(doomed!.id)).toEqual(Option.none())
      expect(yield* userEmails.lookup(kept!.id)).toEqual(Option.some(kept!))
      expect(yield* Effect.flip(userEmails.remove(doomed!))).toMatchObject({
        _tag: "RowsAffectedError",
        expected: 1,
        actual: 0
      })
      // The ticket went with its address: the same ticket row (same id, same unique ticket) can be stored again.
      yield* seed.insert("user_recovery_tickets", { ...ticket, user_email_id: kept!.id })
    }))

  test("removeBulk deletes exactly the matching addresses (and their tickets), returning their number", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const bob = yield* addUser("bob")
      const [a1, , , b2] = yield* addEmails([
        [alice, "one@example.com"],
        [alice, "two@example.com"],
        [bob, "ONE@example.com"],
        [bob, "Ünïcode@example.com"],
        [bob, "three@example.com"]
      ])
      const ticket = yield* seedRecoveryTicket(a1!, "ticket-a1")
      expect(yield* userEmails.removeBulk({ user: bob.id, email: "one@EXAMPLE.com" })).toBe(1)
      expect(yield* userEmails.removeBulk({ email: "üNÏCODE@example.com" })).toBe(1)
      expect(yield* userEmails.lookup(b2!.id)).toEqual(Option.none())
      expect(yield* userEmails.removeBulk({ email: "nobody@example.com" })).toBe(0)
      expect(yield* userEmails.removeBulk({ user: alice.id })).toBe(2)
      expect(yield* listEmails({})).toEqual(["three@example.com"])
      yield* seed.insert("user_recovery_tickets", {
        ...ticket,
        user_email_id: (yield* userEmails.add(alice, "new@example.com")).id
      })
      expect(yield* userEmails.removeBulk({})).toBe(2)
      expect(yield* userEmails.count({})).toBe(0)
    }))

  test("a malformed user id in the filter is an InvalidOperationError from list, count and removeBulk; nothing is deleted", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      yield* addEmails([
        [alice, "one@example.com"],
        [alice, "two@example.com"]
      ])
      yield* repos.transaction(
        Effect.gen(function* () {
          for (const bad of malformedIdsLike(alice.id)) {
            for (const filter of [{ user: bad }, { user: bad, email: "one@example.com" }]) {
              yield* expectEachToFail("InvalidOperationError", [
                [`list ${JSON.stringify(filter)}`, repos.userEmails.list(filter, first(10))],
                [`count ${JSON.stringify(filter)}`, repos.userEmails.count(filter)],
                [`removeBulk ${JSON.stringify(filter)}`, repos.userEmails.removeBulk(filter)]
              ])
            }
          }
          // Refused before anything was sent: the unit of work goes on.
          yield* repos.userEmails.add(alice, "three@example.com")
        })
      )
      expect(yield* listEmails({ user: alice.id })).toEqual(["one@example.com", "two@example.com", "three@example.com"])
    }))

  test("NUL in text is a DriverError on every method that takes text, and nothing is written", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const kept = yield* userEmails.add(alice, "kept@example.com")
      const bad = "a\u0000b@example.com"
      const expectDriverError = (effect: Effect.Effect<unknown, { readonly _tag: string }>) =>
        Effect.map(Effect.flip(effect), (e) =>
          expect(e).toMatchObject({ _tag: "DriverError", sqlState: Option.some("22021") })
        )
      yield* expectDriverError(userEmails.add(alice, bad))
      yield* expectDriverError(userEmails.find(alice, bad))
      yield* expectDriverError(userEmails.findByEmail(bad))
      yield* expectDriverError(userEmails.list({ email: bad }, first(10)))
      yield* expectDriverError(userEmails.count({ email: bad }))
      yield* expectDriverError(userEmails.removeBulk({ email: bad }))
      const session = yield* seedBrowserSession(alice)
      yield* expectDriverError(userEmails.addAuthenticationForSession(bad, session))
      const authentication = yield* userEmails.addAuthenticationForSession("kept@example.com", session)
      yield* expectDriverError(userEmails.addAuthenticationCode(Duration.minutes(5), authentication, "12\u00003456"))
      yield* expectDriverError(userEmails.findAuthenticationCode(authentication, "12\u00003456"))
      expect(yield* listEmails({})).toEqual([kept.email])
      expect(yield* userEmails.findAuthenticationCode(authentication, "12")).toEqual(Option.none())
    }))

  // -------------------------------------------------------------------------------------------
  // Authentications and codes

  test("addAuthenticationForSession and ForRegistration store a pending authentication; lookupAuthentication reads it", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* seedBrowserSession(alice)
      const registration = yield* seedRegistration("newcomer")
      yield* TestClock.adjust(second)
      const forSession = yield* userEmails.addAuthenticationForSession("Alice@Example.com", session)
      expect(forSession.userSessionId).toEqual(Option.some(session.id))
      expect(forSession.userRegistrationId).toEqual(Option.none())
      expect(forSession.email).toBe("Alice@Example.com")
      expect(forSession.createdAt.getTime()).toBe(EPOCH + 1000)
      expect(ulidTimestamp(forSession.id)).toBe(EPOCH + 1000)
      expect(forSession.completedAt).toEqual(Option.none())
      expect(forSession.isCompleted).toBe(false)
      const forRegistration = yield* userEmails.addAuthenticationForRegistration("new@example.com", registration)
      expect(forRegistration.userSessionId).toEqual(Option.none())
      expect(forRegistration.userRegistrationId).toEqual(Option.some(registration.id))
      expect(yield* userEmails.lookupAuthentication(forSession.id)).toEqual(Option.some(forSession))
      expect(yield* userEmails.lookupAuthentication(forRegistration.id)).toEqual(Option.some(forRegistration))
      expect(yield* userEmails.lookupAuthentication(yield* generateUlid)).toEqual(Option.none())
    }))

  test("an authentication for a session or registration that is not stored is a DriverError (foreign key)", () =>
    Effect.gen(function* () {
      const repos = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* repos.transaction(Effect.flatMap(seedBrowserSession(alice), (s) => Effect.fail(s))).pipe(
        Effect.flip,
        Effect.map((e) => e as BrowserSession)
      )
      const registration = yield* repos
        .transaction(Effect.flatMap(seedRegistration("ghost"), (r) => Effect.fail(r)))
        .pipe(
          Effect.flip,
          Effect.map((e) => e as UserRegistration)
        )
      expect(yield* Effect.flip(repos.userEmails.addAuthenticationForSession("a@example.com", session))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
      expect(
        yield* Effect.flip(repos.userEmails.addAuthenticationForRegistration("a@example.com", registration))
      ).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
    }))

  test("addAuthenticationCode expires after the duration; findAuthenticationCode matches code and authentication exactly", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* seedBrowserSession(alice)
      const authentication = yield* userEmails.addAuthenticationForSession("alice@example.com", session)
      const other = yield* userEmails.addAuthenticationForSession("alice@example.com", session)
      yield* TestClock.adjust(second)
      const code = yield* userEmails.addAuthenticationCode(Duration.minutes(10), authentication, "ABC123")
      expect(code.userEmailAuthenticationId).toBe(authentication.id)
      expect(code.code).toBe("ABC123")
      expect(code.createdAt.getTime()).toBe(EPOCH + 1000)
      expect(code.expiresAt.getTime()).toBe(EPOCH + 1000 + 600_000)
      expect(code.isValid(new Date(EPOCH + 600_000))).toBe(true)
      expect(code.isValid(code.expiresAt)).toBe(false)
      expect(yield* userEmails.findAuthenticationCode(authentication, "ABC123")).toEqual(Option.some(code))
      expect(yield* userEmails.findAuthenticationCode(authentication, "abc123")).toEqual(Option.none())
      expect(yield* userEmails.findAuthenticationCode(other, "ABC123")).toEqual(Option.none())
      // A second code (re-sent) for the same authentication, and the same code for another one.
      const resent = yield* userEmails.addAuthenticationCode(Duration.millis(1500), authentication, "XYZ789")
      expect(resent.expiresAt.getTime()).toBe(EPOCH + 1000 + 1500)
      const same = yield* userEmails.addAuthenticationCode(Duration.minutes(10), other, "ABC123")
      expect(yield* userEmails.findAuthenticationCode(other, "ABC123")).toEqual(Option.some(same))
      expect(yield* userEmails.findAuthenticationCode(authentication, "XYZ789")).toEqual(Option.some(resent))
    }))

  test("a duplicate code for one authentication is a DriverError; an unrepresentable expiry is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const authentication = yield* userEmails.addAuthenticationForSession(
        "a@example.com",
        yield* seedBrowserSession(alice)
      )
      const original = yield* userEmails.addAuthenticationCode(Duration.minutes(5), authentication, "123456")
      yield* TestClock.adjust(second)
      const duplicate = yield* Effect.flip(
        userEmails.addAuthenticationCode(Duration.minutes(5), authentication, "123456")
      )
      expect(duplicate).toMatchObject({ _tag: "DriverError", sqlState: Option.some("23505") })
      expect(yield* userEmails.findAuthenticationCode(authentication, "123456")).toEqual(Option.some(original))
      const infinite = yield* Effect.flip(userEmails.addAuthenticationCode(Duration.infinity, authentication, "654321"))
      expect(infinite._tag).toBe("InvalidOperationError")
      const tooFar = yield* Effect.flip(userEmails.addAuthenticationCode(Duration.days(1e9), authentication, "654321"))
      expect(tooFar._tag).toBe("InvalidOperationError")
      expect(yield* userEmails.findAuthenticationCode(authentication, "654321")).toEqual(Option.none())
      // A code for an authentication that is not stored: foreign key.
      const ghost = new UserEmailAuthentication({ ...authentication, id: yield* generateUlid })
      expect(yield* Effect.flip(userEmails.addAuthenticationCode(Duration.minutes(5), ghost, "1"))).toMatchObject({
        _tag: "DriverError",
        sqlState: Option.some("23503")
      })
    }))

  for (const proof of ["code", "upstream"] as const) {
    const completeWith = (authentication: UserEmailAuthentication) =>
      Effect.gen(function* () {
        const { userEmails } = yield* RepositoryAccess
        if (proof === "upstream")
          return yield* userEmails.completeAuthenticationWithUpstream(authentication, yield* upstreamProof)
        const code = yield* userEmails.addAuthenticationCode(
          Duration.minutes(5),
          authentication,
          `code-${(yield* generateUlid).slice(-6)}`
        )
        return yield* userEmails.completeAuthenticationWithCode(authentication, code)
      })

    test(`completeAuthenticationWith${proof === "code" ? "Code" : "Upstream"} stamps now once; a completed entity is refused before any write`, () =>
      Effect.gen(function* () {
        const { userEmails } = yield* RepositoryAccess
        const alice = yield* addUser("alice")
        const authentication = yield* userEmails.addAuthenticationForSession(
          "a@example.com",
          yield* seedBrowserSession(alice)
        )
        yield* TestClock.adjust(Duration.minutes(1))
        const completed = yield* completeWith(authentication)
        expect(completed.completedAt).toEqual(Option.some(new Date(EPOCH + 60_000)))
        expect(completed.isCompleted).toBe(true)
        expect({ ...completed, completedAt: Option.none() }).toEqual({ ...authentication })
        expect(yield* userEmails.lookupAuthentication(authentication.id)).toEqual(Option.some(completed))

        yield* TestClock.adjust(Duration.minutes(1))
        const refused = yield* Effect.flip(completeWith(completed))
        expect(refused._tag).toBe("InvalidOperationError")
        const cause = refused._tag === "InvalidOperationError" ? Option.getOrThrow(refused.cause) : undefined
        expect(cause).toMatchObject({ _tag: "InvalidTransition", entity: "UserEmailAuthentication", from: "Completed" })
        expect(yield* userEmails.lookupAuthentication(authentication.id)).toEqual(Option.some(completed))
      }))

    test(`completeAuthenticationWith${proof === "code" ? "Code" : "Upstream"} is guarded: a stale pending entity or a missing row is a RowsAffectedError`, () =>
      Effect.gen(function* () {
        const { userEmails } = yield* RepositoryAccess
        const authentication = yield* userEmails.addAuthenticationForRegistration(
          "a@example.com",
          yield* seedRegistration("reg")
        )
        const completed = yield* completeWith(authentication)
        yield* TestClock.adjust(Duration.minutes(1))
        // The caller still holds the pending value: the database guard refuses and keeps the first stamp.
        expect(yield* Effect.flip(completeWith(authentication))).toMatchObject({
          _tag: "RowsAffectedError",
          expected: 1,
          actual: 0
        })
        expect(yield* userEmails.lookupAuthentication(authentication.id)).toEqual(Option.some(completed))
        const missing = new UserEmailAuthentication({ ...authentication, id: yield* generateUlid })
        const error = yield* Effect.flip(
          proof === "upstream"
            ? Effect.flatMap(upstreamProof, (p) => userEmails.completeAuthenticationWithUpstream(missing, p))
            : Effect.flatMap(userEmails.addAuthenticationCode(Duration.minutes(5), authentication, "other"), (code) =>
                userEmails.completeAuthenticationWithCode(missing, code)
              )
        )
        expect(error).toMatchObject({ _tag: "RowsAffectedError", expected: 1, actual: 0 })
        expect(yield* userEmails.lookupAuthentication(missing.id)).toEqual(Option.none())
      }))
  }

  test("cleanupAuthentications deletes since < id <= until in batches, with codes, until fewer than limit come back", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const session = yield* seedBrowserSession(alice)
      const auths: Array<UserEmailAuthentication> = []
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(second)
        const auth =
          i === 3
            ? yield* userEmails.addAuthenticationForRegistration(
                `r${i}@example.com`,
                yield* seedRegistration(`reg${i}`)
              )
            : yield* userEmails.addAuthenticationForSession(`s${i}@example.com`, session)
        auths.push(i === 1 ? yield* userEmails.completeAuthenticationWithUpstream(auth, yield* upstreamProof) : auth)
      }
      const code = yield* userEmails.addAuthenticationCode(Duration.minutes(5), auths[0]!, "000000")
      // A registration pointing at an authentication does not keep it (the link is cleared).
      yield* seedRegistration("linked", auths[2]!.id)
      yield* TestClock.adjust(Duration.minutes(10))
      const later = yield* userEmails.addAuthenticationForSession("later@example.com", session)

      // The cut-off: everything created up to the fifth authentication's millisecond.
      const until = maxUlidAt(auths[4]!.createdAt)
      expect(yield* userEmails.cleanupAuthentications(Option.none(), until, 0)).toEqual([0, Option.none()])
      const r1 = yield* userEmails.cleanupAuthentications(Option.none(), until, 2)
      expect(r1).toEqual([2, Option.some(auths[1]!.id)])
      const r2 = yield* userEmails.cleanupAuthentications(r1[1], until, 2)
      expect(r2).toEqual([2, Option.some(auths[3]!.id)])
      const r3 = yield* userEmails.cleanupAuthentications(r2[1], until, 2)
      expect(r3).toEqual([1, Option.some(auths[4]!.id)])
      const r4 = yield* userEmails.cleanupAuthentications(r3[1], until, 2)
      expect(r4).toEqual([0, Option.none()])

      for (const a of auths) expect(yield* userEmails.lookupAuthentication(a.id)).toEqual(Option.none())
      expect(yield* userEmails.lookupAuthentication(later.id)).toEqual(Option.some(later))
      // The code went with its authentication: its row (same id) can be stored again under `later`.
      yield* seed.insert("user_email_authentication_codes", {
        user_email_authentication_code_id: code.id,
        user_email_authentication_id: later.id,
        code: code.code,
        created_at: code.createdAt,
        expires_at: code.expiresAt
      })
      expect(Option.map(yield* userEmails.findAuthenticationCode(later, "000000"), (c) => c.id)).toEqual(
        Option.some(code.id)
      )
    }))

  test("cleanupAuthentications: since is exclusive, until inclusive; a negative limit is an InvalidOperationError", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const alice = yield* addUser("alice")
      const session = yield* seedBrowserSession(alice)
      const auths: Array<UserEmailAuthentication> = []
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust(second)
        auths.push(yield* userEmails.addAuthenticationForSession(`s${i}@example.com`, session))
      }
      expect(yield* userEmails.cleanupAuthentications(Option.some(auths[0]!.id), auths[2]!.id, 10)).toEqual([
        2,
        Option.some(auths[2]!.id)
      ])
      expect(yield* userEmails.lookupAuthentication(auths[0]!.id)).toEqual(Option.some(auths[0]!))
      expect(yield* userEmails.lookupAuthentication(auths[3]!.id)).toEqual(Option.some(auths[3]!))
      expect((yield* Effect.flip(userEmails.cleanupAuthentications(Option.none(), auths[3]!.id, -1)))._tag).toBe(
        "InvalidOperationError"
      )
      expect(yield* userEmails.lookupAuthentication(auths[0]!.id)).toEqual(Option.some(auths[0]!))
    }))

  // -------------------------------------------------------------------------------------------
  // Inconsistent stored rows

  test("a stored address with an instant a Date cannot hold is an InconsistencyError naming table, column and row", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const good = yield* userEmails.add(alice, "good@example.com")
      yield* TestClock.adjust(second)
      const id = yield* generateUlid
      yield* seed.insert("user_emails", {
        user_email_id: id,
        user_id: alice.id,
        email: "bad@example.com",
        created_at: "infinity"
      })
      const expected = {
        _tag: "InconsistencyError",
        table: "user_emails",
        column: Option.some("created_at"),
        row: Option.some(id)
      }
      expect(yield* Effect.flip(userEmails.lookup(id))).toMatchObject(expected)
      expect(yield* Effect.flip(userEmails.find(alice, "BAD@example.com"))).toMatchObject(expected)
      expect(yield* Effect.flip(userEmails.findByEmail("bad@example.com"))).toMatchObject(expected)
      expect(yield* Effect.flip(userEmails.all(alice))).toMatchObject(expected)
      expect(yield* Effect.flip(userEmails.list({}, first(10)))).toMatchObject(expected)
      expect((yield* Effect.flip(userEmails.list({}, last(10))))._tag).toBe("InconsistencyError")
      // Rows off the page are not decoded, and count never decodes.
      expect((yield* userEmails.list({}, first(1))).edges.map((e) => e.node)).toEqual([good])
      expect(yield* userEmails.count({})).toBe(2)
      expect(yield* userEmails.lookup(good.id)).toEqual(Option.some(good))
    }))

  test("stored authentications and codes with impossible instants are InconsistencyErrors", () =>
    Effect.gen(function* () {
      const { userEmails } = yield* RepositoryAccess
      const seed = yield* Seed
      const alice = yield* addUser("alice")
      const session = yield* seedBrowserSession(alice)
      const authId = yield* generateUlid
      yield* seed.insert("user_email_authentications", {
        user_email_authentication_id: authId,
        user_session_id: session.id,
        user_registration_id: null,
        email: "a@example.com",
        created_at: new Date(EPOCH),
        completed_at: "-infinity"
      })
      expect(yield* Effect.flip(userEmails.lookupAuthentication(authId))).toMatchObject({
        _tag: "InconsistencyError",
        table: "user_email_authentications",
        column: Option.some("completed_at"),
        row: Option.some(authId)
      })
      const good = yield* userEmails.addAuthenticationForSession("b@example.com", session)
      const codeId = yield* generateUlid
      yield* seed.insert("user_email_authentication_codes", {
        user_email_authentication_code_id: codeId,
        user_email_authentication_id: good.id,
        code: "111111",
        created_at: new Date(EPOCH),
        expires_at: "infinity"
      })
      expect(yield* Effect.flip(userEmails.findAuthenticationCode(good, "111111"))).toMatchObject({
        _tag: "InconsistencyError",
        table: "user_email_authentication_codes",
        column: Option.some("expires_at"),
        row: Option.some(codeId)
      })
    }))
})
